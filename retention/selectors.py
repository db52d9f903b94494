"""Reads of retention settings and results, scoped to a tenant or to a user's visibility."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from auth2fa.models import User
from domains.permissions import Perm
from domains.visibility import NOTHING, access_of
from employees.models import Employee
from employees.selectors import employees_visible_to, visible_employees
from retention.models import (
    DEFAULT_TERMS,
    Category,
    DeletionRequest,
    LegalHold,
    RetentionDue,
    RetentionSettings,
    RetentionTerm,
    Term,
)

DEFAULT_SECOND_PERSON_ABOVE = 25


def terms_of(tenant: Any) -> dict[str, Term]:
    """Every category's term for the tenant: its own where saved, the legal default otherwise."""
    terms = dict(DEFAULT_TERMS)
    for row in RetentionTerm.objects.filter(tenant_id=getattr(tenant, "pk", tenant)):
        terms[row.category] = row.term
    return {category: terms[category] for category in Category.values}


def employee_for_retention(user: User, key: Any) -> Employee | None:
    """The employee with this key if the user may manage its retention (else None: 404)."""
    return employees_visible_to(user, Perm.RETENTION_MANAGE).filter(key=key).first()


def holds_of(employee: Employee) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(employee=employee).select_related("case")


def hold_for_retention(user: User, key: Any) -> LegalHold | None:
    """A hold on an employee the user may manage the retention of (else None: 404)."""
    visible = visible_employees(user, Perm.RETENTION_MANAGE)
    return (
        LegalHold.objects.filter(employee__in=visible, key=key)
        .select_related("employee", "case")
        .first()
    )


def _due_condition(user: User) -> Q:
    """Which scan results the user may see: the werkgever right reaches every category but the
    medical file, the bedrijfsarts right only the medical file (each on its visible employees)."""
    access = access_of(user)
    condition = NOTHING
    if Perm.RETENTION_MANAGE in access.permissions:
        reach = access.employee_filter(Perm.RETENTION_MANAGE, prefix="employee__")
        if reach != NOTHING:
            condition |= reach & ~Q(category=Category.MEDICAL)
    if Perm.RETENTION_MEDICAL in access.permissions:
        reach = access.employee_filter(Perm.RETENTION_MEDICAL, prefix="employee__")
        if reach != NOTHING:
            condition |= reach & Q(category=Category.MEDICAL)
    return condition


def categories_visible_to(user: User) -> list[str]:
    """The categories the user's retention rights reach, for the filter."""
    permissions = access_of(user).permissions
    categories = []
    if Perm.RETENTION_MANAGE in permissions:
        categories += [c for c in Category.values if c != Category.MEDICAL]
    if Perm.RETENTION_MEDICAL in permissions:
        categories.append(Category.MEDICAL)
    return categories


def due_visible_to(user: User) -> QuerySet[RetentionDue]:
    """Scan results the user may see, with their employee's employer and department."""
    condition = _due_condition(user)
    if condition == NOTHING:
        return RetentionDue.unscoped.none()
    return (
        RetentionDue.objects.filter(tenant_id=user.tenant_id)
        .filter(condition)
        .select_related("employee__employer", "employee__department")
    )


def past_term(
    queryset: QuerySet[RetentionDue], *, today: date, min_days_past: int = 0
) -> QuerySet[RetentionDue]:
    """Results whose deletable date has come (at least `min_days_past` days ago)."""
    return queryset.filter(deletable_on__lte=today - timedelta(days=min_days_past))


def due_employee(user: User, key: Any) -> tuple[Employee, list[RetentionDue]] | None:
    """The employee and the scan results the user may see of it (None: 404)."""
    rows = list(due_visible_to(user).filter(employee__key=key).order_by("category"))
    if rows:
        return rows[0].employee, rows
    for perm in (Perm.RETENTION_MANAGE, Perm.RETENTION_MEDICAL):  # not scanned yet
        employee = employees_visible_to(user, perm).filter(key=key).first()
        if employee is not None:
            return employee, []
    return None


def second_person_above(tenant_id: int) -> int:
    """Above how many employees a deletion needs a second person (the tenant's setting)."""
    row = RetentionSettings.objects.filter(tenant_id=tenant_id).first()
    return row.second_person_above if row else DEFAULT_SECOND_PERSON_ABOVE


def deletions_visible_to(user: User) -> QuerySet[DeletionRequest]:
    """Deletion requests of the user's tenant that the user asked for, or whose categories the
    user's retention rights cover (the possible second persons; medical only for medical)."""
    permissions = access_of(user).permissions
    mine = Q(requested_by=user)
    if Perm.RETENTION_MANAGE in permissions and Perm.RETENTION_MEDICAL in permissions:
        mine |= Q()
    elif Perm.RETENTION_MANAGE in permissions:
        mine |= ~Q(categories__contains=[Category.MEDICAL])
    elif Perm.RETENTION_MEDICAL in permissions:
        mine |= Q(categories=[Category.MEDICAL])
    return (
        DeletionRequest.objects.filter(tenant_id=user.tenant_id)
        .filter(mine)
        .select_related("requested_by", "approved_by")
        .order_by("-requested_at")
    )


def deletion_for(user: User, key: Any) -> DeletionRequest | None:
    return deletions_visible_to(user).filter(key=key).first()
