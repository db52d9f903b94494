"""The nightly retention scan: for every employee and data category, the date its data becomes
deletable, computed set-based in SQL and stored in RetentionDue for the overview.

It marks; it never deletes (deletion is a person's decision, seed 002). Per tenant it runs a
fixed number of statements, whatever the number of employees or cases: one read of the terms,
the fresh results into a temporary table, one DELETE of the stored results that differ from them,
one INSERT of the fresh ones not stored (bench/retention.py: 100,000 employees, 1,000,000 cases).

How a date is found (reference/retention.md):
- a category applies only when there is data of it: absence data when the employee has a case,
  ERD-ZW data when the employer bears the ZW risk and there is a case, WGA data when the
  employer bears the WGA risk and a case lasted 104 weeks (WGA follows the WIA assessment), the
  medical file when it has a note or document, sign-in records when an SMS names the person's
  account; master data always;
- the start event: end of employment (empty while employed), recovery from the last case
  (empty while a case is open), or the medical file's last change;
- absence, ERD-ZW and WGA data are the same rows (the cases), so they become deletable together,
  on the latest of their dates; the employee row (master data) goes last, when every category
  that applies has passed; an open case is never deletable;
- an active legal hold on the employee or one of its cases marks every row of the employee.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone

from auth2fa.models import SMSMessage, User
from cases.models import AbsenceCase, MedicalDocument, MedicalNote
from core.tenancy import all_tenants
from domains.models import Employer, Tenant
from employees.models import Employee
from retention.models import CASE_CATEGORIES, LegalHold, RetentionDue
from retention.selectors import terms_of

WGA_AFTER_DAYS = 104 * 7  # WGA follows the WIA assessment after 104 weeks of sickness

# Table names come from the models (never from input); every value is a bound parameter.
SCAN_SQL = f"""
WITH cases AS (
    SELECT employee_id,
           bool_or(recovered_on IS NULL) AS has_open,
           max(recovered_on) AS last_recovery,
           bool_or(COALESCE(recovered_on, %(today)s) - first_sick_day >= %(wga_days)s) AS long_case
    FROM {AbsenceCase._meta.db_table}
    WHERE tenant_id = %(tenant)s
    GROUP BY employee_id
), medical AS (
    SELECT c.employee_id, max(m.changed_at)::date AS last_change
    FROM (
        SELECT case_id, created_at AS changed_at FROM {MedicalNote._meta.db_table}
        WHERE tenant_id = %(tenant)s
        UNION ALL
        SELECT case_id, uploaded_at FROM {MedicalDocument._meta.db_table}
        WHERE tenant_id = %(tenant)s
    ) m
    JOIN {AbsenceCase._meta.db_table} c ON c.id = m.case_id
    GROUP BY c.employee_id
), sms AS (
    SELECT DISTINCT u.employee_id
    FROM {SMSMessage._meta.db_table} s JOIN {User._meta.db_table} u ON u.id = s.user_id
    WHERE s.tenant_id = %(tenant)s AND u.employee_id IS NOT NULL
), holds AS (
    SELECT DISTINCT employee_id FROM {LegalHold._meta.db_table}
    WHERE tenant_id = %(tenant)s AND lifted_at IS NULL AND ends_on >= %(today)s
), facts AS (
    SELECT e.id AS employee_id, e.employment_end, er.own_risk_zw, er.own_risk_wga,
           ca.employee_id IS NOT NULL AS has_case, COALESCE(ca.has_open, false) AS has_open,
           ca.last_recovery, COALESCE(ca.long_case, false) AS long_case, md.last_change,
           sm.employee_id IS NOT NULL AS has_sms, h.employee_id IS NOT NULL AS on_hold
    FROM {Employee._meta.db_table} e
    JOIN {Employer._meta.db_table} er ON er.id = e.employer_id
    LEFT JOIN cases ca ON ca.employee_id = e.id
    LEFT JOIN medical md ON md.employee_id = e.id
    LEFT JOIN sms sm ON sm.employee_id = e.id
    LEFT JOIN holds h ON h.employee_id = e.id
    WHERE e.tenant_id = %(tenant)s
), terms (category, years, start_event) AS (
    SELECT * FROM unnest(%(categories)s::text[], %(years)s::int[], %(start_events)s::text[])
), dated AS (
    SELECT f.employee_id, f.on_hold, t.category, t.years, t.start_event, started_on,
           CASE WHEN f.has_open AND t.category = ANY(%(case_categories)s::text[]) THEN NULL
                ELSE (started_on + make_interval(years => t.years))::date END AS own_date
    FROM facts f
    CROSS JOIN terms t
    CROSS JOIN LATERAL (SELECT CASE t.start_event
        WHEN 'employment_end' THEN f.employment_end
        WHEN 'recovery' THEN CASE WHEN f.has_open THEN NULL ELSE f.last_recovery END
        WHEN 'last_change' THEN f.last_change END AS started_on) s
    WHERE CASE t.category
        WHEN 'absence' THEN f.has_case
        WHEN 'master_data' THEN true
        WHEN 'erd_zw' THEN f.has_case AND f.own_risk_zw
        WHEN 'wga' THEN f.long_case AND f.own_risk_wga
        WHEN 'medical' THEN f.last_change IS NOT NULL
        WHEN 'sign_in' THEN f.has_sms
        ELSE false END
), combined AS (
    SELECT d.*,
           bool_or(own_date IS NULL) OVER employee AS any_unknown,
           max(own_date) OVER employee AS latest,
           bool_or(own_date IS NULL)
               FILTER (WHERE category = ANY(%(case_categories)s::text[])) OVER employee
               AS case_unknown,
           max(own_date) FILTER (WHERE category = ANY(%(case_categories)s::text[])) OVER employee
               AS case_latest
    FROM dated d
    WINDOW employee AS (PARTITION BY employee_id)
)
SELECT employee_id, category, years, start_event, started_on,
       CASE
           WHEN category = 'master_data' THEN CASE WHEN any_unknown THEN NULL ELSE latest END
           WHEN category = ANY(%(case_categories)s::text[])
               THEN CASE WHEN case_unknown THEN NULL ELSE case_latest END
           ELSE own_date
       END AS deletable_on,
       on_hold
