"""{% figure figures "absence_percentage" %}: a figure with two decimals in the active
language's format, or "—" with its reason when the group is too small."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from reports.figures import MIN_GROUP_SIZE, Figures

register = template.Library()


def suppressed_mark() -> SafeString:
    return format_html(
        '<span class="suppressed" title="{reason}">—<span class="visually-hidden"> {reason}'
        "</span></span>",
        reason=_("(fewer than %(count)s employees: no figure)") % {"count": MIN_GROUP_SIZE},
    )


@register.simple_tag
def figure(figures: Figures, name: str, argument: str = "", places: int = 2) -> Any:
    if figures.suppressed:
        return suppressed_mark()
    attribute = getattr(figures, name)
    value = attribute(argument) if callable(attribute) else attribute
    if isinstance(value, dict):
        value = value.get(argument, 0)
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return floatformat(value, "0g")
    return floatformat(Decimal(value), f"{places}g")
