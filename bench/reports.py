"""Benchmark: a year's absence figures on 100,000 employees and 1,000,000 sick spells.

Builds, in a throwaway database and in set-based SQL (generate_series; no Python loop over rows),
one tenant with two employers, each with a department tree (8 departments of 4 sub-departments),
employees with dated part-time factors (a fifth change hours mid-2025), some leaving, and ten
sick spells per employee over ten years (lengths mostly short, some long; a tenth with a partial
recovery; the latest few still open). First at a tenth of the size, then at full size; at each it
prints the number of queries the figures page's reads take (scope choices, chosen scope, the one
figures query), and at full size the time of a year's figures (2025) for the whole tenant and for
one department subtree (target <= 1 s each), plus the whole page's figures (the year, the 12-month
trend and the comparison; median of 3). Median of 5 runs after one warm-up.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/reports.py

`--keep` keeps the database (test_<name>) after the run and reuses it when it already holds the
full-size data (migrating it first), so a change can be measured, and its plans read with EXPLAIN,
on the same data without building it again. `--hash` prints a SHA-256 of every figure of several
reads (the years 2016-2026, the year and its twelve months for the whole tenant and the subtree,
the comparisons by employer and by department): equal hashes before and after a change to the
figures' SQL on the same data mean the figures did not change.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
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

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

EMPLOYEES, SPELLS_PER_EMPLOYEE, RUNS, PAGE_RUNS = 100_000, 10, 5, 3
TARGET_S = 1.0
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
TODAY = date(2026, 11, 30)

EMPLOYEES_SQL = """
INSERT INTO employees_employee (
    key, tenant_id, employer_id, department_id, personnel_number, initials, first_name,
    surname_prefix, surname, birth_date, postcode, employment_start, employment_end,
    part_time_factor, has_absence_case, bsn_index, email, gender, phone, version)
SELECT gen_random_uuid(), %(tenant)s, x.employer, x.department, lpad(n::text, 7, '0'), '', '',
       '', 'Bank', date '1960-01-01' + (n %% 16000), '', x.start,
       CASE WHEN random() < 0.06 THEN x.start + 200 + (random() * 5000)::int END,
       (ARRAY[1.000, 0.800, 0.889, 0.600, 0.500])[1 + (n %% 5)], false, '', '', '', '', 1
  FROM generate_series(%(first)s, %(last)s) AS n
 CROSS JOIN LATERAL (
     SELECT CASE WHEN n %% 2 = 0 THEN %(employer_a)s ELSE %(employer_b)s END AS employer,
            CASE WHEN n %% 2 = 0 THEN (%(departments_a)s::bigint[])[1 + (n / 2) %% %(count_a)s]
                 ELSE (%(departments_b)s::bigint[])[1 + (n / 2) %% %(count_b)s] END AS department,
            date '2008-01-01' + (random() * 6500)::int AS start
 ) AS x
"""

TERMS_SQL = """
INSERT INTO employees_employmentterms (key, tenant_id, employee_id, valid_from, contract_hours,
                                       full_time_hours)
SELECT gen_random_uuid(), e.tenant_id, e.id, e.employment_start, e.part_time_factor * 40, 40
  FROM employees_employee e WHERE e.tenant_id = %(tenant)s AND e.id > %(after)s
UNION ALL
SELECT gen_random_uuid(), e.tenant_id, e.id, date '2025-07-01', 16 + (e.id %% 25), 40
  FROM employees_employee e
 WHERE e.tenant_id = %(tenant)s AND e.id > %(after)s AND e.id %% 5 = 0
   AND e.employment_start < date '2025-07-01'
"""

# Ten spells per employee, the i-th in year 2016 + i, never overlapping the next one's year.
CASES_SQL = """
INSERT INTO cases_absencecase (
    key, tenant_id, employee_id, case_type, first_sick_day, recovered_on, expected_duration,
    work_accident, third_party_liable, safety_net, contact_phone, contact_address, remarks,
    created_at)
SELECT gen_random_uuid(), e.tenant_id, e.id,
       CASE WHEN random() < 0.01 THEN 'pregnancy' ELSE 'sickness' END, s.first,
       CASE WHEN i = %(spells)s - 1 AND random() < 0.05 THEN NULL
            ELSE s.first + LEAST(s.length, date '2016-01-01' + (i + 1) * 365 - s.first) END,
       'unknown', false, false, false, '', '', '', now()
  FROM employees_employee e
 CROSS JOIN generate_series(0, %(spells)s - 1) AS i
 CROSS JOIN LATERAL (
     -- e.id in each draw: without it the planner may compute the lateral once per i (Memoize)
     -- and give every employee the same spells.
     SELECT date '2016-01-01' + i * 365 + (random() * 300 + 0 * e.id)::int AS first,
            1 + (-ln(1 - random()) * 9 + 0 * e.id)::int
              + CASE WHEN random() + 0 * e.id < 0.03 THEN (random() * 500)::int ELSE 0 END
              AS length
 ) AS s
 WHERE e.tenant_id = %(tenant)s AND e.id > %(after)s
