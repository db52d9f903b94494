"""The one place that decides what a user may see and do.

Every list, detail, search, export and count of personal data starts from the filter built here
(`employee_filter`; employees/selectors.py applies it to employees, cases/selectors.py to cases).
It turns the user's active role assignments into one SQL condition (no per-row permission
checks):

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

The access layer sits below employees and cases, so the condition names their columns by
lookup only: `has_absence_case` is a fact the database keeps on each employee (a trigger of the
cases app), and the case-manager grants are reached through the user's reverse relation.
All of a user's assignments are read once per request, in one query, and give every answer
here: permissions, domain, role names, the block, the filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.contrib.auth.models import Permission
from django.db import connections, router
from django.db.models import BooleanField, Expression, F, Q
from django.utils import timezone

from auth2fa.models import User
from core.accounts import AccountType
from domains.models import (
    AssignmentStatus,
    BigCheckStatus,
    BigRegistration,
    Department,
    Role,
    RoleAssignment,
    ServiceContract,
)
from domains.permissions import MEDICAL_PERMISSIONS, POSITIVE_REGISTRATION, Perm, ceiling_of

if TYPE_CHECKING:  # django-stubs' helper is a development dependency only
    from django_stubs_ext import WithAnnotations


class AssignmentScopes(TypedDict):
    """The scope arrays UserAccess reads with each assignment (NULLs where a scope is empty)."""

    scope_employer_ids: list[int | None]
    scope_department_paths: list[str | None]
    contracted_employer_ids: list[int]


# The columns _assignments_sql adds after the assignment's and its role's, in their order.
_ANNOTATIONS = (
    "scope_employer_ids",
    "scope_department_paths",
    "contracted_employer_ids",
    "big_verified",
)

ScopedAssignment: TypeAlias = "WithAnnotations[RoleAssignment, AssignmentScopes]"

NOTHING = Q(pk__in=[])
CASE_MANAGER_GRANT = "view_employee"  # the per-object permission that assigns an employee
GRANTS_APP_LABEL = "employees"  # where the per-employee grant permission is defined


@cache
def case_manager_grant_permission_id() -> int:
    """The id of the per-employee grant permission (fixed once migrated; read once per process)."""
    return Permission.objects.get(
        content_type__app_label=GRANTS_APP_LABEL, codename=CASE_MANAGER_GRANT
    ).pk


@cache
def _grants_sql() -> str:
    """`ARRAY(SELECT <employee> FROM <grants> WHERE <user> = %s AND <permission> = %s)`: the
    employees granted to one user, from guardian's direct foreign-key table (employees app),
    reached through the user's reverse relation. Written once per process: building and compiling
    it as a nested ORM query on every request cost more than running it."""
    relation: Any = User._meta.get_field("employeeuserobjectpermission")
    grants = relation.related_model._meta
    employee: Any = grants.get_field("content_object")
    permission: Any = grants.get_field("permission")
    user_column = relation.field.column
    return (
        f'ARRAY(SELECT g."{employee.column}" FROM "{grants.db_table}" g'  # noqa: S608 - names
        f' WHERE g."{user_column}" = %s AND g."{permission.column}" = %s)'  # from the models
    )


class InGrantedList(Expression):
    """`column = ANY(ARRAY(grants))`: the row's key is one of the (few) employees granted to the
    user one by one.

    Written as `column IN (subquery)`, PostgreSQL plans a semi-join whose shape depends on its
    row estimates: with 1,000 grants among 100,000 employees it hashes the grants and scans every
    employee (50-80 ms), where 1,000 primary-key look-ups take 2 ms. The array form is computed
    once (an InitPlan) and then serves an index scan on the key, whatever the table's size or
    the grants' spread. One case it does not cover: a large table that has never been analysed
    at all, where the planner takes the tenant and employer equalities for very selective and
    checks the array row by row (1.2 s at 100,000 employees, measured): hence the ANALYZE after
    bulk loads (core/statistics.py); small tables (tests, the demo) are unaffected."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: Any, user_id: int) -> None:
        super().__init__(output_field=BooleanField())
        self.column = F(column) if isinstance(column, str) else column
        self.user_id = user_id

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Any) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.column)
        params = (*column_params, self.user_id, case_manager_grant_permission_id())
        return f"{column_sql} = ANY({_grants_sql()})", params


