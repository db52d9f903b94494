"""Benchmark: the employee search on 100,000 employees (surname, postcode, birth date).

Builds, in a throwaway database, one tenant with 100,000 employees (Dutch surnames with
prefixes, postcodes, birth dates spread over 45 years) at two employers, and an HR user who sees
them all. Times, per kind of search, what the list page asks of the database for one search: the
result count and the first page of 25, sorted by surname, through the same selector, search form
and paginator the view uses (the visibility rule, "former employees" hidden; page and count in
one query). A surname search matches the beginning of the surname, or of prefix and surname
together, ignoring case, diacritics and spaces (employees.models.search_key). Prints median and 95th
percentile in milliseconds, the number of results, and whether the plan used an index. Page
rendering and the audit event are not in these figures (bench/audit.py measures the latter).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/search.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verzuim.settings")
os.environ.setdefault("VERZUIM_ENV", "test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402

EMPLOYEES, RUNS, PAGE = 100_000, 30, 25
TARGET_MS = 20
SEARCHES = {
    "surname 'jans' (beginning)": {"surname": "jans"},
    "surname 'berg' (any prefix)": {"surname": "berg"},
    "surname 'van den berg' (with prefix)": {"surname": "van den berg"},
    "surname 'Bërg' (diacritic)": {"surname": "Bërg"},
    "postcode '3511' (prefix)": {"postcode": "3511"},
    "postcode '3511 AB' (whole)": {"postcode": "3511 AB"},
    "birth date (exact)": {"birth_date": "1975-06-15"},
    "personnel number '0042' (prefix)": {"personnel_number": "0042"},
}


def build():
    from auth2fa.models import User
    from domains.models import Employer, RoleAssignment, Tenant
    from domains.services import ensure_reference_roles
    from employees.models import Employee
    from verzuim.management.commands.seed_demo import FEMALE, MALE, SURNAMES, random_postcode

    rng = random.Random(2026)
    tenant = Tenant.objects.create(name="Zoekbank")
    roles = {r.reference_key: r for r in ensure_reference_roles(tenant)}
    employers = [Employer.objects.create(tenant=tenant, name=f"Werkgever {n}") for n in (1, 2)]
    endings = ["", "s", "se", "man", "hof", "berg", "veld", "ink", "stra", "ma"]
    batch = []
    for number in range(EMPLOYEES):
        prefix, surname = rng.choice(SURNAMES)
        surname += rng.choice(endings) if rng.random() < 0.5 else ""
        postcode = "3511AB" if number % 2000 == 0 else random_postcode(rng)
        batch.append(
            Employee(
                tenant=tenant, employer=employers[number % 2], personnel_number=f"{number:06d}",
                first_name=rng.choice(FEMALE + MALE), surname_prefix=prefix, surname=surname,
                birth_date=date(1960, 1, 1) + timedelta(days=rng.randint(0, 45 * 365)),
                postcode=postcode, employment_start=date(2015, 1, 1),
            )
        )  # fmt: skip
    Employee.objects.bulk_create(batch, batch_size=5_000)
    hr = User.objects.create_user("hr@zoekbank.test", None, tenant=tenant)
    assignment = RoleAssignment.objects.create(tenant=tenant, user=hr, role=roles["hr"])
    assignment.employers.set(employers)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return tenant, hr


def search_page(user, tenant, criteria: dict) -> tuple[int, list[int]]:
    """What the list view asks of the database for one stored search: count and first page."""

    from core.paging import CountingPaginator
    from domains.visibility import forget_access

    forget_access(user)  # a new request reads the assignments again
    page = CountingPaginator(searched(user, tenant, criteria), PAGE).get_page(1)
    return page.paginator.count, [employee.pk for employee in page]


def searched(user, tenant, criteria: dict):
    """The list's queryset for a stored search, as employees.views.employee_list builds it."""
    from django.utils import timezone

    from employees.forms import EmployeeSearchForm, apply_search, sort_order
    from employees.selectors import employees_visible_to

    form = EmployeeSearchForm(criteria, tenant=tenant)
    assert form.is_valid(), form.errors
    today = timezone.localdate()
    employees = employees_visible_to(user).filter(
        Q(employment_end__isnull=True) | Q(employment_end__gte=today)
    )
    return apply_search(employees, form.criteria()).order_by(*sort_order("surname"))


def plan_uses_index(user, tenant, criteria: dict) -> str:
    plan = searched(user, tenant, criteria).explain()
    for name in ("employee_surname_key", "employee_full_surname_key", "employee_postcode",
                 "employee_birth_date", "employee_personnel_number_up"):  # fmt: skip
        if name in plan:
            return name
    return "seq scan" if "Seq Scan on employees_employee" in plan else "other"


def measure(user, tenant, criteria: dict) -> tuple[float, float, int]:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        count, _rows = search_page(user, tenant, criteria)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], count


def main() -> None:
    from core.tenancy import all_tenants

    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with all_tenants():
            started = time.perf_counter()
            tenant, hr = build()
            print(f"{EMPLOYEES:,} employees built in {time.perf_counter() - started:.1f} s")
            print(f"count + first page of {PAGE}, {RUNS} runs each; target <= {TARGET_MS} ms")
            header = f"{'search':<40} {'median ms':>10} {'p95 ms':>8} {'results':>8}  plan"
            print(header)
            for label, criteria in SEARCHES.items():
                median, p95, count = measure(hr, tenant, criteria)
                plan = plan_uses_index(hr, tenant, criteria)
                verdict = "ok" if p95 <= TARGET_MS else "MISSED"
                print(f"{label:<40} {median:>10.2f} {p95:>8.2f} {count:>8}  {plan} {verdict}")
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
