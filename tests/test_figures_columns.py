"""The columns the database keeps for the absence figures (cases migration 0008, employees
migration 0009): each sick spell's employee and case type, and the days each incapacity change
and each set of employment terms applies. Every write path must leave them exactly as computed
here from the rows themselves, in Python, independently of the triggers' SQL: services, plain
ORM writes, bulk_create, the import's COPY, bulk SQL, deletion."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from cases import services
from cases.models import AbsenceCase, AbsencePeriod, CaseType, IncapacityChange
from employees.models import Employee, EmploymentTerms
from imports.writing import copy_data
from retention.deletion import _delete_case_data
from tests.conftest import make_employee

TODAY = timezone.localdate()


def _rows(sql: str, params: list | None = None) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def expected_spells() -> dict:
    return {
        spell.pk: (spell.case.employee_id, spell.case.case_type)
        for spell in AbsencePeriod.unscoped.select_related("case")
    }


def expected_incapacity() -> dict:
    """Each change until the day before the next of its case; the first from the first sick day
    when earlier; the last until the day before the recovery (open: None); never ending before
    it starts (a change on no day: until = from - 1)."""
    spans = {}
    for case in AbsenceCase.unscoped.all():
        changes = sorted(case.incapacity_changes.all(), key=lambda c: (c.starts_on, c.pk))
        for number, change in enumerate(changes):
            start = min(change.starts_on, case.first_sick_day) if number == 0 else change.starts_on
            if number + 1 < len(changes):
                until = changes[number + 1].starts_on - timedelta(days=1)
            elif case.recovered_on is not None:
                until = case.recovered_on - timedelta(days=1)
            else:
                until = None
            if until is not None:
                until = max(until, start - timedelta(days=1))
            spans[change.pk] = (start, until)
    return spans


def expected_terms() -> dict:
    spans = {}
    for employee in Employee.unscoped.all():
        terms = sorted(employee.terms.all(), key=lambda t: t.valid_from)
        for number, row in enumerate(terms):
            start = None if number == 0 else row.valid_from
            until = (
                terms[number + 1].valid_from - timedelta(days=1)
                if number + 1 < len(terms)
                else None
            )
            spans[row.pk] = (start, until)
    return spans


def incapacity_of(case: AbsenceCase) -> dict:
    return _rows(
        "SELECT id, applies_from, applies_until FROM cases_incapacitychange WHERE case_id = %s",
        [case.pk],
    )


def terms_of(employee: Employee, key: str = "id") -> dict:
    return _rows(
        f"SELECT {key}, applies_from, applies_until FROM employees_employmentterms"  # noqa: S608 - a column name of this module
        " WHERE employee_id = %s",
        [employee.pk],
    )


def assert_all_kept() -> None:
    assert _rows("SELECT id, employee_id, case_type FROM cases_absenceperiod") == expected_spells()
    assert (
        _rows("SELECT id, applies_from, applies_until FROM cases_incapacitychange")
        == expected_incapacity()
    )
    assert (
        _rows("SELECT id, applies_from, applies_until FROM employees_employmentterms")
        == expected_terms()
    )


@pytest.fixture
def sick(world):
    """An employee reported sick through the service 60 days ago."""
    employee = make_employee(world.employer, surname="Ziek")
    return services.report_sick(
        employee=employee, by=world.hr, first_sick_day=TODAY - timedelta(days=60)
    )


def test_the_world_and_a_new_case_have_their_stored_values(sick):
    assert sick.incapacity_changes.count() == 1
    assert incapacity_of(sick) == {
        sick.incapacity_changes.get().pk: (sick.first_sick_day, None)
    }  # fmt: skip
    assert_all_kept()


def test_partial_then_full_recovery_keep_the_incapacity_spans(sick, world):
    services.report_recovery(case=sick, by=world.hr, on=TODAY - timedelta(days=30), incapacity=50)
    assert_all_kept()
    services.report_recovery(case=sick, by=world.hr, on=TODAY - timedelta(days=10))
    first, partial = sick.incapacity_changes.order_by("starts_on")
    assert incapacity_of(sick) == {
        first.pk: (sick.first_sick_day, TODAY - timedelta(days=31)),
        partial.pk: (TODAY - timedelta(days=30), TODAY - timedelta(days=11)),
    }
    assert_all_kept()


def test_a_partial_recovery_changed_or_removed_moves_its_neighbours(sick, world):
    services.report_recovery(case=sick, by=world.hr, on=TODAY - timedelta(days=30), incapacity=50)
    services.report_recovery(case=sick, by=world.hr, on=TODAY - timedelta(days=20), incapacity=20)
    partial = sick.incapacity_changes.get(percentage=50)
    partial.starts_on = TODAY - timedelta(days=40)
    partial.save()  # a stale save of the whole row: the database decides the spans
    assert_all_kept()
    partial.percentage = 60
    partial.save(update_fields=["percentage"])
    assert_all_kept()
    # Moved past the next one, then to the same day as it: the order follows the days.
    IncapacityChange.objects.filter(pk=partial.pk).update(starts_on=TODAY - timedelta(days=5))
    assert_all_kept()
    IncapacityChange.objects.filter(pk=partial.pk).update(starts_on=TODAY - timedelta(days=20))
    assert_all_kept()
    partial.delete()
    assert_all_kept()
    IncapacityChange.objects.filter(case=sick).delete()
    assert_all_kept()


def test_case_dates_corrected_move_the_first_and_last_spans(sick, world):
    services.report_recovery(case=sick, by=world.hr, on=TODAY - timedelta(days=30), incapacity=50)
    services.report_recovery(case=sick, by=world.hr, on=TODAY - timedelta(days=10))
    services.correct_case(
        case=sick, by=world.hr, reason="Typefout", first_sick_day=TODAY - timedelta(days=70)
    )
    assert_all_kept()
    services.correct_case(
        case=sick, by=world.hr, reason="Typefout", recovered_on=TODAY - timedelta(days=5)
    )
    assert_all_kept()
    # A recovery before the partial recovery (only by SQL): that change applies on no day.
    AbsenceCase.objects.filter(pk=sick.pk).update(recovered_on=TODAY - timedelta(days=35))
    assert_all_kept()


def test_a_case_continued_within_28_days_reopens_its_last_span(world):
    employee = make_employee(world.employer, surname="Terugval")
    first = TODAY - timedelta(days=100)
    case = services.report_sick(employee=employee, by=world.hr, first_sick_day=first)
    services.report_recovery(case=case, by=world.hr, on=first + timedelta(days=30))
    assert_all_kept()
    again = services.report_sick(
        employee=employee, by=world.hr, first_sick_day=first + timedelta(days=50)
    )
    assert again.pk == case.pk and again.periods.count() == 2
    assert_all_kept()


def test_case_type_or_employee_changed_goes_to_its_spells(sick, world):
    services.report_recovery(case=sick, by=world.hr, on=TODAY - timedelta(days=10))
    AbsenceCase.objects.filter(pk=sick.pk).update(case_type=CaseType.PREGNANCY)
    assert_all_kept()
    other = make_employee(world.employer, surname="Ander")
    sick.refresh_from_db()
    sick.employee = other
    sick.save()
    assert_all_kept()
    assert set(sick.periods.values_list("pk", flat=True)) <= set(
        _rows("SELECT id FROM cases_absenceperiod WHERE employee_id = %s", [other.pk])
    )
    # A spell moved to another case takes that case's facts.
    AbsencePeriod.objects.filter(case=sick).update(case=world.case)
    assert_all_kept()


def test_spells_and_changes_written_in_bulk_by_sql_or_bulk_create(world):
    employees = [make_employee(world.employer, surname=f"Bulk {n}") for n in range(3)]
    cases = AbsenceCase.objects.bulk_create(
        AbsenceCase(
            tenant=world.tenant, employee=employee, first_sick_day=date(2025, 1, 1 + n),
            recovered_on=date(2025, 3, 1), case_type=CaseType.SICKNESS,
        )
        for n, employee in enumerate(employees)
    )  # fmt: skip
    AbsencePeriod.objects.bulk_create(
        AbsencePeriod(tenant=world.tenant, case=case, starts_on=case.first_sick_day,
                      ends_on=date(2025, 2, 28))
        for case in cases
    )  # fmt: skip
    ids = [case.pk for case in cases]
    with connection.cursor() as cursor:
        # Two changes per case in one statement, as the benchmark builds them.
        cursor.execute(
            "INSERT INTO cases_incapacitychange (key, tenant_id, case_id, starts_on, percentage)"
            " SELECT gen_random_uuid(), c.tenant_id, c.id, c.first_sick_day + d, p"
            "   FROM cases_absencecase c,"
            "        (VALUES (0, 100), (20, 50)) AS x(d, p)"
            "  WHERE c.id = ANY(%s)",
            [ids],
        )
    assert_all_kept()
    # Deleting some of them in one statement.
    IncapacityChange.objects.filter(case_id__in=ids[:2], percentage=100).delete()
    assert_all_kept()


def test_deleting_closed_cases_as_retention_does_leaves_the_rest_right(world):
    employee = make_employee(world.employer, surname="Oud")
    for first in (date(2020, 1, 6), date(2021, 3, 1)):
        case = AbsenceCase.objects.create(
            tenant=world.tenant, employee=employee, first_sick_day=first,
            recovered_on=first + timedelta(days=40),
        )  # fmt: skip
        AbsencePeriod.objects.create(
            tenant=world.tenant, case=case, starts_on=first, ends_on=first + timedelta(days=39)
        )
        IncapacityChange.objects.create(
            tenant=world.tenant, case=case, starts_on=first, percentage=100
        )
    _delete_case_data([employee.pk], Counter())
    assert not AbsenceCase.objects.filter(employee=employee).exists()
    assert_all_kept()


def test_employment_terms_added_changed_and_deleted_keep_their_spans(world):
    employee = make_employee(world.employer, surname="Uren", employment_start=date(2020, 1, 1))

    def terms(valid_from: date, hours: str = "32") -> EmploymentTerms:
        return EmploymentTerms.objects.create(
            tenant=world.tenant, employee=employee, valid_from=valid_from,
            contract_hours=Decimal(hours), full_time_hours=Decimal(40),
        )  # fmt: skip

    first = terms(date(2020, 1, 1))
    assert terms_of(employee) == {first.pk: (None, None)}
    later = terms(date(2024, 7, 1), "24")
    middle = terms(date(2022, 1, 1), "36")
    assert terms_of(employee) == {
        first.pk: (None, date(2021, 12, 31)),
        middle.pk: (date(2022, 1, 1), date(2024, 6, 30)),
        later.pk: (date(2024, 7, 1), None),
    }
    assert_all_kept()
    middle.valid_from = date(2019, 6, 1)  # now the first
    middle.save()
    assert_all_kept()
    later.contract_hours = Decimal(20)
    later.save(update_fields=["contract_hours"])
    assert_all_kept()
    first.delete()
    assert_all_kept()
    other = make_employee(world.employer, surname="Anders")
    EmploymentTerms.objects.filter(pk=later.pk).update(employee=other)
    assert_all_kept()
    EmploymentTerms.objects.filter(employee__in=[employee, other]).delete()
    assert_all_kept()


def test_terms_written_by_the_imports_copy_and_bulk_create_get_their_spans(world):
    employee = make_employee(world.employer, surname="Import", employment_start=date(2020, 1, 1))
    EmploymentTerms.objects.bulk_create(
        EmploymentTerms(
            tenant=world.tenant, employee=employee, valid_from=day,
            contract_hours=Decimal(30), full_time_hours=Decimal(40),
        )
        for day in (date(2020, 1, 1), date(2023, 1, 1))
    )  # fmt: skip
    assert_all_kept()
    copy_data(
        EmploymentTerms,
        ["tenant", "key", "employee", "valid_from", "contract_hours", "full_time_hours"],
        [
            (world.tenant.pk, uuid.uuid4(), employee.pk, day, Decimal(20), Decimal(40))
            for day in (date(2021, 6, 1), date(2025, 1, 1))
        ],
    ).send()  # as the import's commit writes terms
    assert_all_kept()
    assert terms_of(employee, "valid_from") == {
        date(2020, 1, 1): (None, date(2021, 5, 31)),
        date(2021, 6, 1): (date(2021, 6, 1), date(2022, 12, 31)),
        date(2023, 1, 1): (date(2023, 1, 1), date(2024, 12, 31)),
        date(2025, 1, 1): (date(2025, 1, 1), None),
    }