def medical_access_confirmed(assignment: RoleAssignment) -> bool:
    """Both checks of seed 003 are on record: a second functional admin approved the assignment
    (not its requester, not its holder), and the holder's BIG number is verified."""
    return (
        assignment.decided_by_id is not None
        and assignment.decided_by_id not in (assignment.requested_by_id, assignment.user_id)
        # Annotated by UserAccess._load; an assignment read elsewhere counts as unverified.
        and bool(getattr(assignment, "big_verified", False))
    )


def granted_permissions(assignment: RoleAssignment) -> frozenset[str]:
    """A role's permissions, clipped to its domain's ceiling again, and without the medical ones
    unless the double check is on record (defence in depth: whatever the status says)."""
    permissions = frozenset(assignment.role.permissions) & ceiling_of(assignment.role.domain)
    if permissions & MEDICAL_PERMISSIONS and not medical_access_confirmed(assignment):
        return permissions - MEDICAL_PERMISSIONS
    return permissions


@dataclass(frozen=True)
class AssignmentScope:
    """One active assignment: what it grants, and the employees it reaches as a condition."""

    permissions: frozenset[str]
    condition: Q


class UserAccess:
    """Everything the access rule knows about one user, from one query of their assignments."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.assignments: list[ScopedAssignment] = self._load(user)

    @staticmethod
    def _load(user: User) -> list[ScopedAssignment]:
        if not user.is_authenticated or user.account_type != AccountType.MEMBER:
            return []
        # One query: every assignment (any status) with its role and its scopes as arrays.
        # Written out in SQL (built once per process from the models' tables and columns) and
        # read with a plain cursor: compiling the equivalent ORM query took longer than running
        # it, and a raw queryset's per-call column mapping cost as much again, on every request.
        # The tenant and the user are parameters (the user's own scope; this runs at login too).
        sql, role_columns = _assignments_sql()
        params: dict[str, Any] = {
            "tenant": user.tenant_id,
            "user": user.pk,
            "today": timezone.localdate(),
            "verified": BigCheckStatus.VERIFIED.value,
        }
        database = router.db_for_read(RoleAssignment)
        connection = connections[database]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        own, fields, converters = _assignment_columns(database)
        role_field = RoleAssignment._meta.get_field("role")
        assignments: list[Any] = []
        for row in rows:
            values = list(row[: len(fields)])
            for position, convert, column in converters:
                values[position] = convert(values[position], column, connection)
            assignment = RoleAssignment.from_db(database, own, values[: len(own)])
            role = Role.from_db(database, role_columns, values[len(own) :])
            role_field.set_cached_value(assignment, role)
            extra = row[len(fields) :]
            for name, value in zip(_ANNOTATIONS, extra, strict=True):
                setattr(assignment, name, value)
            assignments.append(assignment)
        return assignments

    @cached_property
    def blocked(self) -> bool:
        """Holds a role still not placed in a domain after the tenant's deadline."""
        return (
            self.user.account_type == AccountType.MEMBER
            and timezone.localdate() > self.user.tenant.unplaced_role_deadline
            and any(
                a.role.domain == "" and a.status != AssignmentStatus.REJECTED
                for a in self.assignments
            )
        )

    @cached_property
    def active(self) -> list[ScopedAssignment]:
        """The assignments that grant something now (approved, not blocked)."""
        if not self.user.is_active or self.blocked:
            return []
        return [a for a in self.assignments if a.status == AssignmentStatus.ACTIVE]

    @cached_property
    def permissions(self) -> frozenset[str]:
        return frozenset().union(*(granted_permissions(a) for a in self.active))

    @cached_property
    def domain(self) -> str:
        """The domain of the user's roles ('' when none is placed); a user has only one."""
        domains = {a.role.domain for a in self.active}
        return domains.pop() if len(domains) == 1 else ""

    @cached_property
    def role_names(self) -> list[str]:
        """Names of the roles the user holds, for the navigation bar and the audit trail."""
        if self.user.account_type != AccountType.MEMBER:
            return [str(self.user.get_account_type_display())]
        return [a.role.name for a in self.assignments]

    @cached_property
    def active_role_names(self) -> tuple[str, ...]:
        return tuple(sorted({a.role.name for a in self.active}))

    def scopes(self, prefix: str = "") -> list[AssignmentScope]:
        """Per active assignment, its permissions and the condition on employees it reaches.

        `prefix` places the condition on a related employee ("employee__" for cases)."""
        return [
            AssignmentScope(granted_permissions(a), _assignment_condition(a, self.user, prefix))
            for a in self.active
        ]

    def explicit_scope(self, perm: str) -> tuple[set[int], list[str]]:
        """The employers and department paths that assignments granting `perm` name outright
        (werkgever roles): where such a user may place an employee."""
        employer_ids: set[int] = set()
        paths: list[str] = []
        for assignment in self.active:
            if perm in granted_permissions(assignment) and assignment.role.domain:
                employer_ids.update(_employer_ids(assignment))
                paths.extend(path for path in assignment.scope_department_paths if path)
        return employer_ids, paths

    def employee_filter(self, perm: str, prefix: str = "") -> Q:
        """Employees the user may see (or, with `perm`, act on with that permission)."""
        condition = NOTHING
        for scope in self.scopes(prefix):
            if perm in scope.permissions:
                condition |= scope.condition
        return condition


