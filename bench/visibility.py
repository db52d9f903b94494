"""Benchmark: our scoped employee list versus django-guardian's get_objects_for_user.

Two sizes, each in a throwaway database of its own: one tenant with 10,000 employees and
100,000 per-object grants (100 case managers x 1,000 employees each), and one with 100,000
employees and 1,000,000 grants (1,000 case managers x 1,000). Every employee is sick and served
by the arbodienst, so the case manager's grants are the only thing that narrows the list. The
bulk rows are written with INSERT ... SELECT generate_series (the ORM would take minutes at the
second size), then the database is analysed.

Times, side by side in one run, one list page (the count and 25 rows sorted by surname) for a
case manager: ours as the employee list builds it (employees.selectors.visible_employees and
core.paging.CountingPaginator, the user's assignments read again as in a new request), and
guardian's get_objects_for_user with Django's Paginator. Checks that both give the same answer.
Prints median and 95th percentile (runs interleaved) and queries per page, and our median as a
fraction of guardian's (target <= 0.67).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/visibility.py
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verzuim.settings")
os.environ.setdefault("VERZUIM_ENV", "test")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from guardian.shortcuts import get_objects_for_user  # noqa: E402

# (employees, case managers, grants per case manager)
SIZES = [(10_000, 100, 1_000), (100_000, 1_000, 1_000)]
RUNS, PAGE, TARGET = 50, 25, 0.67


def build(employees: int, case_managers: int, grants_each: int):
    """One tenant of this size; returns a case manager in the middle of the range."""
    from auth2fa.models import User
    from domains.models import (
        Employer,
        ProviderKind,
        RoleAssignment,
        ServiceContract,
        ServiceProvider,
        Tenant,
    )
    from domains.services import ensure_reference_roles

    tenant = Tenant.objects.create(name="Bench")
    role = {r.reference_key: r for r in ensure_reference_roles(tenant)}["casemanager"]
    employer = Employer.objects.create(tenant=tenant, name="Bench BV")
    arbo = ServiceProvider.objects.create(tenant=tenant, name="Arbo", kind=ProviderKind.ARBODIENST)
    ServiceContract.objects.create(
        tenant=tenant, provider=arbo, employer=employer, starts_on=date(2020, 1, 1)
    )
    users = User.objects.bulk_create(
        User(email=f"cm{number}@bench.test", tenant=tenant, password=make_password(None))
        for number in range(case_managers)
    )
    RoleAssignment.objects.bulk_create(
        RoleAssignment(tenant=tenant, user=user, role=role, provider=arbo) for user in users
    )
    view = Permission.objects.get(content_type__app_label="employees", codename="view_employee")
    with connection.cursor() as cursor:
        # Employees numbered 0..n-1 in personnel_number; surnames in a shuffled order.
        cursor.execute(
            """
            INSERT INTO employees_employee (key, tenant_id, employer_id, personnel_number,
                initials, first_name, surname_prefix, surname, birth_date, gender, postcode,
                email, phone, employment_start, part_time_factor, has_absence_case, bsn_index,
                version)
            SELECT gen_random_uuid(), %s, %s, lpad(i::text, 6, '0'), '', '', '',
                   'Naam' || lpad(((i * 7919) %% %s)::text, 6, '0'), DATE '1980-01-01', '', '',
                   '', '', DATE '2010-01-01', 1, false, '', 1
              FROM generate_series(0, %s - 1) AS i
            """,
            [tenant.pk, employer.pk, employees, employees],
        )
        cursor.execute(
            """
            INSERT INTO cases_absencecase (key, tenant_id, employee_id, first_sick_day,
                case_type, contact_address, contact_phone, created_at, expected_duration,
                remarks, safety_net, third_party_liable, work_accident)
            SELECT gen_random_uuid(), tenant_id, id, DATE '2026-01-01', 'illness', '', '',
                   now(), '', '', false, false, false
              FROM employees_employee WHERE tenant_id = %s
            """,
            [tenant.pk],
        )
        # Case manager n holds employees n*grants_each .. (n+1)*grants_each - 1 (wrapping).
        cursor.execute(
            """
            WITH managers AS (
                SELECT id AS user_id, row_number() OVER (ORDER BY id) - 1 AS n
                  FROM auth2fa_user WHERE tenant_id = %s
            ), numbered AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                  FROM employees_employee WHERE tenant_id = %s
            )
            INSERT INTO employees_employeeuserobjectpermission
                (user_id, permission_id, content_object_id)
            SELECT m.user_id, %s, e.id
              FROM managers m
              CROSS JOIN generate_series(0, %s - 1) AS g(offs)
              JOIN numbered e ON e.n = (m.n * %s + g.offs) %% %s
            """,
            [tenant.pk, tenant.pk, view.pk, grants_each, grants_each, employees],
        )
        cursor.execute("ANALYZE")
    return users[case_managers // 2]


def ours(user):
    """The employee list's first page as employees.views.employee_list asks for it."""
    from core.paging import CountingPaginator
    from domains.visibility import forget_access
    from employees.selectors import visible_employees

    forget_access(user)  # a new request: the assignments are read again
    page = CountingPaginator(visible_employees(user).order_by("surname", "pk"), PAGE).get_page(1)
    return page.paginator.count, [employee.pk for employee in page]


def guardians(user):
    from employees.models import Employee

    objects = get_objects_for_user(
        user, "employees.view_employee", klass=Employee, accept_global_perms=False
    )
    page = Paginator(objects.order_by("surname", "pk"), PAGE).get_page(1)
    return page.paginator.count, [employee.pk for employee in page]


def measure(functions, user):
    """Median and p95 (ms) and queries per page of each function, the runs interleaved (ours,
    guardian, ours, ...) so that both see the same load on a shared machine."""
    timings: list[list[float]] = [[] for _ in functions]
    for _ in range(RUNS):
        for number, function in enumerate(functions):
            started = time.perf_counter()
            function(user)
            timings[number].append((time.perf_counter() - started) * 1000)
    results = []
    for number, function in enumerate(functions):
        with CaptureQueriesContext(connection) as queries:
            function(user)
        runs = sorted(timings[number])
        results.append((statistics.median(runs), runs[int(len(runs) * 0.95) - 1], len(queries)))
    return results


def run_size(employees: int, case_managers: int, grants_each: int) -> None:
    from core.tenancy import all_tenants

    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with all_tenants():
            started = time.perf_counter()
            user = build(employees, case_managers, grants_each)
            built = time.perf_counter() - started
            assert ours(user) == guardians(user), "both must give the same answer"
            count, _rows = ours(user)
            print(
                f"\ntenant: {employees:,} employees, {case_managers * grants_each:,} grants "
                f"(built in {built:.1f} s); case manager sees {count:,} employees; "
                f"page of {PAGE}, sorted by surname, {RUNS} runs each"
            )
            print(f"{'approach':<40} {'median ms':>10} {'p95 ms':>8} {'queries/page':>13}")
            labels = ("ours: visible_employees (one filter)", "guardian: get_objects_for_user")
            results = measure((ours, guardians), user)
            for label, (median, p95, queries) in zip(labels, results, strict=True):
                print(f"{label:<40} {median:>10.2f} {p95:>8.2f} {queries:>13}")
            ratio = results[0][0] / results[1][0]
            verdict = "ok" if ratio <= TARGET else "MISSED"
            print(f"ours / guardian (median): {ratio:.2f} (target <= {TARGET}) {verdict}")
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


def main() -> None:
    logging.getLogger("audit").setLevel(logging.ERROR)  # no broker needed for these reads
    for size in SIZES:
        run_size(*size)


if __name__ == "__main__":
    main()
