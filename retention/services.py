"""Writes of the retention app: the tenant's terms."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from retention.models import (
    ALLOWED_START_EVENTS,
    LEGAL_MAXIMUM_YEARS,
    LEGAL_MINIMUM_YEARS,
    Category,
    RetentionTerm,
    Term,
)
from retention.selectors import terms_of


def check_term(term: Term) -> None:
    """Refuse a term the law does not allow for its category (ValidationError)."""
    label = Category(term.category).label
    minimum = LEGAL_MINIMUM_YEARS.get(term.category)
    if minimum is not None and term.years < minimum:
        raise ValidationError(
            _("%(category)s must be kept at least %(years)d years.")
            % {"category": label, "years": minimum}
        )
    maximum = LEGAL_MAXIMUM_YEARS.get(term.category)
    if maximum is not None and term.years > maximum:
        raise ValidationError(
            _("%(category)s may be kept at most %(years)d years; a legal hold keeps it longer.")
            % {"category": label, "years": maximum}
        )
    if term.start_event not in ALLOWED_START_EVENTS[term.category]:
        raise ValidationError(
            _("%(category)s cannot be counted from that event.") % {"category": label}
        )


@transaction.atomic
def save_terms(*, tenant: Any, terms: list[Term]) -> list[str]:
    """Store the tenant's terms; returns the categories that changed. Only changed terms are
    written, so change capture records exactly those (one audit event each)."""
    for term in terms:
        check_term(term)
    current = terms_of(tenant)
    changed = []
    for term in terms:
        if current[term.category] == term:
            continue
        RetentionTerm.objects.update_or_create(
            tenant=tenant,
            category=term.category,
            defaults={"years": term.years, "start_event": term.start_event},
        )
        changed.append(term.category)
    return changed
