"""Absence figures by the national definitions (CBS 1996 "Berekening van ziekteverzuim", as
Vernet applies them), computed in one SQL statement for any number of periods (a year, twelve
months) and groups (departments, employers); README "Management information" lists every choice
the sources leave open.

Everything is range arithmetic on dated intervals, never a loop over days (and in whole numbers:
part-time factors in thousandths, incapacity in percent, so sums are exact and fast): an employee's
employment, the intervals of their part-time factor (EmploymentTerms, each valid until the next
one starts; the first also covers the days before it), each sick spell (AbsencePeriod) and the
intervals of its incapacity (IncapacityChange, each valid until the next one of the case) are
intersected with each reporting period; the length of an intersection times its factors is the
weight of those days.

Definitions, in short (the page says the same):
- a sick report (ziekmelding) is one sick spell: an absence that continues an earlier case within
  28 days (the Poortwachter count, art. 7:629 lid 10 BW) is a new report for the figures, as the
  CBS standard counts it; a partial recovery is not;
- the recovery date (hersteldatum) is the first day back at work; a spell lasts from its first
  sick day up to the day before it, both counted, so its length is hersteldatum − first sick day;
  it ends in a period when its last sick day lies in it;
- pregnancy-related cases count in none of the figures but their own percentage; their days stay
  in the denominator (the worked example of the reference does the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from cases.models import DURATION_CLASS_DAYS, CaseType
from cases.poortwachter import RULES_BY_KIND

MIN_GROUP_SIZE = 5  # no figure for fewer employees: it would reveal one person's absence
WEEK_42_DAYS = RULES_BY_KIND["uwv_42"].sick_days
WEEK_52_DAYS = RULES_BY_KIND["first_year_evaluation"].sick_days

# Vernet's duration classes (days), as the case list filters by them (cases/models.py): the class
# of a spell is its length up to the end of the period (or its recovery, when earlier). Vernet
# ends at 730 days; longer spells are counted in the last class too, so the classes add up to the
# whole percentage (the CBS counts absence longer than a year in full).
DURATION_CLASSES: list[tuple[str, int, int | None]] = [
    (str(duration_class.value), low, high)
    for duration_class, (low, high) in DURATION_CLASS_DAYS.items()
]


@dataclass(frozen=True)
class Scope:
    """Which employees the figures cover: a tenant's employees of these employers or in these
    department subtrees (paths), optionally grouped (see `GROUPINGS`)."""

    tenant_id: int
    employer_ids: tuple[int, ...] = ()
    department_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grouping:
    """How employees fall into groups: `employer` (by employer), `departments` (the top-level
    departments of `employer_id`, or the child departments of the department at `path`, each with
    its subtree; employees directly in the parent form the group None), or None: one group."""

    kind: str | None = None
    employer_id: int | None = None
    path: str = ""


@dataclass
class Figures:
    """The raw sums of one period and group; the figures are derived from them."""

    period_from: date
    period_to: date
    group: int | None
    headcount: int = 0  # employees employed on at least one day of the period
    employed_days: Decimal = Decimal(0)  # Σ calendar days employed
    fte_days: Decimal = Decimal(0)  # Σ calendar days employed × part-time factor
    sick_fte_days: Decimal = Decimal(0)  # Σ sick days × part-time factor × incapacity
    pregnancy_fte_days: Decimal = Decimal(0)
    class_fte_days: dict[str, Decimal] = field(default_factory=dict)
    class_counts: dict[str, int] = field(default_factory=dict)
    new_reports: int = 0
    ended: int = 0
    ended_days: int = 0
    without_sick_day: int = 0
    open_cases: int = 0
    open_past_42: int = 0
    open_past_52: int = 0

    @property
    def days_in_period(self) -> int:
        return (self.period_to - self.period_from).days + 1

    @property
    def suppressed(self) -> bool:
        return self.headcount < MIN_GROUP_SIZE

    @staticmethod
    def _percentage(part: Decimal, whole: Decimal) -> Decimal | None:
        return part * 100 / whole if whole else None

    @property
    def absence_percentage(self) -> Decimal | None:
        return self._percentage(self.sick_fte_days, self.fte_days)

    @property
    def pregnancy_percentage(self) -> Decimal | None:
        return self._percentage(self.pregnancy_fte_days, self.fte_days)

    def class_percentage(self, name: str) -> Decimal | None:
        return self._percentage(self.class_fte_days.get(name, Decimal(0)), self.fte_days)

    @property
    def average_headcount(self) -> Decimal:
        return self.employed_days / self.days_in_period

    @property
    def report_frequency(self) -> Decimal | None:
        """New reports per average employee (head count), annualised: × 365 ÷ days in period."""
        if not self.employed_days:
            return None
        return Decimal(self.new_reports) / self.average_headcount * 365 / self.days_in_period

    @property
    def average_duration(self) -> Decimal | None:
        return Decimal(self.ended_days) / self.ended if self.ended else None

    @property
    def zero_absence_percentage(self) -> Decimal | None:
        if not self.headcount:
            return None
        return Decimal(self.without_sick_day) * 100 / self.headcount


def combined(groups: Sequence[Figures], period_from: date, period_to: date) -> Figures:
    """The figures of a period's groups as one (group None). Every raw figure is a sum over
    employees (employees with no sick day and those employed are counted per employee too),
    and each employee is in exactly one group, so the groups add up to the whole."""
    total = Figures(period_from, period_to, group=None)
    for figures in groups:
        if (figures.period_from, figures.period_to) != (period_from, period_to):
            raise ValueError("combined() adds up the groups of one period")
        for name in _SUMMED:
            mine, theirs = getattr(total, name), getattr(figures, name)
            if isinstance(mine, dict):  # per duration class
                for key, value in theirs.items():
                    mine[key] = mine.get(key, 0) + value
            else:
                setattr(total, name, mine + theirs)
    return total


# Every raw figure: all of Figures but what names the period and the group.
_SUMMED = [f.name for f in fields(Figures) if f.name not in {"period_from", "period_to", "group"}]


def _group_expression(grouping: Grouping) -> tuple[str, list[object]]:
    """SQL for an employee's group key (e: employee, d: their department), and its parameters."""
    if grouping.kind == "employer":
        return "e.employer_id", []
    if grouping.kind == "departments":
        if grouping.path:
            # "/1/4/9/" under "/1/": the id after the parent's path ("4"); "" directly in it.
            return (
                "NULLIF(split_part(substr(d.path, length(%s)), '/', 2), '')::bigint",
                [grouping.path],
            )
        return "NULLIF(split_part(d.path, '/', 2), '')::bigint", []
    return "NULL::bigint", []


