"""Reads of employees, always through the visibility rules of domains/visibility.py."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from auth2fa.models import User
from domains.permissions import Perm
from domains.visibility import CASE_MANAGER_GRANT, visible_employees
from employees.models import Employee, EmployeeUserObjectPermission


def employees_visible_to(user: User, perm: str = Perm.EMPLOYEE_VIEW) -> QuerySet[Employee]:
    """Employees the user may see, ready for lists and detail pages."""
    return visible_employees(user, perm).select_related("employer", "department")


def visible_employee_counts(user: User) -> list[dict]:
    """Per employer: how many employees the user may see, and how many are still employed."""
    return list(
        visible_employees(user)
        .values("employer__name")
        .annotate(total=Count("pk"), employed=Count("pk", filter=Q(employment_end__isnull=True)))
        .order_by("employer__name")
    )


def assigned_case_managers(employee: Employee) -> list[User]:
    """The case managers this employee is assigned to (one query)."""
    return list(
        User.objects.filter(
            pk__in=EmployeeUserObjectPermission.objects.filter(
                content_object=employee, permission__codename=CASE_MANAGER_GRANT
            ).values("user_id")
        ).order_by("last_name", "first_name")
    )