FROM combined
"""  # noqa: S608

# The results are compared with the stored ones and only the differences written: a nightly
# scan changes few rows, and rewriting every row (a fifth of a million on the benchmark's
# tenant, with their index entries) cost most of the time. Unchanged rows keep their key, so a
# selection made on the overview survives the next scan.
DUE = RetentionDue._meta.db_table
SAME_RESULT = """
    f.employee_id = d.employee_id AND f.category = d.category AND f.years = d.years
    AND f.start_event = d.start_event AND f.started_on IS NOT DISTINCT FROM d.started_on
    AND f.deletable_on IS NOT DISTINCT FROM d.deletable_on AND f.on_hold = d.on_hold
"""
DELETE_STALE_SQL = f"""
DELETE FROM {DUE} d WHERE d.tenant_id = %(tenant)s
AND NOT EXISTS (SELECT 1 FROM pg_temp.retention_fresh f WHERE {SAME_RESULT})
"""  # noqa: S608
# The unchanged results are still stored: the fresh ones are inserted but for those.
INSERT_NEW_SQL = f"""
INSERT INTO {DUE}
    (tenant_id, key, employee_id, category, years, start_event, started_on, deletable_on,
     on_hold, scanned_at)
SELECT %(tenant)s, gen_random_uuid(), f.employee_id, f.category, f.years, f.start_event,
       f.started_on, f.deletable_on, f.on_hold, %(now)s
FROM pg_temp.retention_fresh f
ON CONFLICT (employee_id, category) DO NOTHING
"""  # noqa: S608


def scan_tenant(tenant: Tenant, *, today: date | None = None) -> int:
    """Bring the tenant's stored results up to date; returns the number of results."""
    terms = terms_of(tenant)
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "today": today or timezone.localdate(),
        "now": timezone.now(),
        "wga_days": WGA_AFTER_DAYS,
        "categories": [term.category for term in terms.values()],
        "years": [term.years for term in terms.values()],
        "start_events": [term.start_event for term in terms.values()],
        "case_categories": [str(category) for category in CASE_CATEGORIES],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.retention_fresh")
        cursor.execute(f"CREATE TEMPORARY TABLE retention_fresh AS {SCAN_SQL}", params)
        stored = cursor.rowcount
        # An index and statistics, so the comparison with the stored results is a hash join or
        # an index probe per row, whatever the (possibly stale) statistics of the stored ones.
        cursor.execute("CREATE INDEX ON pg_temp.retention_fresh (employee_id, category)")
        cursor.execute("ANALYZE pg_temp.retention_fresh")
        cursor.execute(DELETE_STALE_SQL, params)
        cursor.execute(INSERT_NEW_SQL, params)
        cursor.execute("DROP TABLE pg_temp.retention_fresh")
        return stored


@shared_task(name="retention.tasks.scan_all_tenants")
def scan_all_tenants() -> int:
    """The nightly beat task: scan every tenant (it only marks; nothing is deleted)."""
    stored = 0
    with all_tenants():
        for tenant in Tenant.objects.order_by("pk"):
            stored += scan_tenant(tenant)
    return stored
