"""Benchmark: our scoped employee list versus django-guardian's get_objects_for_user.

Builds, in a throwaway database, one tenant with 10,000 employees (all sick, all served by the
arbodienst) and 100,000 per-object grants (100 case managers x 1,000 employees each), then
times, side by side in one run, one list page (count + 25 rows sorted by surname) for a case
manager as our visibility rule builds it and as guardian's get_objects_for_user builds it, and
checks that both give the same answer. Prints median and 95th percentile, and queries per page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/visibility.py
"""

from __future__ import annotations

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

from django.contrib.auth.models import Permission  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from guardian.shortcuts import get_objects_for_user  # noqa: E402

EMPLOYEES, CASE_MANAGERS, GRANTS_EACH, RUNS, PAGE = 10_000, 100, 1_000, 50, 25


def build():
    from auth2fa.models import User
    from cases.models import AbsenceCase
    from domains.models import (
        Employer,
        ProviderKind,
        RoleAssignment,
        ServiceContract,
        ServiceProvider,
        Tenant,
    )
    from domains.services import ensure_reference_roles
    from employees.models import Employee, EmployeeUserObjectPermission

    tenant = Tenant.objects.create(name="Bench")
    role = {r.reference_key: r for r in ensure_reference_roles(tenant)}["casemanager"]
    employer = Employer.objects.create(tenant=tenant, name="Bench BV")
    arbo = ServiceProvider.objects.create(tenant=tenant, name="Arbo", kind=ProviderKind.ARBODIENST)
    ServiceContract.objects.create(
        tenant=tenant, provider=arbo, employer=employer, starts_on=date(2020, 1, 1)
    )
    employees = Employee.objects.bulk_create(
        Employee(tenant=tenant, employer=employer, personnel_number=f"{i:06d}",
                 surname=f"Naam{i:05d}", birth_date=date(1980, 1, 1),
                 employment_start=date(2010, 1, 1))
        for i in range(EMPLOYEES)
    )  # fmt: skip
    AbsenceCase.objects.bulk_create(
        AbsenceCase(tenant=tenant, employee=e, first_sick_day=date(2026, 1, 1)) for e in employees
    )
    users = []
    for number in range(CASE_MANAGERS):
        user = User.objects.create_user(f"cm{number}@bench.test", None, tenant=tenant)
        RoleAssignment.objects.create(tenant=tenant, user=user, role=role, provider=arbo)
        users.append(user)
    view = Permission.objects.get(content_type__app_label="employees", codename="view_employee")
    grants = []
    for number, user in enumerate(users):
        start = (number * GRANTS_EACH) % EMPLOYEES
        for offset in range(GRANTS_EACH):
            employee = employees[(start + offset) % EMPLOYEES]
            grants.append(
                EmployeeUserObjectPermission(user=user, permission=view, content_object=employee)
            )
    EmployeeUserObjectPermission.objects.bulk_create(grants, batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return users[CASE_MANAGERS // 2]


def page_of(queryset):
    return queryset.count(), list(
        queryset.order_by("surname", "pk").values_list("pk", flat=True)[:PAGE]
    )


def ours(user):
    from domains.visibility import forget_access
    from employees.selectors import visible_employees

    forget_access(user)  # a new request: the assignments are read again
    return page_of(visible_employees(user))


def guardians(user):
    from employees.models import Employee

    objects = get_objects_for_user(
        user, "employees.view_employee", klass=Employee, accept_global_perms=False
    )
    return page_of(objects)


def measure(function, user):
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        function(user)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        function(user)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(queries)


def main() -> None:
    from core.tenancy import all_tenants

    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with all_tenants():
            started = time.perf_counter()
            user = build()
            built = time.perf_counter() - started
            assert ours(user) == guardians(user), "both must give the same answer"
            count, _rows = ours(user)
            print(
                f"tenant: {EMPLOYEES:,} employees, {CASE_MANAGERS * GRANTS_EACH:,} grants "
                f"(built in {built:.1f} s)"
            )
            print(
                f"case manager sees {count:,} employees; "
                f"page of {PAGE}, sorted by surname, {RUNS} runs each"
            )
            print(f"{'approach':<40} {'median ms':>10} {'p95 ms':>8} {'queries/page':>13}")
            for label, function in (
                ("ours: visible_employees (one filter)", ours),
                ("guardian: get_objects_for_user", guardians),
            ):
                median, p95, queries = measure(function, user)
                print(f"{label:<40} {median:>10.2f} {p95:>8.2f} {queries:>13}")
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
