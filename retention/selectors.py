"""Reads of retention settings and results, scoped to a tenant or to a user's visibility."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from auth2fa.models import User
from domains.permissions import Perm
from employees.models import Employee
from employees.selectors import employees_visible_to, visible_employees
from retention.models import DEFAULT_TERMS, Category, LegalHold, RetentionTerm, Term


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
