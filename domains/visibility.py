"""The one place that decides what a user may see and do.

Every list, detail, search, export and count of personal data starts from `visible_employees`.
It turns the user's active role assignments into one SQL filter (no per-row permission checks):

- werkgever (positive registration): all employees of the employers and department subtrees in
  the assignment's scope, healthy or sick;
- arbodienst, verzekeraar, bedrijfsarts (negative registration): only employees with an absence
  case, of employers under a current contract with the assignment's service provider
  (optionally narrowed to some of those employers);
- a role marked "only assigned" (case managers) further limits this to the employees granted to
  the user one by one (django-guardian, direct foreign-key table);
- a role not placed in a domain yet: negative registration within its explicit employer and
  department scope, nothing medical; after the tenant's deadline the user is blocked entirely;
- functional admins and auditors: no employees at all (admin rights are not dossier rights).
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth.models import Permission
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from auth2fa.models import AccountType, User
from cases.models import AbsenceCase
from domains.models import AssignmentStatus, RoleAssignment, ServiceContract
from domains.permissions import POSITIVE_REGISTRATION, Perm, ceiling_of
from employees.models import Employee, EmployeeUserObjectPermission

NOTHING = Q(pk__in=[])
CASE_MANAGER_GRANT = "view_employee"  # the per-object permission that assigns an employee


def _cache(user: User) -> dict:
    # Per user object, so per request: the assignments are read once however often we ask.
    if not hasattr(user, "_access_cache"):
        user._access_cache = {}
    return user._access_cache


def forget_access(user: User) -> None:
    """Drop what was cached on this user object (after its assignments changed)."""
    user.__dict__.pop("_access_cache", None)


def access_blocked(user: User) -> bool:
    """A user holding a role that is still not placed in a domain after the tenant's deadline."""
    cache = _cache(user)
    if "blocked" not in cache:
        cache["blocked"] = (
            user.account_type == AccountType.MEMBER
            and timezone.localdate() > user.tenant.unplaced_role_deadline
            and RoleAssignment.objects.filter(user=user, role__domain="")
            .exclude(status=AssignmentStatus.REJECTED)
            .exists()
        )
    return cache["blocked"]


def active_assignments(user: User) -> list[RoleAssignment]:
    """The user's assignments that grant something now (approved, not blocked), with scopes."""
    cache = _cache(user)
    if "assignments" not in cache:
        if (
            not user.is_authenticated
            or not user.is_active
            or user.account_type != AccountType.MEMBER
            or access_blocked(user)
        ):
            cache["assignments"] = []
        else:
            # One query: the scopes come along as arrays instead of two prefetches.
            cache["assignments"] = list(
                RoleAssignment.objects.filter(user=user, status=AssignmentStatus.ACTIVE)
                .select_related("role")
                .annotate(
                    scope_employer_ids=ArrayAgg("employers__id", distinct=True, default=[]),
                    scope_department_paths=ArrayAgg("departments__path", distinct=True, default=[]),
                )
            )
    return cache["assignments"]


@cache
def case_manager_grant_permission_id() -> int:
    """The id of the per-employee grant permission (fixed once migrated; read once per process)."""
    return Permission.objects.get(
        content_type__app_label="employees", codename=CASE_MANAGER_GRANT
    ).pk


def granted_permissions(assignment: RoleAssignment) -> frozenset[str]:
    """A role's permissions, clipped to its domain's ceiling again (defence in depth)."""
    return frozenset(assignment.role.permissions) & ceiling_of(assignment.role.domain)


def user_permissions(user: User) -> frozenset[str]:
    return frozenset().union(*(granted_permissions(a) for a in active_assignments(user)))


def has_permission(user: User, perm: str) -> bool:
    return perm in user_permissions(user)


def user_domain(user: User) -> str:
    """The domain of the user's roles ('' when none is placed); a user has only one."""
    domains = {a.role.domain for a in active_assignments(user)}
    return domains.pop() if len(domains) == 1 else ""


def _employer_ids(assignment: RoleAssignment) -> list[int]:
    return [pk for pk in assignment.scope_employer_ids if pk is not None]


def _explicit_scope(assignment: RoleAssignment) -> Q:
    scope = NOTHING
    if _employer_ids(assignment):
        scope |= Q(employer_id__in=_employer_ids(assignment))
    for path in assignment.scope_department_paths:
        if path:
            scope |= Q(department__path__startswith=path)
    return scope


def _assignment_filter(assignment: RoleAssignment, user: User) -> Q:
    role = assignment.role
    has_case = Q(Exists(AbsenceCase.objects.filter(employee_id=OuterRef("pk"))))
    if role.domain in POSITIVE_REGISTRATION:
        scope = _explicit_scope(assignment)
    elif not role.domain:
        scope = _explicit_scope(assignment) & has_case
    else:
        if assignment.provider_id is None:
            return NOTHING
        today = timezone.localdate()
        contracted = (
            ServiceContract.objects.filter(provider_id=assignment.provider_id, starts_on__lte=today)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
            .values("employer_id")
        )
        scope = Q(employer_id__in=contracted) & has_case
        if _employer_ids(assignment):
            scope &= Q(employer_id__in=_employer_ids(assignment))
    if role.only_assigned:
        granted = EmployeeUserObjectPermission.objects.filter(
            user_id=user.pk, permission_id=case_manager_grant_permission_id()
        ).values("content_object_id")
        scope &= Q(pk__in=granted)
    return scope


def visible_employees(user: User, perm: str = Perm.EMPLOYEE_VIEW) -> QuerySet[Employee]:
    """Employees the user may see (or, with `perm`, act on with that permission): one query."""
    scope = NOTHING
    for assignment in active_assignments(user):
        if perm in granted_permissions(assignment):
            scope |= _assignment_filter(assignment, user)
    if scope == NOTHING:
        return Employee.unscoped.none()
    return Employee.objects.filter(tenant_id=user.tenant_id).filter(scope)


def employers_in_scope(user: User) -> set[int]:
    """The ids of the employers the user's active roles reach: explicit employers, the employers
    of explicit departments, and for provider roles the employers under current contract. Used to
    charge costs (SMS) to a customer, never to decide what is visible."""
    from domains.models import Department

    employer_ids: set[int] = set()
    today = timezone.localdate()
    for assignment in active_assignments(user):
        explicit = _employer_ids(assignment)
        employer_ids.update(explicit)
        paths = [path for path in assignment.scope_department_paths if path]
        if paths:
            employer_ids.update(
                Department.unscoped.filter(tenant_id=user.tenant_id, path__in=paths).values_list(
                    "employer_id", flat=True
                )
            )
        if assignment.provider_id and not explicit:
            employer_ids.update(
                ServiceContract.unscoped.filter(
                    provider_id=assignment.provider_id, starts_on__lte=today
                )
                .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
                .values_list("employer_id", flat=True)
            )
    return employer_ids
