"""Benchmark: the nightly retention scan on 100,000 employees and 1,000,000 cases.

Builds, in a throwaway database and set-based in SQL (INSERT ... SELECT generate_series), one
tenant with 100,000 employees at four employers (one carries its own ZW risk, one its own WGA
risk; half the employees have left, at dates spread over ten years), ten closed absence cases
each (1,000,000; one in fifty employees has a case longer than 104 weeks), 10,000 medical notes
and 1,000 legal holds; and a small tenant with a hundredth of that. Times `scan_tenant` (the
statements the beat task runs per tenant) on the large tenant, RUNS times, and prints the
time of the first scan (nothing stored yet), the median of RUNS nightly scans (yesterday's
results stored) and of a scan after a term changed; counts its queries on both tenants (they
must be equal: the scan is set-based).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/retention.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verzuim.settings")
os.environ.setdefault("VERZUIM_ENV", "test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

EMPLOYEES, CASES_EACH, RUNS = 100_000, 10, 3
TARGET_S = 10.0


def build(name: str, employees: int) -> object:
    """A tenant with `employees` employees and CASES_EACH closed cases each, built in SQL."""
    from auth2fa.models import User
    from cases.models import AbsenceCase, MedicalNote
    from domains.models import Employer, Tenant
    from employees.models import Employee
    from retention.models import LegalHold

    tenant = Tenant.objects.create(name=name)
    employers = [
        Employer.objects.create(tenant=tenant, name=f"{name} werkgever {n}", **flags)
        for n, flags in enumerate([{}, {"own_risk_zw": True}, {"own_risk_wga": True}, {}])
    ]
    user = User.objects.create_user(f"hr@{name.lower()}.test", None, tenant=tenant)
    ids = [e.pk for e in employers]
    params = {"tenant": tenant.pk, "employers": ids, "n": employees, "user": user.pk}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Employee._meta.db_table}
                (tenant_id, key, employer_id, personnel_number, initials, first_name,
                 surname_prefix, surname, birth_date, gender, postcode, email, phone,
                 employment_start, employment_end, part_time_factor, has_absence_case,
                 bsn_index, version)
            SELECT %(tenant)s, gen_random_uuid(), (%(employers)s::bigint[])[1 + g %% 4],
                   lpad(g::text, 7, '0'), '', 'Voornaam', '', 'Achternaam' || g,
                   date '1960-01-01' + (g %% 16000), '', '1234AB', '', '',
                   date '2000-01-01',
                   CASE WHEN g %% 2 = 0 THEN date '2014-01-01' + (g %% 3650) END,
                   1, false, '', 1
            FROM generate_series(1, %(n)s) g
            """,  # noqa: S608
            params,
        )
        # Ten closed cases per employee, one after the other from 2001 on; one employee in
        # fifty has a last case of 800 days (WGA).
        cursor.execute(
            f"""
            INSERT INTO {AbsenceCase._meta.db_table}
                (tenant_id, key, employee_id, case_type, first_sick_day, recovered_on,
                 expected_duration, work_accident, third_party_liable, safety_net,
                 contact_phone, contact_address, remarks, created_at)
            SELECT %(tenant)s, gen_random_uuid(), e.id, 'sickness',
                   date '2001-01-01' + (i * 400 + e.id %% 300)::int,
                   date '2001-01-01' + (i * 400 + e.id %% 300)::int
                       + (CASE WHEN i = 9 AND e.id %% 50 = 0 THEN 800 ELSE 5 + e.id %% 60 END)::int,
                   'unknown', false, false, false, '', '', '', now()
            FROM {Employee._meta.db_table} e CROSS JOIN generate_series(0, {CASES_EACH - 1}) i
            WHERE e.tenant_id = %(tenant)s
            """,  # noqa: S608
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {MedicalNote._meta.db_table}
                (tenant_id, key, case_id, text_sealed, author_id, created_at)
            SELECT %(tenant)s, gen_random_uuid(), c.id, '\\x00'::bytea, %(user)s,
                   now() - interval '1 day' * (c.id %% 9000)
            FROM {AbsenceCase._meta.db_table} c
            WHERE c.tenant_id = %(tenant)s AND c.id %% 100 = 0
            """,  # noqa: S608
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO {LegalHold._meta.db_table}
                (tenant_id, key, employee_id, reason, ends_on, placed_by_id, placed_at)
            SELECT %(tenant)s, gen_random_uuid(), e.id, 'labour_conflict',
                   date '2099-01-01', %(user)s, now()
            FROM {Employee._meta.db_table} e
            WHERE e.tenant_id = %(tenant)s AND e.id %% 100 = 7
            """,  # noqa: S608
            params,
        )
    return tenant


def queries_of_scan(tenant) -> int:
    from retention.scan import scan_tenant

    with CaptureQueriesContext(connection) as queries:
        scan_tenant(tenant)
    return len(queries)


def main() -> None:
    from core.tenancy import all_tenants
    from retention.models import RetentionDue
    from retention.scan import scan_tenant

    creation = connection.creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with all_tenants():
            started = time.perf_counter()
            large = build("Groot", EMPLOYEES)
            small = build("Klein", EMPLOYEES // 100)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(
                f"built {EMPLOYEES:,} + {EMPLOYEES // 100:,} employees with {CASES_EACH} cases "
                f"each in {time.perf_counter() - started:.1f} s"
            )
            started = time.perf_counter()
            stored = scan_tenant(large)
            first = time.perf_counter() - started
            print(f"first scan (no results stored yet): {first:.2f} s, {stored:,} results")
            # A nightly scan: yesterday's results are stored; a few hundred dates moved on (a
            # term changed for a tenth of the employees would be a bigger change, see below).
            timings = []
            for _run in range(RUNS):
                started = time.perf_counter()
                stored = scan_tenant(large)
                timings.append(time.perf_counter() - started)
            median = statistics.median(timings)
            verdict = "ok" if median <= TARGET_S else "MISSED"
            print(
                f"nightly scan of {EMPLOYEES:,} employees / {EMPLOYEES * CASES_EACH:,} cases: "
                f"median {median:.2f} s of {RUNS} runs ({', '.join(f'{t:.2f}' for t in timings)}); "
                f"target <= {TARGET_S:.0f} s: {verdict}"
            )
            with connection.cursor() as cursor:  # every employer's terms change: all rows differ
                cursor.execute(
                    "INSERT INTO retention_retentionterm (tenant_id, key, category, years, "
                    "start_event) VALUES (%s, gen_random_uuid(), 'master_data', 3, "
                    "'employment_end')",
                    [large.pk],
                )
            started = time.perf_counter()
            scan_tenant(large)
            print(
                f"scan after a term changed (a fifth of the results rewritten): "
                f"{time.perf_counter() - started:.2f} s"
            )
            past = RetentionDue.objects.filter(tenant=large, deletable_on__isnull=False).count()
            print(f"results with a deletable date: {past:,}")
            few, many = queries_of_scan(small), queries_of_scan(large)
            print(
                f"queries per scan: {few} for {EMPLOYEES // 100:,} employees, {many} for "
                f"{EMPLOYEES:,} ({'constant' if few == many else 'GROWS'})"
            )
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
