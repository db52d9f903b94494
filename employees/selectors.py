"""Reads of employees, always through the visibility rule of domains/visibility.py."""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Value

from auth2fa.models import User
from domains.models import Department, Employer
from domains.permissions import Perm
from domains.visibility import CASE_MANAGER_GRANT, NOTHING, access_of
from employees.models import Employee, EmployeeUserObjectPermission


def visible_employees(user: User, perm: str = Perm.EMPLOYEE_VIEW) -> QuerySet[Employee]:
    """Employees the user may see (or, with `perm`, act on with that permission): one query."""
    condition = access_of(user).employee_filter(perm)
    if condition == NOTHING:
        return Employee.unscoped.none()
    return Employee.objects.filter(condition, tenant_id=user.tenant_id)


def employees_visible_to(user: User, perm: str = Perm.EMPLOYEE_VIEW) -> QuerySet[Employee]:
    """Employees the user may see, ready for lists and detail pages."""
    return visible_employees(user, perm).select_related("employer", "department")


def with_access(
    queryset: QuerySet[Any], user: User, *, prefix: str = ""
) -> tuple[QuerySet[Any], list[frozenset[str]]]:
    """Annotate each row with which of the user's assignments reach it (`_access_0`, ...).

    Returns the queryset and, per annotation, the permissions that assignment grants;
    `access_from_row` turns a fetched row into the set of permissions the user holds on it."""
    scopes = access_of(user).scopes(prefix)
    annotations = {
        f"_access_{number}": (
            Value(False)
            if scope.condition == NOTHING
            else ExpressionWrapper(scope.condition, output_field=BooleanField())
        )
        for number, scope in enumerate(scopes)
    }
    return queryset.annotate(**annotations), [scope.permissions for scope in scopes]


def access_from_row(row: Any, granted: list[frozenset[str]]) -> frozenset[str]:
    """The permissions of the assignments whose `_access_N` flag is set on this row."""
    return frozenset().union(
        *(perms for number, perms in enumerate(granted) if getattr(row, f"_access_{number}"))
    )


def visible_employee_with_access(user: User, key: Any) -> tuple[Employee, frozenset[str]] | None:
    """The employee with this key if the user may see it, and everything the user may do with
    it, in one query (None when not visible: the caller answers 404)."""
    queryset, granted = with_access(employees_visible_to(user), user)
    employee = queryset.filter(key=key).first()
    if employee is None:
        return None
    return employee, access_from_row(employee, granted)


def employee_access(user: User, employee: Employee) -> frozenset[str]:
    """Every permission the user holds on this one employee, in one query."""
    queryset, granted = with_access(Employee.objects.filter(pk=employee.pk), user)
    row = queryset.first()
    return access_from_row(row, granted) if row is not None else frozenset()


class EmployerCounts(TypedDict):
    employer__name: str
    total: int
    employed: int


def visible_employee_counts(user: User) -> list[EmployerCounts]:
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


def placement_choices(user: User) -> tuple[QuerySet[Employer], QuerySet[Department]]:
    """Where the user may place an employee: the employers their employee.edit roles name (and
    the employers of the departments they name), and the departments within that scope."""
    employer_ids, paths = access_of(user).explicit_scope(Perm.EMPLOYEE_EDIT)
    in_subtrees = Q(pk__in=[])
    for path in paths:
        in_subtrees |= Q(path__startswith=path)
    departments = (
        Department.objects.filter(tenant_id=user.tenant_id, closed_on__isnull=True)
        .filter(Q(employer_id__in=employer_ids) | in_subtrees)
        .select_related("employer")
    )
    employers = Employer.objects.filter(tenant_id=user.tenant_id).filter(
        Q(pk__in=employer_ids) | Q(pk__in=departments.values("employer_id"))
    )
    return employers, departments


def may_see_bsn(user: User, permissions: frozenset[str]) -> bool:
    """The one rule for the BSN, masked or whole: where the environment allows a BSN, a user who
    may edit this employee (`permissions`: what the user holds on them) — not every role that
    sees the employee (insurers, company doctors and arbodienst staff never do)."""
    return bool(user.tenant.bsn_allowed) and Perm.EMPLOYEE_EDIT in permissions


def bsn_exportable_ids(user: User) -> set[int]:
    """The employees whose BSN an export by this user may carry (one query; empty when none)."""
    if not may_see_bsn(user, access_of(user).permissions):
        return set()
    return set(visible_employees(user, Perm.EMPLOYEE_EDIT).values_list("pk", flat=True))