FIGURES_SQL = """
WITH periods AS (
    SELECT n::int AS pid, f AS p_from, t AS p_to, LEAST(t, %(today)s::date) AS p_ref
      FROM unnest(%(froms)s::date[], %(tos)s::date[]) WITH ORDINALITY AS x(f, t, n)
),
emp AS MATERIALIZED (
    SELECT e.id, e.employment_start AS e_from,
           COALESCE(e.employment_end, 'infinity'::date) AS e_to,
           e.part_time_factor, {group_sql} AS grp
      FROM employees_employee e
      LEFT JOIN domains_department d ON d.id = e.department_id
     WHERE e.tenant_id = %(tenant)s
       AND (e.employer_id = ANY(%(employers)s::bigint[])
            OR d.path LIKE ANY(%(paths)s::text[]))
       AND e.employment_start <= %(hi)s
       AND (e.employment_end IS NULL OR e.employment_end >= %(lo)s)
),
-- The part-time factor per interval: each set of terms until the next; the first also before
-- (the days each set applies are stored with it, employees migration 0009); an employee without
-- terms has their own factor throughout. With the employee's employment and group, so the sums
-- below need no second join with the employees. Only the terms applying in the periods.
dtf AS MATERIALIZED (
    SELECT e.id AS emp_id, e.grp, e.e_from, e.e_to,
           COALESCE(t.applies_from, '-infinity'::date) AS f_from,
           COALESCE(t.applies_until, 'infinity'::date) AS f_to,
           CASE WHEN t.id IS NULL THEN (e.part_time_factor * 1000)::int
                ELSE LEAST(1000, ROUND(t.contract_hours * 1000 / t.full_time_hours))::int
           END AS factor
      FROM emp e
      LEFT JOIN employees_employmentterms t
        ON t.employee_id = e.id
       AND (t.applies_from IS NULL OR t.applies_from <= %(hi)s)
       AND (t.applies_until IS NULL OR t.applies_until >= %(lo)s)
),
-- Head count and days employed, and days employed × part-time factor, per period and group.
-- Most employees are employed (at one part-time factor) over the whole range of the periods:
-- they count in every period with all its days, so they are summed once per group and spread
-- over the periods; only the others are intersected with each period (a 12-month trend joined
-- every employee with every month).
heads AS (
    SELECT pid, grp, SUM(headcount)::bigint AS headcount, SUM(days)::bigint AS days
      FROM (
        SELECT p.pid, w.grp, w.headcount, w.headcount * (p.p_to - p.p_from + 1) AS days
          FROM (SELECT grp, COUNT(*) AS headcount FROM emp
                 WHERE e_from <= %(lo)s AND e_to >= %(hi)s
                 GROUP BY grp) w
         CROSS JOIN periods p
        UNION ALL
        SELECT p.pid, e.grp, 1, LEAST(e.e_to, p.p_to) - GREATEST(e.e_from, p.p_from) + 1
          FROM emp e JOIN periods p ON e.e_from <= p.p_to AND e.e_to >= p.p_from
         WHERE NOT (e.e_from <= %(lo)s AND e.e_to >= %(hi)s)
      ) h
     GROUP BY pid, grp
),
fte AS (
    SELECT pid, grp, SUM(fte_days)::bigint AS fte_days
      FROM (
        SELECT p.pid, w.grp, w.factors * (p.p_to - p.p_from + 1) AS fte_days
          FROM (SELECT grp, SUM(factor) AS factors FROM dtf
                 WHERE e_from <= %(lo)s AND e_to >= %(hi)s
                   AND f_from <= %(lo)s AND f_to >= %(hi)s
                 GROUP BY grp) w
         CROSS JOIN periods p
        UNION ALL
        SELECT p.pid, f.grp,
               (LEAST(f.e_to, f.f_to, p.p_to) - GREATEST(f.e_from, f.f_from, p.p_from) + 1)
               * f.factor
          FROM dtf f
          JOIN periods p
            ON LEAST(f.e_to, f.f_to, p.p_to) >= GREATEST(f.e_from, f.f_from, p.p_from)
         WHERE NOT (f.e_from <= %(lo)s AND f.e_to >= %(hi)s
                    AND f.f_from <= %(lo)s AND f.f_to >= %(hi)s)
      ) x
     GROUP BY pid, grp
),
-- The spells carry their case's employee and type (cases migration 0008), so the cases are not
-- read; a covering index has all this reads of the spells of the periods (an index-only scan).
spells AS (
    SELECT ap.case_id, ap.employee_id AS emp_id, ap.case_type, ap.starts_on, ap.ends_on,
           COALESCE(ap.ends_on, 'infinity'::date) AS s_to, e.grp, e.e_from, e.e_to
      FROM cases_absenceperiod ap
      JOIN emp e ON e.id = ap.employee_id
     WHERE ap.tenant_id = %(tenant)s
       -- The spell's days as a range (open: unbounded), as the GiST index on it has them.
       AND daterange(ap.starts_on, ap.ends_on, '[]') && daterange(%(lo)s, %(hi)s, '[]')
),
-- Each spell with a sick day in a period while the employee is employed, with its duration
-- class: its length up to the end of the period (or its recovery, when earlier).
spell_periods AS MATERIALIZED (
    SELECT p.pid, s.grp, s.case_id, s.emp_id, s.case_type, s.starts_on, s.ends_on,
           s.e_from, p.p_from, p.p_to,
           -- The spell's days within the employment and the period.
           GREATEST(s.starts_on, s.e_from, p.p_from) AS d_from,
           LEAST(s.s_to, s.e_to, p.p_to) AS d_to,
           {class_case} AS class
      FROM spells s
      JOIN periods p ON s.starts_on <= LEAST(p.p_to, s.e_to)
                    AND s.s_to >= GREATEST(p.p_from, s.e_from)
),
-- Incapacity per interval of a case: each change until the next; the first also before. Each
-- change stores those days, bounded by its case's first sick day and recovery (cases migration
-- 0008; a case spans its spells, so the bounds change no sum), so the changes applying in the
-- periods are read from the covering GiST index on them (the expression must stay the index's):
-- those of the cases with a spell in the periods (the join with the spells keeps the scope's).
incapacity AS (
    SELECT ic.case_id, ic.applies_from AS i_from,
           COALESCE(ic.applies_until, 'infinity'::date) AS i_to, ic.percentage::int AS ao
      FROM cases_incapacitychange ic
     WHERE ic.tenant_id = %(tenant)s
       AND daterange(ic.applies_from, ic.applies_until + 1) && daterange(%(lo)s, %(hi)s, '[]')
),
-- Σ sick days × part-time factor × incapacity: the intersection of spell, incapacity interval,
-- factor interval, employment and period, times its factors.
sick_parts AS (
    SELECT sp.pid, sp.grp, sp.case_type, sp.class, SUM(w.weight) AS weight
      FROM spell_periods sp
      JOIN incapacity i ON i.case_id = sp.case_id
      JOIN dtf f ON f.emp_id = sp.emp_id
      CROSS JOIN LATERAL (
          SELECT (LEAST(sp.d_to, i.i_to, f.f_to) - GREATEST(sp.d_from, i.i_from, f.f_from) + 1)
                 * f.factor * i.ao AS weight
      ) w
     WHERE LEAST(sp.d_to, i.i_to, f.f_to) >= GREATEST(sp.d_from, i.i_from, f.f_from)
     GROUP BY sp.pid, sp.grp, sp.case_type, sp.class
),
sick_totals AS (
    SELECT sp.pid, sp.grp,
           {class_sums}
      FROM sick_parts sp
     GROUP BY sp.pid, sp.grp
),
-- Reports, endings, classes and the employees with a sick day, from the spells themselves.
events AS (
    SELECT pid, grp,
           COUNT(*) FILTER (WHERE case_type = %(sickness)s
                            AND starts_on >= GREATEST(p_from, e_from)) AS new_reports,
           COUNT(*) FILTER (WHERE case_type = %(sickness)s AND ends_on <= p_to) AS ended,
           COALESCE(SUM(ends_on + 1 - starts_on)
                    FILTER (WHERE case_type = %(sickness)s AND ends_on <= p_to), 0) AS ended_days,
           COUNT(DISTINCT emp_id) FILTER (WHERE case_type = %(sickness)s) AS sick_employees,
           {class_counts}
      FROM spell_periods
     GROUP BY pid, grp
),
-- Cases open on the last day of the period (or today, when that is earlier), with the sick
-- days they have counted by then (all their spells, also those before the period). The sickness
-- cases open on any of those days are found once, not once per period.
open_candidates AS MATERIALIZED (
    SELECT c.id, c.first_sick_day, c.recovered_on, e.grp, e.e_from, e.e_to
      FROM cases_absencecase c
      JOIN emp e ON e.id = c.employee_id
     WHERE c.tenant_id = %(tenant)s AND c.case_type = %(sickness)s
       AND c.first_sick_day <= %(last_ref)s
       AND (c.recovered_on IS NULL OR c.recovered_on > %(first_ref)s)
),
open_cases AS (
    SELECT p.pid, c.grp,
           COUNT(*) AS open_cases,
           COUNT(*) FILTER (WHERE w.sick_days >= %(week42)s) AS past_42,
           COUNT(*) FILTER (WHERE w.sick_days >= %(week52)s) AS past_52
      FROM open_candidates c
      JOIN periods p ON c.first_sick_day <= p.p_ref
                    AND (c.recovered_on IS NULL OR c.recovered_on > p.p_ref)
                    AND c.e_from <= p.p_ref AND c.e_to >= p.p_ref
      CROSS JOIN LATERAL (
          SELECT SUM(LEAST(COALESCE(ap.ends_on, p.p_ref), p.p_ref) - ap.starts_on + 1)
                     AS sick_days
            FROM cases_absenceperiod ap
           WHERE ap.case_id = c.id AND ap.starts_on <= p.p_ref
      ) w
     GROUP BY p.pid, c.grp
)
SELECT h.pid, h.grp, h.headcount, h.days, COALESCE(t.fte_days, 0)::numeric / 1000,
       h.headcount - COALESCE(v.sick_employees, 0),
       COALESCE(k.sick, 0)::numeric / 100000, COALESCE(k.pregnancy, 0)::numeric / 100000,
       {class_columns},
       COALESCE(v.new_reports, 0), COALESCE(v.ended, 0), COALESCE(v.ended_days, 0),
       COALESCE(o.open_cases, 0), COALESCE(o.past_42, 0), COALESCE(o.past_52, 0)
  FROM heads h
  LEFT JOIN fte t ON t.pid = h.pid AND t.grp IS NOT DISTINCT FROM h.grp
  LEFT JOIN sick_totals k ON k.pid = h.pid AND k.grp IS NOT DISTINCT FROM h.grp
  LEFT JOIN events v ON v.pid = h.pid AND v.grp IS NOT DISTINCT FROM h.grp
  LEFT JOIN open_cases o ON o.pid = h.pid AND o.grp IS NOT DISTINCT FROM h.grp
 ORDER BY h.pid, h.grp NULLS FIRST
"""