def access_of(user: User) -> UserAccess:
    """The user's access, computed once per user object (so once per request)."""
    cached = user.__dict__.get("_access")
    if cached is None:
        cached = user.__dict__["_access"] = UserAccess(user)
    return cached


def forget_access(user: User) -> None:
    """Drop what was cached on this user object (after its assignments changed)."""
    user.__dict__.pop("_access", None)


def access_blocked(user: User) -> bool:
    return access_of(user).blocked


def active_assignments(user: User) -> list[ScopedAssignment]:
    return access_of(user).active


def user_permissions(user: User) -> frozenset[str]:
    return access_of(user).permissions


def has_permission(user: User, perm: str) -> bool:
    return perm in access_of(user).permissions


def user_domain(user: User) -> str:
    return access_of(user).domain


def employee_filter(user: User, perm: str = Perm.EMPLOYEE_VIEW, prefix: str = "") -> Q:
    """The condition on employees (or, with `prefix`, on rows of one employee) for `perm`.

    NOTHING when no assignment grants it: callers return an empty queryset then."""
    return access_of(user).employee_filter(perm, prefix)


def _employer_ids(assignment: ScopedAssignment) -> list[int]:
    return [pk for pk in assignment.scope_employer_ids if pk is not None]


def _explicit_scope(assignment: ScopedAssignment, prefix: str) -> Q:
    scope = NOTHING
    if _employer_ids(assignment):
        scope |= Q(**{f"{prefix}employer_id__in": _employer_ids(assignment)})
    for path in assignment.scope_department_paths:
        if path:
            scope |= Q(**{f"{prefix}department__path__startswith": path})
    return scope


@cache
def _assignments_sql() -> tuple[str, list[str]]:
    """The SQL of UserAccess._load, and the attribute names of the role's columns in it.

    Per assignment: its own columns, its role's (as role__<attname>), the employers and
    department paths it names, the employers under a current contract with its provider, and
    whether its holder's BIG number is verified (medical_access_confirmed)."""
    assignment, role = RoleAssignment._meta, Role._meta
    employers = RoleAssignment.employers.through._meta
    departments = RoleAssignment.departments.through._meta
    department, contract = Department._meta, ServiceContract._meta
    big = BigRegistration._meta
    role_columns = [field.attname for field in role.concrete_fields]
    own = ", ".join(f'a."{field.column}"' for field in assignment.concrete_fields)
    of_role = ", ".join(
        f'r."{field.column}" AS "role__{field.attname}"' for field in role.concrete_fields
    )
    sql = f"""
        SELECT {own}, {of_role},
               ARRAY(SELECT e.employer_id FROM "{employers.db_table}" e
                      WHERE e.roleassignment_id = a.id ORDER BY 1) AS scope_employer_ids,
               ARRAY(SELECT d.path FROM "{departments.db_table}" ad
                       JOIN "{department.db_table}" d ON d.id = ad.department_id
                      WHERE ad.roleassignment_id = a.id ORDER BY 1) AS scope_department_paths,
               ARRAY(SELECT c.employer_id FROM "{contract.db_table}" c
                      WHERE c.tenant_id = a.tenant_id AND c.provider_id = a.provider_id
                        AND c.starts_on <= %(today)s
                        AND (c.ends_on IS NULL OR c.ends_on >= %(today)s)
                      ORDER BY 1) AS contracted_employer_ids,
               EXISTS (SELECT 1 FROM "{big.db_table}" b
                        WHERE b.tenant_id = a.tenant_id AND b.user_id = a.user_id
                          AND b.status = %(verified)s) AS big_verified
          FROM "{assignment.db_table}" a JOIN "{role.db_table}" r ON r.id = a.role_id
         WHERE a.tenant_id = %(tenant)s AND a.user_id = %(user)s
         ORDER BY r.name, a.id
    """  # noqa: S608 - table and column names from the models, values as parameters
    return sql, role_columns


