"""How a view shows a service's refusal: on the form it belongs to, else as a message."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def show_errors(
    request: HttpRequest, error: ValidationError, form: forms.BaseForm | None = None
) -> None:
    """Field errors land on their fields (unknown fields: on the form as a whole); without a
    form, each message becomes a message on the next page."""
    if form is None:
        for message in error.messages:
            messages.error(request, message)
        return
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            for field_error in field_errors:
                form.add_error(field if field in form.fields else None, field_error)
    else:
        for text in error.messages:
            form.add_error(None, text)


class DateInput(forms.DateInput):
    """The browser's date picker. It takes only ISO dates (yyyy-mm-dd) as its value, so the
    value is never rendered in the active language's format: a Dutch "01-01-1980" would be
    dropped by the browser, and an edit form would come back with its dates empty."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


FieldT = TypeVar("FieldT", bound=forms.Field)


def field_of(form: forms.BaseForm, name: str, kind: type[FieldT]) -> FieldT:
    """A form's field as the kind it was declared (to set its queryset or choices, typed)."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field