_CLASS_SUMS = ",\n           ".join(
    [
        "COALESCE(SUM(weight) FILTER (WHERE sp.case_type = %(sickness)s), 0) AS sick",
        "COALESCE(SUM(weight) FILTER (WHERE sp.case_type = %(pregnancy)s), 0) AS pregnancy",
        *(
            f"COALESCE(SUM(weight) FILTER (WHERE sp.case_type = %(sickness)s"
            f" AND sp.class = '{name}'), 0) AS fte_{name}"
            for name, _low, _high in DURATION_CLASSES
        ),
    ]
)
# The spell's class by its length up to the end of the period (or its recovery, when earlier).
_CLASS_CASE = (
    "CASE "
    + " ".join(
        f"WHEN LEAST(s.s_to, p.p_to) + 1 - s.starts_on <= {high} THEN '{name}'"
        for name, _low, high in DURATION_CLASSES
        if high is not None
    )
    + f" ELSE '{DURATION_CLASSES[-1][0]}' END"
)
_CLASS_COUNTS = ",\n           ".join(
    f"COUNT(*) FILTER (WHERE case_type = %(sickness)s AND class = '{name}') AS n_{name}"
    for name, _low, _high in DURATION_CLASSES
)
_CLASS_COLUMNS = ", ".join(
    f"COALESCE(k.fte_{name}, 0)::numeric / 100000, COALESCE(v.n_{name}, 0)"
    for name, _low, _high in DURATION_CLASSES
)


