from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from auth2fa.models import User
from core.forms import field_of
from employees.models import Employee

POSTCODE = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{0,2})\s*$")


def normalise_postcode(value: str) -> str:
    """ "1234 ab" -> "1234AB" (how postcodes are stored)."""
    match = POSTCODE.match(value)
    if not match:
        return value.strip().upper().replace(" ", "")
    return f"{match.group(1)}{match.group(2).upper()}"


class EmployeeSearchForm(forms.Form):
    """Search and sort for the employee list; every field optional."""

    SORTS = {
        "surname": ("surname", "first_name"),
        "-surname": ("-surname", "-first_name"),
        "personnel_number": ("personnel_number",),
        "-personnel_number": ("-personnel_number",),
        "birth_date": ("birth_date",),
        "-birth_date": ("-birth_date",),
        "postcode": ("postcode",),
        "-postcode": ("-postcode",),
        "employer": ("employer__name", "surname"),
        "-employer": ("-employer__name", "surname"),
    }

    surname = forms.CharField(label=_("Surname"), required=False, max_length=150)
    personnel_number = forms.CharField(label=_("Personnel number"), required=False, max_length=30)
    birth_date = forms.DateField(
        label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=7)
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in SORTS], widget=forms.HiddenInput
    )

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"]
        return normalise_postcode(value) if value else ""

    def has_criteria(self) -> bool:
        return any(
            self.cleaned_data.get(name)
            for name in ("surname", "personnel_number", "birth_date", "postcode")
        )

    def apply(self, employees: QuerySet[Employee]) -> QuerySet[Employee]:
        data = self.cleaned_data
        if data.get("surname"):
            term = data["surname"].strip()
            employees = employees.filter(
                Q(surname__icontains=term) | Q(surname_prefix__icontains=term)
            )
        if data.get("personnel_number"):
            employees = employees.filter(
                personnel_number__istartswith=data["personnel_number"].strip()
            )
        if data.get("birth_date"):
            employees = employees.filter(birth_date=data["birth_date"])
        if data.get("postcode"):
            employees = employees.filter(postcode__startswith=data["postcode"])
        return employees.order_by(*self.SORTS[data.get("sort") or "surname"], "pk")


class UserChoiceField(forms.ModelChoiceField):
    """Users by their name (not by __str__, which is pseudonymous on purpose)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class CaseManagerForm(forms.Form):
    case_manager = UserChoiceField(label=_("Case manager"), queryset=User.objects.none())

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "case_manager", UserChoiceField).queryset = candidates
