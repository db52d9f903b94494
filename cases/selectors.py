"""Reads of absence cases, through the same visibility rule as employees (domains/visibility.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import (
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from auth2fa.models import User
from cases.models import DURATION_CLASS_DAYS, AbsenceCase, Milestone
from domains.permissions import Perm
from employees.selectors import access_from_row, visible_employees, with_access

WORKLIST_DAYS_AHEAD = 14


def cases_visible_to(user: User, perm: str = Perm.CASE_VIEW) -> QuerySet[AbsenceCase]:
    return AbsenceCase.objects.filter(
        employee_id__in=visible_employees(user, perm).values("pk")
    ).select_related("employee", "employee__employer", "employee__department")


def visible_case_with_access(
    user: User, key: Any, perm: str = Perm.CASE_VIEW
) -> tuple[AbsenceCase, frozenset[str]] | None:
    """The case with this key if the user holds `perm` on it, and every permission the user
    holds on it, in one query (None when not visible: the caller answers 404)."""
    queryset, granted = with_access(cases_visible_to(user, perm), user, prefix="employee__")
    case = queryset.filter(key=key).first()
    if case is None:
        return None
    return case, access_from_row(case, granted)


def with_list_facts(cases: QuerySet[AbsenceCase]) -> QuerySet[AbsenceCase]:
    """Adds `has_overdue` and `end_or_today` so the list needs no query per row."""
    today = timezone.localdate()
    overdue = Milestone.objects.filter(
        case_id=OuterRef("pk"),
        done_on__isnull=True,
        due_on__lt=today,
        case__recovered_on__isnull=True,
    )
    return cases.annotate(
        has_overdue=Exists(overdue),
        end_or_today=Coalesce(
            "recovered_on", Value(today + timedelta(days=1)), output_field=DateField()
        ),
    )


def filter_duration_class(
    cases: QuerySet[AbsenceCase], duration_class: str
) -> QuerySet[AbsenceCase]:
    low, high = DURATION_CLASS_DAYS[duration_class]
    length = ExpressionWrapper(
        F("end_or_today") - F("first_sick_day"), output_field=DurationField()
    )
    cases = cases.alias(length_days=length)
    condition = Q(length_days__gte=timedelta(days=low))
    if high is not None:
        condition &= Q(length_days__lte=timedelta(days=high))
    return cases.filter(condition)


def worklist_for(user: User) -> QuerySet[Milestone]:
    """Due and overdue steps of open cases the user may manage, soonest first."""
    horizon = timezone.localdate() + timedelta(days=WORKLIST_DAYS_AHEAD)
    return (
        Milestone.objects.filter(
            case__in=cases_visible_to(user, Perm.CASE_MANAGE).filter(recovered_on__isnull=True),
            done_on__isnull=True,
            due_on__lte=horizon,
        )
        .select_related("case", "case__employee", "case__employee__employer")
        .order_by("due_on", "kind")
    )
