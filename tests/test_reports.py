"""Management information: the figures against hand-computed fixtures (the worked example of
shared/reference/kpi.md exactly, and each rule the definitions name), the small-group rule, who
sees which figures, constant query counts, the audit trail and the exports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from cases.models import AbsencePeriod, CaseType, IncapacityChange
from domains.models import Department, Employer, RoleAssignment
from employees.models import EmploymentTerms
from reports.figures import Figures, Scope, compute
from tests.conftest import make_employee, report_sick, verified_login
from tests.test_audit import last_pk, new_records

Q1_2025 = (date(2025, 1, 1), date(2025, 3, 31))
TODAY = date(2026, 11, 30)


def two(value: Decimal | None) -> Decimal:
    assert value is not None
    return value.quantize(Decimal("0.01"))


def staff(employer: Employer, *, factor: str = "1", start=date(2020, 1, 1), **fields):
    """An employee with terms from the start of employment: contract hours of a 40-hour week."""
    employee = make_employee(employer, employment_start=start, **fields)
    EmploymentTerms.objects.create(
        tenant=employer.tenant, employee=employee, valid_from=start,
        contract_hours=Decimal(factor) * 40, full_time_hours=Decimal(40),
    )  # fmt: skip
    return employee


def figures_of(employer: Employer, period=Q1_2025, **kwargs) -> Figures:
    (figures,) = compute(
        Scope(employer.tenant_id, employer_ids=(employer.pk,)), [period], today=TODAY, **kwargs
    )
    return figures


@pytest.fixture
def worked_example(world):
    """kpi.md §3: five employees in Q1 2025."""
    employer = Employer.objects.create(tenant=world.tenant, name="Voorbeeld BV")
    a = staff(employer, surname="A")
    b = staff(employer, factor="0.6", surname="B")
    c = staff(employer, surname="C")
    staff(employer, factor="0.8", start=date(2025, 2, 1), surname="D")
    e = staff(employer, surname="E")
    report_sick(a, date(2025, 1, 6), recovered_on=date(2025, 1, 13))
    report_sick(b, date(2024, 12, 20), recovered_on=date(2025, 2, 1))
    case_c = report_sick(c, date(2025, 3, 1))
    IncapacityChange.objects.filter(case=case_c).update(percentage=50)
    report_sick(e, date(2025, 2, 10), case_type=CaseType.PREGNANCY)
    return employer


def test_worked_example_of_the_reference_exactly(worked_example):
    f = figures_of(worked_example)
    assert f.sick_fte_days == Decimal("41.1")
    assert f.fte_days == Decimal("371.2")
    assert two(f.absence_percentage) == Decimal("11.07")
    assert two(f.class_percentage("short")) == Decimal("1.89")
    assert two(f.class_percentage("medium")) == Decimal("9.19")
    assert f.class_counts == {"short": 1, "medium": 2, "long": 0, "extra_long": 0}
    assert f.new_reports == 2
    assert two(f.average_headcount) == Decimal("4.66")
    assert two(f.report_frequency) == Decimal("1.74")
    assert f.ended == 2 and f.ended_days == 50
    assert two(f.average_duration) == Decimal("25.00")
    assert f.without_sick_day == 2 and f.headcount == 5
    assert two(f.zero_absence_percentage) == Decimal("40.00")
    # E's pregnancy-related absence: its own figure (from 10 Feb: 50 days of 371.2).
    assert f.pregnancy_fte_days == Decimal("50")
    assert two(f.pregnancy_percentage) == Decimal("13.47")
    assert f.open_cases == 1  # C (E's case is pregnancy-related)


# Each rule on its own, in a group of five employees (the small-group rule needs five): four
# full-timers who are never sick (4 × 90 = 360 fte-days in Q1 2025) and the one under test.
@pytest.fixture
def employer_of_five(world):
    employer = Employer.objects.create(tenant=world.tenant, name="Vijf BV")
    for number in range(4):
        staff(employer, surname=f"Gezond{number}")
    return employer


def test_part_time_change_mid_period_weighs_each_day_by_its_own_factor(employer_of_five):
    employee = staff(employer_of_five, factor="1", surname="Deeltijd")
    EmploymentTerms.objects.create(
        tenant=employee.tenant, employee=employee, valid_from=date(2025, 2, 1),
        contract_hours=Decimal(20), full_time_hours=Decimal(40),
    )  # fmt: skip
    report_sick(employee, date(2025, 1, 22), recovered_on=date(2025, 2, 11))  # 22 Jan – 10 Feb
    f = figures_of(employer_of_five)
    # Employed: 31 days × 1.0 + 59 days × 0.5; sick: 10 days × 1.0 + 10 days × 0.5.
    assert f.fte_days == Decimal(360) + Decimal("31") + Decimal("29.5")
    assert f.sick_fte_days == Decimal("15.0")
    assert two(f.absence_percentage) == Decimal("3.57")  # 15 / 420.5


def test_partial_recovery_lowers_the_incapacity_from_its_date(employer_of_five):
    employee = staff(employer_of_five, surname="Half")
    case = report_sick(employee, date(2025, 3, 1), recovered_on=date(2025, 3, 21))
    IncapacityChange.objects.create(
        tenant=case.tenant, case=case, starts_on=date(2025, 3, 11), percentage=40
    )
    f = figures_of(employer_of_five)
    assert f.sick_fte_days == Decimal("14.0")  # 10 days × 100 % + 10 days × 40 %
    assert f.new_reports == 1  # the partial recovery is no new report
    assert f.ended == 1 and f.ended_days == 20


def test_absence_continuing_a_case_within_28_days_is_a_new_report_but_no_gap_days(
    employer_of_five,
):
    employee = staff(employer_of_five, surname="Terug")
    case = report_sick(employee, date(2025, 1, 6), recovered_on=date(2025, 1, 16))
    # Ten healthy days later the absence continues the case (services.report_sick's merge).
    AbsencePeriod.objects.create(
        tenant=case.tenant, case=case, starts_on=date(2025, 1, 26), ends_on=date(2025, 2, 4)
    )
    IncapacityChange.objects.create(
        tenant=case.tenant, case=case, starts_on=date(2025, 1, 26), percentage=100
    )
    case.recovered_on = date(2025, 2, 5)
    case.save()
    f = figures_of(employer_of_five)
    assert f.sick_fte_days == Decimal("20.0")  # 10 + 10 sick days, the 10 healthy ones not
    assert f.new_reports == 2
    assert f.ended == 2 and f.ended_days == 20
    assert f.class_counts["short"] == 2


def test_case_open_across_two_years_counts_its_days_in_each_and_its_full_length(
    employer_of_five,
):
    employee = staff(employer_of_five, surname="Lang")
    report_sick(employee, date(2024, 11, 1), recovered_on=date(2025, 2, 1))
    late_2024 = figures_of(employer_of_five, period=(date(2024, 10, 1), date(2024, 12, 31)))
    q1 = figures_of(employer_of_five)
    assert late_2024.sick_fte_days == Decimal("61.0")  # November and December
    assert late_2024.new_reports == 1 and late_2024.ended == 0
    assert late_2024.class_counts["medium"] == 1  # 61 days up to the end of that period
    assert q1.sick_fte_days == Decimal("31.0")  # January
    assert q1.new_reports == 0
    assert q1.ended == 1 and q1.ended_days == 92  # from its first sick day, days before included
    assert q1.class_counts["long"] == 1


def test_employees_starting_and_leaving_mid_period_count_pro_rata(employer_of_five):
    starter = staff(employer_of_five, start=date(2025, 3, 2), surname="Nieuw")  # 30 days
    leaver = staff(employer_of_five, factor="0.5", surname="Weg")
    leaver.employment_end = date(2025, 1, 10)  # 10 days
    leaver.save()
    # Sick from before the start of employment: only the days employed count (1–10 Jan).
    report_sick(leaver, date(2024, 12, 20), recovered_on=date(2025, 1, 20))
    f = figures_of(employer_of_five)
    assert f.headcount == 6
    assert f.fte_days == Decimal(360) + Decimal(30) + Decimal("5.0")
    assert f.sick_fte_days == Decimal("5.0")
    assert two(f.average_headcount) == two(Decimal(4 * 90 + 30 + 10) / 90)
    assert f.without_sick_day == 5
    assert starter.employment_start == date(2025, 3, 2)


def test_pregnancy_related_absence_is_left_out_and_shown_on_its_own(employer_of_five):
    expecting = staff(employer_of_five, surname="Zwanger")
    report_sick(expecting, date(2025, 2, 1), case_type=CaseType.PREGNANCY)
    f = figures_of(employer_of_five)
    assert f.sick_fte_days == 0 and f.absence_percentage == 0
    assert f.pregnancy_fte_days == Decimal(59)
    assert f.fte_days == Decimal(450)  # her days stay in the denominator
    assert f.new_reports == 0 and f.open_cases == 0
    assert f.without_sick_day == 5  # no sick day: pregnancy-related absence is no sickness


def test_open_cases_past_week_42_and_52_count_sick_days_only(employer_of_five):
    long_sick = staff(employer_of_five, surname="Lang")
    report_sick(long_sick, date(2024, 3, 1))  # by 31 Mar 2025: 396 sick days
    past_42 = staff(employer_of_five, surname="Tweeënveertig")
    case = report_sick(past_42, date(2024, 5, 1), recovered_on=date(2024, 5, 11))
    # Continued within 28 days: the 10 healthy days move the deadlines out.
    AbsencePeriod.objects.create(tenant=case.tenant, case=case, starts_on=date(2024, 5, 21))
    IncapacityChange.objects.create(
        tenant=case.tenant, case=case, starts_on=date(2024, 5, 21), percentage=100
    )
    case.recovered_on = None
    case.save()
    f = figures_of(employer_of_five)
    assert f.open_cases == 2
    assert f.open_past_42 == 2  # 396 and 10 + 315 sick days
    assert f.open_past_52 == 1  # 325 < 364


def test_fewer_than_five_employees_give_no_figures(world):
    employer = Employer.objects.create(tenant=world.tenant, name="Klein BV")
    employees = [staff(employer, surname=f"K{number}") for number in range(4)]
    report_sick(employees[0], date(2025, 1, 6), recovered_on=date(2025, 1, 13))
    assert figures_of(employer).suppressed
    staff(employer, surname="Vijfde")
    assert not figures_of(employer).suppressed


# --- the page, its scope, privacy, audit and exports -------------------------------------------


def page(client, **query):
    return client.get(reverse("reports:figures"), query)


def q1(**extra) -> dict:
    return {"from": "2025-01-01", "to": "2025-03-31", **extra}


@pytest.fixture
def hr_with_example(client, world, worked_example):
    """HR's role reaches the worked example's employer too."""
    RoleAssignment.objects.get(user=world.hr).employers.add(worked_example)
    verified_login(client, world.hr)
    return client


def test_the_page_shows_the_worked_example_with_two_decimals_in_dutch(
    hr_with_example, worked_example
):
    response = page(hr_with_example, **q1(employer=worked_example.key))
    assert response.status_code == 200
    content = response.content.decode()
    for figure in ("11,07", "1,74", "25,00", "40,00", "13,47", "1,89", "9,19"):
        assert figure in content, figure
    # The charts: data as JSON for the static script, the library from our own static files.
    assert '<script id="report-chart-data" type="application/json">' in content
    assert "vendor/chartjs/chart.umd.min.js" in content and "js/reports.js" in content
    assert "<script>" not in content  # no inline script (CSP)


def test_a_small_group_shows_a_dash_with_the_reason(hr_with_example, world):
    # Werkgever A has three employees.
    content = page(hr_with_example, **q1(employer=world.employer.key)).content.decode()
    assert "fewer than 5 employees" in content or "minder dan 5" in content
    assert 'class="suppressed"' in content


def test_the_insurer_sees_figures_of_the_insured_employer_only(client, world):
    verified_login(client, world.verzekeraar)
    response = page(client, **q1())
    report = response.context["report"]
    assert report.chosen.scope.employer_ids == (world.employer.pk,)
    choices = [
        value for value, _label in response.context["form"].fields["employer"].widget.choices
    ]
    assert choices == ["", str(world.employer.key)]
    assert page(client, **q1(employer=world.employer_b.key)).status_code == 404
    assert page(client, **q1(employer=world.other_employer.key)).status_code == 404
    # Figures only: no list of employees, healthy or sick.
    assert "Gezond" not in response.content.decode()


def test_a_manager_sees_their_department_subtree_only(client, world):
    verified_login(client, world.manager)
    response = page(client, **q1())
    assert response.context["report"].chosen.scope.department_paths == (world.department.path,)
    assert page(client, **q1(department=world.inpak.key)).status_code == 200
    assert page(client, **q1(department=world.kantoor.key)).status_code == 404
    assert page(client, **q1(employer=world.employer_b.key)).status_code == 404


def test_another_tenants_employer_or_department_is_not_found(client, world):
    verified_login(client, world.outsider)
    assert page(client, **q1(employer=world.employer.key)).status_code == 404
    assert page(client, **q1(department=world.department.key)).status_code == 404
    assert page(client, **q1()).context["report"].chosen.scope.employer_ids == (
        world.other_employer.pk,
    )


def test_a_period_ending_before_it_starts_is_refused(hr_with_example):
    response = page(hr_with_example, **{"from": "2025-03-31", "to": "2025-01-01"})
    assert response.status_code == 200
    assert "report" not in response.context
    assert response.context["form"].errors["to"]


def test_the_page_costs_the_same_queries_as_data_grows(client, world):
    employer = Employer.objects.create(tenant=world.tenant, name="Groeiend BV")
    RoleAssignment.objects.get(user=world.hr).employers.add(employer)
    top = Department.objects.create(tenant=world.tenant, employer=employer, name="Top")
    verified_login(client, world.hr)

    def add(count: int) -> None:
        for number in range(count):
            department = Department.objects.create(
                tenant=world.tenant, employer=employer, parent=top, name=f"Team {number}"
            )
            employee = staff(employer, department=department, surname=f"G{number}")
            report_sick(employee, date(2025, 2, 1), recovered_on=date(2025, 2, 10))

    def queries() -> int:
        url = reverse("reports:figures")
        params = q1(employer=employer.key)
        client.get(url, params)  # warm the per-process caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, params).status_code == 200
        return len(captured)

    add(5)
    few = queries()
    add(20)
    assert queries() == few


def test_views_and_exports_are_audited_with_their_scope_never_values(
    hr_with_example, worked_example
):
    since = last_pk()
    page(hr_with_example, **q1(employer=worked_example.key))
    hr_with_example.get(reverse("reports:export_csv"), q1(employer=worked_example.key))
    records = [r for r in new_records(since) if r.event_type.startswith("report.")]
    assert [r.event_type for r in records] == ["report.view", "report.export"]
    for record in records:
        assert record.object_type == "domains.employer"
        assert record.object_key == worked_example.key
        assert record.subject_key is None and record.result_count is None
        assert record.changed_fields == []


def test_the_csv_export_has_the_figures_in_dutch_notation(hr_with_example, worked_example):
    response = hr_with_example.get(reverse("reports:export_csv"), q1(employer=worked_example.key))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    first = next(csv.reader([lines[1]], delimiter=";"))
    assert first[2:5] == ["2025-01-01", "2025-03-31", "11,07"]
    assert "1,74" in first and "25,00" in first and "40,00" in first


def test_the_xlsx_export_has_numbers_and_formula_safe_labels(hr_with_example, worked_example):
    worked_example.name = "=HYPERLINK(1)"
    worked_example.save()
    response = hr_with_example.get(reverse("reports:export_xlsx"), q1(employer=worked_example.key))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert rows[1][4] == pytest.approx(11.07)
    assert len(rows) == 1 + 1 + 12 + len(
        [r for r in rows if r[0] in ("Vergelijking", "Comparison")]
    )


def test_the_dashboard_shows_the_users_own_figures_and_work_list(client, world):
    verified_login(client, world.hr)
    response = client.get(reverse("dashboard"))
    this_month, last_year = response.context["headline"]
    assert this_month.period_to == last_year.period_to
    assert response.context["worklist_count"] is not None
    with CaptureQueriesContext(connection) as again:  # the sums are kept a few minutes
        client.get(reverse("dashboard"))
    assert not [q for q in again.captured_queries if "WITH periods" in q["sql"]]
    verified_login(client, world.casemanager)
    response = client.get(reverse("dashboard"))
    assert response.context["headline"] is None  # no right to figures


@pytest.mark.parametrize(
    "period",
    [Q1_2025, (date(2025, 1, 1), date(2025, 12, 31)), (date(2025, 12, 1), TODAY)],
    ids=["a quarter", "a year", "up to today"],
)
def test_the_pages_whole_and_trend_figures_add_up_from_its_groups(world, period):
    """The page reads its period, trend and comparison in one grouped query and adds the groups
    up (figures.combined): that must equal the figures of the whole, group by group nothing lost
    (employees without a department, leavers, open cases, pregnancy, each duration class)."""
    from reports.figures import Grouping
    from reports.selectors import ChosenScope, trend_months
    from reports.views import _build_report

    employer = Employer.objects.create(tenant=world.tenant, name="Optel BV")
    top = Department.objects.create(tenant=world.tenant, employer=employer, name="Top")
    teams = [
        Department.objects.create(tenant=world.tenant, employer=employer, parent=top, name=name)
        for name in ("Noord", "Zuid")
    ]
    for number in range(18):
        department = [None, top, *teams][number % 4]
        employee = staff(
            employer, factor=("1", "0.5", "0.8")[number % 3], department=department,
            start=date(2024, 3, 1) if number % 5 else date(2025, 5, 1),
            employment_end=date(2026, 8, 31) if number % 7 == 0 else None,
            surname=f"O{number}",
        )  # fmt: skip
        first = date(2025, 1 + number % 12, 1 + number)
        if number % 3:
            report_sick(employee, first, recovered_on=first.replace(day=28))
        if number % 4 == 1:
            report_sick(employee, date(2026, 1 + number % 6, 3))  # still open
        if number % 6 == 5:
            report_sick(
                employee, date(2025, 11, 2), recovered_on=date(2025, 12, 20),
                case_type=CaseType.PREGNANCY,
            )  # fmt: skip
    scope = Scope(world.tenant.pk, employer_ids=(employer.pk,))
    chosen = ChosenScope(scope=scope, grouping=Grouping("departments", employer_id=employer.pk),
                         label=employer.name)  # fmt: skip

    report = _build_report(chosen, *period, TODAY)

    (whole,) = compute(scope, [period], today=TODAY)
    assert report.main == whole
    by_month = {f.period_from: f for f in compute(scope, trend_months(period[1]), today=TODAY)}
    assert report.trend == [by_month[f.period_from] for f in report.trend]
    assert len(report.comparison) > 1