@cache
def _assignment_columns(database: str) -> tuple[list[str], list[Any], list[tuple[int, Any, Any]]]:
    """For the rows of _assignments_sql read on this database: the assignment's attribute names,
    the assignment's and role's fields in column order, and their database converters by
    position (none on PostgreSQL today; applied as the ORM would, should a field gain one)."""
    own = [field.attname for field in RoleAssignment._meta.concrete_fields]
    fields = [*RoleAssignment._meta.concrete_fields, *Role._meta.concrete_fields]
    connection = connections[database]
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        for convert in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            converters.append((position, convert, column))
    return own, fields, converters


def _assignment_condition(assignment: ScopedAssignment, user: User, prefix: str) -> Q:
    role = assignment.role
    has_case = Q(**{f"{prefix}has_absence_case": True})
    if role.domain in POSITIVE_REGISTRATION:
        scope = _explicit_scope(assignment, prefix)
    elif not role.domain:
        scope = _explicit_scope(assignment, prefix) & has_case
    else:
        if assignment.provider_id is None:
            return NOTHING
        contracted = assignment.contracted_employer_ids  # current contracts, read by _load
        scope = Q(**{f"{prefix}employer_id__in": contracted})
        scope &= has_case
        if _employer_ids(assignment):
            scope &= Q(**{f"{prefix}employer_id__in": _employer_ids(assignment)})
    if role.only_assigned:
        # The user's grants, through guardian's direct foreign-key table (employees app).
        scope &= Q(InGrantedList(f"{prefix}pk", user.pk))
    return scope


def employers_in_scope(user: User) -> set[int]:
    """The ids of the employers the user's active roles reach: explicit employers, the employers
    of explicit departments, and for provider roles the employers under current contract. Used to
    charge costs (SMS) to a customer, never to decide what is visible."""
    employer_ids: set[int] = set()
    for assignment in access_of(user).active:
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
            employer_ids.update(assignment.contracted_employer_ids)
    return employer_ids


@dataclass(frozen=True)
class FiguresScope:
    """Whose absence figures a user may see: employers as a whole and department subtrees."""

    employer_ids: frozenset[int]
    department_paths: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.employer_ids and not self.department_paths


def figures_scope(user: User, perm: str = Perm.REPORT_VIEW) -> FiguresScope:
    """The employers and department subtrees whose absence figures (aggregates, never lists of
    employees) the user's roles granting `perm` reach: one query at most.

    - werkgever roles (and roles not yet placed): the employers and departments they name;
    - arbodienst and verzekeraar roles: the employers under a current contract with their
      provider (narrowed to the employers the assignment names). Negative registration still
      holds for them: they see figures of the whole employer, never its healthy employees;
    - a role that reaches only the employees granted to the user one by one (case managers)
      gives no figures: a few named people are what the small-group rule protects.
    """
    employer_ids: set[int] = set()
    paths: list[str] = []
    narrowed: dict[int, set[int]] = {}  # provider id -> the employers an assignment names
    whole_provider: set[int] = set()
    for assignment in access_of(user).active:
        if perm not in granted_permissions(assignment) or assignment.role.only_assigned:
            continue
        if assignment.role.domain in POSITIVE_REGISTRATION or not assignment.role.domain:
            employer_ids.update(_employer_ids(assignment))
            paths.extend(path for path in assignment.scope_department_paths if path)
        elif assignment.provider_id is not None:
            if _employer_ids(assignment):
                narrowed.setdefault(assignment.provider_id, set()).update(_employer_ids(assignment))
            else:
                whole_provider.add(assignment.provider_id)
    providers = whole_provider | set(narrowed)
    if providers:
        today = timezone.localdate()
        contracted = ServiceContract.unscoped.filter(
            tenant_id=user.tenant_id, provider_id__in=providers, starts_on__lte=today
        ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        for provider_id, employer_id in contracted.values_list("provider_id", "employer_id"):
            if provider_id in whole_provider or employer_id in narrowed.get(provider_id, ()):
                employer_ids.add(employer_id)
    return FiguresScope(frozenset(employer_ids), tuple(sorted(set(paths))))
