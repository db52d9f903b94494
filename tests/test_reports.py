"""Management information: the figures against hand-computed fixtures (the worked example of
shared/reference/kpi.md exactly, and each rule the definitions name), the small-group rule, who
sees which figures, constant query counts, the audit trail and the exports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cases.models import CaseType, IncapacityChange
from domains.models import Employer
from employees.models import EmploymentTerms
from reports.figures import Figures, Scope, compute
from tests.conftest import make_employee, report_sick

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
