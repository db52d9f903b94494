"""The figures form: a period and a scope, read from the query string so a report is a link."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput
from reports.selectors import ScopeChoices

MAX_PERIOD_DAYS = 5 * 366


class FiguresForm(forms.Form):
    # The query-string names of the issue: ?from=...&to=...&employer=...&department=...
    from_ = forms.DateField(label=_("From"), widget=DateInput())
    to = forms.DateField(label=_("To"), widget=DateInput())
    employer = forms.UUIDField(label=_("Employer"), required=False, widget=forms.Select)
    department = forms.UUIDField(
        label=_("Department (with its sub-departments)"), required=False, widget=forms.Select
    )

    def __init__(self, data: Any, *, choices: ScopeChoices, today: date) -> None:
        defaults = {"from": date(today.year, 1, 1).isoformat(), "to": today.isoformat()}
        super().__init__({**defaults, **data.dict()} if data is not None else defaults)
        self.today = today
        # The field is called `from` in the URL (a Python keyword, hence `from_` here).
        self.fields["from"] = self.fields.pop("from_")
        self.order_fields(["from", "to", "employer", "department"])
        employer_widget = self.fields["employer"].widget
        department_widget = self.fields["department"].widget
        assert isinstance(employer_widget, forms.Select)  # noqa: S101 - declared above
        assert isinstance(department_widget, forms.Select)  # noqa: S101
        employer_widget.choices = [("", _("All you may see"))] + [
            (str(employer.key), employer.name) for employer in choices.employers
        ]
        several = len(choices.employers) > 1
        department_widget.choices = [("", _("All departments"))] + [
            (
                str(department.key),
                "\u2003" * department.depth
                + (f"{department.employer.name}: " if several and not department.depth else "")
                + department.name,
            )
            for department in choices.departments
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end:
            if end < start:
                self.add_error("to", _("The period must end on or after its first day."))
            elif end > self.today:
                self.add_error("to", _("Figures cannot reach beyond today."))
            elif end - start > timedelta(days=MAX_PERIOD_DAYS):
                self.add_error("from", _("A period can be at most five years."))
        return cleaned