def compute(
    scope: Scope,
    periods: Sequence[tuple[date, date]],
    *,
    today: date,
    grouping: Grouping | None = None,
) -> list[Figures]:
    """The figures of every period (and group) for the employees in `scope`: one query.

    Returns one Figures per period and group that has anyone employed in it, in period order.
    `today` bounds the day on which open cases are counted (a period reaching into the future
    counts those open today)."""
    if not periods or not (scope.employer_ids or scope.department_paths):
        return []
    group_sql, group_params = _group_expression(grouping or Grouping())
    sql = FIGURES_SQL.format(
        group_sql=group_sql.replace("%s", "%(group_path)s"),
        class_case=_CLASS_CASE,
        class_sums=_CLASS_SUMS,
        class_counts=_CLASS_COUNTS,
        class_columns=_CLASS_COLUMNS,
    )
    params: dict[str, Any] = {
        "today": today,
        "froms": [start for start, _end in periods],
        "tos": [end for _start, end in periods],
        "tenant": scope.tenant_id,
        "lo": min(start for start, _end in periods),
        "hi": max(end for _start, end in periods),
        "first_ref": min(min(end, today) for _start, end in periods),
        "last_ref": max(min(end, today) for _start, end in periods),
        "employers": list(scope.employer_ids),
        "paths": [f"{path}%" for path in scope.department_paths],
        "sickness": CaseType.SICKNESS.value,
        "pregnancy": CaseType.PREGNANCY.value,
        "week42": WEEK_42_DAYS,
        "week52": WEEK_52_DAYS,
        "group_path": group_params[0] if group_params else "",
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # For this statement only: no JIT (PostgreSQL would compile it, its estimated cost being
        # high, and compiling its many expressions took longer than running it: 1-3 s on
        # 100,000 employees), and sorts of a tenant's spells in memory rather than on disk.
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', '32MB', true)"
        )
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    results = []
    for row in rows:
        pid, grp, headcount, days, fte_days, without, sick, pregnancy, *rest = row
        period_from, period_to = periods[pid - 1]
        figures = Figures(
            period_from=period_from,
            period_to=period_to,
            group=grp,
            headcount=headcount,
            employed_days=Decimal(days),
            fte_days=Decimal(fte_days),
            without_sick_day=without,
            sick_fte_days=Decimal(sick),
            pregnancy_fte_days=Decimal(pregnancy),
        )
        for name, _low, _high in DURATION_CLASSES:
            class_days, class_count, *rest = rest
            figures.class_fte_days[name] = Decimal(class_days)
            figures.class_counts[name] = class_count
        (
            figures.new_reports,
            figures.ended,
            figures.ended_days,
            figures.open_cases,
            figures.open_past_42,
            figures.open_past_52,
        ) = rest
        results.append(figures)
    return results
