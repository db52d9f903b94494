"""Forms of the retention screens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from cases.models import AbsenceCase
from domains.models import Department, Employer
from employees.models import Employee
from retention.models import (
    ALLOWED_START_EVENTS,
    MAX_YEARS,
    Category,
    HoldReason,
    StartEvent,
    Term,
)
from retention.services import check_term


class PolicyForm(forms.Form):
    """One years field and one start-event field per category."""

    second_person_above = forms.IntegerField(
        label=_("A second person approves a deletion of more than this many employees"),
        min_value=0,
        max_value=100_000,
        required=False,
    )

    def __init__(
        self, *args: Any, terms: dict[str, Term], second_person_above: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["second_person_above"].initial = second_person_above
        self.rows = []
        for category in Category:
            term = terms[category]
            years = forms.IntegerField(
                label=_("Years"), min_value=1, max_value=MAX_YEARS, initial=term.years
            )
            start = forms.ChoiceField(
                label=_("Counted from"),
                choices=[(e, StartEvent(e).label) for e in ALLOWED_START_EVENTS[category]],
                initial=term.start_event,
            )
            self.fields[f"{category}_years"] = years
            self.fields[f"{category}_start"] = start
            self.rows.append((category.label, self[f"{category}_years"], self[f"{category}_start"]))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for term in self.terms():
            try:
                check_term(term)
            except ValidationError as error:
                self.add_error(f"{term.category}_years", error)
        return data

    def terms(self) -> list[Term]:
        return [
            Term(
                category,
                self.cleaned_data[f"{category}_years"],
                self.cleaned_data[f"{category}_start"],
            )
            for category in Category.values
            if f"{category}_years" in self.cleaned_data and f"{category}_start" in self.cleaned_data
        ]


class CaseChoiceField(forms.ModelChoiceField):
    """Cases by their first sick day (nothing else about them)."""

    def label_from_instance(self, obj: Any) -> str:
        return _("Absence from %(date)s") % {"date": date_format(obj.first_sick_day)}


class HoldForm(forms.Form):
    case = CaseChoiceField(
        label=_("Absence case"),
        queryset=AbsenceCase.unscoped.none(),
        required=False,
        empty_label=_("All of the employee's data"),
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=HoldReason.choices)
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, employee: Employee, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["case"]
        assert isinstance(field, CaseChoiceField)  # noqa: S101 - narrows the type
        field.queryset = AbsenceCase.objects.filter(employee=employee)


class OverviewFilterForm(forms.Form):
    PAST_CHOICES = [
        ("0", _("Past its term")),
        ("90", _("More than 3 months past")),
        ("365", _("More than a year past")),
        ("730", _("More than two years past")),
    ]

    employer = forms.ModelChoiceField(
        label=_("Employer"), queryset=Employer.unscoped.none(), required=False
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.unscoped.none(), required=False
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", _("All"))] + Category.choices, required=False
    )
    past = forms.ChoiceField(label=_("How long past"), choices=PAST_CHOICES, required=False)

    def __init__(self, *args: Any, tenant: Any, categories: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)  # noqa: S101 - narrows the type
        category.choices = [("", _("All"))] + [
            (value, label) for value, label in Category.choices if value in categories
        ]
        employer = self.fields["employer"]
        department = self.fields["department"]
        assert isinstance(employer, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        assert isinstance(department, forms.ModelChoiceField)  # noqa: S101
        employer.queryset = Employer.objects.filter(tenant=tenant)
        department.queryset = Department.objects.filter(tenant=tenant).select_related("employer")


class ConfirmDeletionForm(forms.Form):
    typed = forms.CharField(label=_("Type the confirmation"), max_length=50)
