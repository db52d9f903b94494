"""Reads of employees, always scoped to what the requesting user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from auth2fa.models import User
from employees.models import Employee


def employees_visible_to(user: User) -> QuerySet[Employee]:
    """The one place that decides which employees a user may see.

    Today: every employee of the user's own tenant. The domain rules (positive/negative
    registration, scopes, case assignments) narrow this queryset and nothing else.
    """
    if not user.is_authenticated or not user.is_active:
        return Employee.unscoped.none()
    return Employee.objects.filter(tenant_id=user.tenant_id).select_related(
        "employer", "department"
    )