"""

PERIODS_SQL = """
INSERT INTO cases_absenceperiod (key, tenant_id, case_id, starts_on, ends_on)
SELECT gen_random_uuid(), c.tenant_id, c.id, c.first_sick_day, c.recovered_on - 1
  FROM cases_absencecase c WHERE c.tenant_id = %(tenant)s AND c.id > %(after)s
"""

INCAPACITY_SQL = """
INSERT INTO cases_incapacitychange (key, tenant_id, case_id, starts_on, percentage)
SELECT gen_random_uuid(), c.tenant_id, c.id, c.first_sick_day, 100
  FROM cases_absencecase c WHERE c.tenant_id = %(tenant)s AND c.id > %(after)s
UNION ALL
SELECT gen_random_uuid(), c.tenant_id, c.id,
       c.first_sick_day + (COALESCE(c.recovered_on, date '2026-11-30') - c.first_sick_day) / 2, 50
  FROM cases_absencecase c
 WHERE c.tenant_id = %(tenant)s AND c.id > %(after)s AND c.id %% 10 = 0
   AND COALESCE(c.recovered_on, date '2026-11-30') - c.first_sick_day >= 4
"""


def build_organisation():
    from auth2fa.models import User
    from domains.models import Department, Employer, RoleAssignment, Tenant
    from domains.services import ensure_reference_roles

    tenant = Tenant.objects.create(name="Cijferbank")
    roles = {r.reference_key: r for r in ensure_reference_roles(tenant)}
    employers, leaves = [], {}
    for name in ("Werkgever A", "Werkgever B"):
        employer = Employer.objects.create(tenant=tenant, name=name)
        employers.append(employer)
        leaves[employer.pk] = []
        for top in range(8):
            parent = Department.objects.create(
                tenant=tenant, employer=employer, name=f"Afdeling {top}"
            )
            leaves[employer.pk].append(parent.pk)
            for sub in range(4):
                child = Department.objects.create(
                    tenant=tenant, employer=employer, parent=parent, name=f"Team {top}.{sub}"
                )
                leaves[employer.pk].append(child.pk)
    hr = User.objects.create_user("hr@cijferbank.test", None, tenant=tenant)
    assignment = RoleAssignment.objects.create(tenant=tenant, user=hr, role=roles["hr"])
    assignment.employers.set(employers)
    subtree = Department.objects.get(employer=employers[0], name="Afdeling 3")
    return tenant, employers, leaves, hr, subtree


def grow(tenant, employers, leaves, first: int, last: int) -> None:
    """Employees numbered first..last with their terms, spells and incapacity, in SQL."""
    a, b = employers
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(max(id), 0) FROM employees_employee WHERE tenant_id = %s", [tenant.pk]
        )
        (after_employee,) = cursor.fetchone()
        cursor.execute("SELECT COALESCE(max(id), 0) FROM cases_absencecase")
        (after_case,) = cursor.fetchone()
        cursor.execute("SELECT setseed(0.2025)")
        cursor.execute(
            EMPLOYEES_SQL,
            {
                "tenant": tenant.pk, "first": first, "last": last,
                "employer_a": a.pk, "employer_b": b.pk,
                "departments_a": leaves[a.pk], "count_a": len(leaves[a.pk]),
                "departments_b": leaves[b.pk], "count_b": len(leaves[b.pk]),
            },
        )  # fmt: skip
        cursor.execute(TERMS_SQL, {"tenant": tenant.pk, "after": after_employee})
        # The has_absence_case trigger fires per row; set the fact once for the bulk instead.
        cursor.execute("ALTER TABLE cases_absencecase DISABLE TRIGGER USER")
        cursor.execute(
            CASES_SQL,
            {"tenant": tenant.pk, "after": after_employee, "spells": SPELLS_PER_EMPLOYEE},
        )
        cursor.execute("ALTER TABLE cases_absencecase ENABLE TRIGGER USER")
        cursor.execute(
            "UPDATE employees_employee SET has_absence_case = true"
            " WHERE tenant_id = %s AND id > %s",
            [tenant.pk, after_employee],
        )
        cursor.execute(PERIODS_SQL, {"tenant": tenant.pk, "after": after_case})
        cursor.execute(INCAPACITY_SQL, {"tenant": tenant.pk, "after": after_case})
        # The triggers that keep the days each set of terms and each incapacity change applies
        # (employees migration 0009, cases migration 0008) wrote those rows a second time: compact
        # them, as a table written row by row over the years would be.
        cursor.execute("VACUUM (FULL, ANALYZE) employees_employmentterms, cases_incapacitychange")
        cursor.execute("VACUUM ANALYZE")


def page_figures(hr, subtree_key=None):
    """What the figures page reads for the year: scope, chosen scope, the figures query."""
    from reports.selectors import choose_scope, scope_choices
    from reports.views import _build_report

    choices = scope_choices(hr)
    chosen = choose_scope(hr, choices, department_key=subtree_key)
    return _build_report(chosen, *YEAR, TODAY)


def year_figures(scope):
    from reports.figures import compute

    return compute(scope, [YEAR], today=TODAY)


def timed(function, *args, runs: int = RUNS) -> tuple[float, object]:
    function(*args)  # warm-up
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def count_queries(hr, subtree) -> tuple[int, int]:
    from domains.visibility import forget_access

    forget_access(hr)
    with CaptureQueriesContext(connection) as whole:
        page_figures(hr)
    forget_access(hr)
    with CaptureQueriesContext(connection) as part:
        page_figures(hr, subtree.key)
    return len(whole.captured_queries), len(part.captured_queries)


def counts() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM employees_employee),"
            " (SELECT count(*) FROM cases_absenceperiod),"
            " (SELECT count(*) FROM employees_employmentterms),"
            " (SELECT count(*) FROM cases_incapacitychange)"
        )
        employees, spells, terms, incapacity = cursor.fetchone()
    return (
        f"{employees:,} employees, {spells:,} sick spells, {terms:,} terms rows, "
        f"{incapacity:,} incapacity rows"
    )


def built_organisation():
    """The organisation a kept database already holds at full size, or None."""
    from auth2fa.models import User
    from domains.models import Department, Employer, Tenant
    from employees.models import Employee

    tenant = Tenant.objects.filter(name="Cijferbank").first()
    if tenant is None or Employee.unscoped.filter(tenant=tenant).count() != EMPLOYEES:
        return None
    employers = list(Employer.objects.filter(tenant=tenant).order_by("name"))
    hr = User.objects.get(email="hr@cijferbank.test")
    subtree = Department.objects.get(employer=employers[0], name="Afdeling 3")
    return tenant, employers, hr, subtree


def figures_hash(tenant, employers, subtree) -> str:
    """A SHA-256 of every figure of several reads (see the module's docstring)."""
    from reports.figures import Grouping, Scope, compute
    from reports.selectors import trend_months

    whole = Scope(tenant.pk, employer_ids=tuple(e.pk for e in employers))
    part = Scope(tenant.pk, department_paths=(subtree.path,))
    years = [(date(year, 1, 1), date(year, 12, 31)) for year in range(2016, 2027)]
    reads = [
        compute(whole, years, today=TODAY),
        compute(whole, [YEAR], today=TODAY),
        compute(part, [YEAR], today=TODAY),
        compute(whole, trend_months(YEAR[1]), today=TODAY),
        compute(part, trend_months(YEAR[1]), today=TODAY),
        compute(whole, trend_months(TODAY), today=TODAY),
        compute(whole, [YEAR], today=TODAY, grouping=Grouping("employer")),
        compute(whole, [YEAR], today=TODAY, grouping=Grouping("departments", employers[0].pk)),
        compute(part, [YEAR], today=TODAY, grouping=Grouping("departments", path=subtree.path)),
    ]
    digest = hashlib.sha256()
    for read in reads:
        for figures in read:
            digest.update(repr(dataclasses.asdict(figures)).encode())
        digest.update(b"|")
    return digest.hexdigest()


def main() -> None:
    from auditlog.context import disable_auditlog

    from core.tenancy import all_tenants
    from reports.figures import Scope

    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    parser.add_argument("--hash", action="store_true", help="print a hash of the figures")
    options = parser.parse_args()
    creation = connection.creation
    old_name = creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=options.keep
    )
    try:
        with all_tenants(), disable_auditlog():  # building data is not a user's action
            built = built_organisation() if options.keep else None
            if built is not None:
                tenant, employers, hr, subtree = built
                print(f"kept {counts()}")
            else:
                tenant, employers, leaves, hr, subtree = build_organisation()
                sizes: list[int] = []
                for target in (EMPLOYEES // 10, EMPLOYEES):
                    started = time.perf_counter()
                    grow(tenant, employers, leaves, sizes[-1] + 1 if sizes else 1, target)
                    print(f"built {counts()} in {time.perf_counter() - started:.1f} s")
                    whole, part = count_queries(hr, subtree)
                    sizes.append(target)
                    print(
                        "  queries for the figures page's reads:"
                        f" whole tenant {whole}, subtree {part}"
                    )
            if options.hash:
                print(f"figures hash {figures_hash(tenant, employers, subtree)}")
            whole_scope = Scope(tenant.pk, employer_ids=tuple(e.pk for e in employers))
            part_scope = Scope(tenant.pk, department_paths=(subtree.path,))
            print(f"a year's figures (2025), median of {RUNS} runs; target <= {TARGET_S:.1f} s")
            for label, scope in (("whole tenant", whole_scope), ("one subtree", part_scope)):
                seconds, result = timed(year_figures, scope)
                (figures,) = result
                verdict = "ok" if seconds <= TARGET_S else "MISSED"
                print(
                    f"  {label:<13} {seconds:6.3f} s  {verdict}  (head count {figures.headcount:,},"
                    f" absence {figures.absence_percentage:.2f} %, reports {figures.new_reports:,})"
                )
            for label, key in (("whole tenant", None), ("one subtree", subtree.key)):
                seconds, _report = timed(page_figures, hr, key, runs=PAGE_RUNS)
                print(f"  whole page ({label}: year, 12-month trend, comparison) {seconds:6.3f} s")
    finally:
        if options.keep:
            connection.close()
            connection.settings_dict["NAME"] = old_name
        else:
            creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
