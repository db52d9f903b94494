"""Sick and recovery reports, merges, corrections, the timeline on the page, the work list and
the case list (filters and a constant number of queries)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from auditlog.context import disable_auditlog
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import AbsenceCase, CaseCorrection, CaseType, Milestone
from employees.models import Employee
from tests.conftest import make_employee, report_sick, report_sick_in_bulk, verified_login

TODAY = timezone.localdate()


def sick_report(client, employee, **fields):
    data = {
        "case_type": "sickness",
        "first_sick_day": TODAY - timedelta(days=3),
        "expected_duration": "days",
    }
    data.update(fields)
    return client.post(reverse("cases:report_sick", kwargs={"key": employee.key}), data)


def test_hr_reports_sick_and_the_timeline_starts(client, world):
    verified_login(client, world.hr)
    response = sick_report(client, world.healthy, work_accident="on", contact_phone="0612345678")
    case = AbsenceCase.objects.get(employee=world.healthy)
    assert response.url == reverse("cases:detail", kwargs={"key": case.key})
    assert case.work_accident and case.reported_by == world.hr
    milestones = {m.kind: m.due_on for m in case.milestones.all()}
    assert milestones["report_arbodienst"] == case.first_sick_day + timedelta(days=6)
    page = client.get(response.url).content.decode()
    assert "Probleemanalyse" in page and "Ziekmelding bij de arbodienst" in page


def test_an_employee_cannot_be_reported_sick_twice(world):
    with pytest.raises(ValidationError):
        services.report_sick(employee=world.employee, by=world.hr, first_sick_day=TODAY)


def test_a_sick_report_cannot_start_in_the_future(world):
    with pytest.raises(ValidationError):
        services.report_sick(
            employee=world.healthy, by=world.hr, first_sick_day=TODAY + timedelta(days=1)
        )


def test_a_manager_reports_only_in_their_department(client, world):
    verified_login(client, world.manager)
    productie = make_employee(world.employer, department=world.inpak, surname="Inpakker")
    assert sick_report(client, productie).status_code == 302
    assert sick_report(client, world.healthy).status_code == 404  # Kantoor


def test_the_insurer_cannot_report(world):
    with pytest.raises(PermissionDenied):
        services.report_sick(employee=world.healthy, by=world.verzekeraar, first_sick_day=TODAY)


def test_partial_then_full_recovery(client, world):
    verified_login(client, world.hr)
    url = reverse("cases:recovery", kwargs={"key": world.case.key})
    client.post(url, {"on": world.case.first_sick_day + timedelta(days=10), "incapacity": 50})
    assert [c.percentage for c in world.case.incapacity_changes.all()] == [100, 50]
    assert AbsenceCase.objects.get(pk=world.case.pk).is_open
    recovery = world.case.first_sick_day + timedelta(days=20)
    client.post(url, {"on": recovery, "incapacity": 0})
    case = AbsenceCase.objects.get(pk=world.case.pk)
    assert case.recovered_on == recovery
    assert case.periods.get().ends_on == recovery - timedelta(days=1)
    # The timeline stops: what the case did not reach has no due date.
    assert case.milestones.get(kind="problem_analysis").due_on is None
    assert case.milestones.get(kind="report_arbodienst").due_on is not None


def test_a_recovery_before_the_first_sick_day_is_a_clear_error(client, world):
    verified_login(client, world.hr)
    response = client.post(
        reverse("cases:recovery", kwargs={"key": world.case.key}),
        {"on": world.case.first_sick_day - timedelta(days=1), "incapacity": 0},
    )
    assert response.status_code == 400
    assert "na de eerste ziektedag" in response.content.decode()


def test_a_new_absence_within_28_days_continues_the_case(world):
    employee = make_employee(world.employer, surname="Terugval")
    first = TODAY - timedelta(days=100)
    case = services.report_sick(employee=employee, by=world.hr, first_sick_day=first)
    services.report_recovery(case=case, by=world.hr, on=first + timedelta(days=30))
    again = services.report_sick(
        employee=employee, by=world.hr, first_sick_day=first + timedelta(days=50)
    )
    assert again.pk == case.pk and again.is_open
    assert again.periods.count() == 2
    # 30 sick days, then 20 healthy ones: the 42nd sick day is the 12th day of the second spell.
    assert again.milestones.get(kind="problem_analysis").due_on == first + timedelta(days=61)


def test_a_new_absence_after_28_days_opens_a_new_case(world):
    employee = make_employee(world.employer, surname="Nieuw")
    first = TODAY - timedelta(days=100)
    case = services.report_sick(employee=employee, by=world.hr, first_sick_day=first)
    services.report_recovery(case=case, by=world.hr, on=first + timedelta(days=30))
    again = services.report_sick(
        employee=employee, by=world.hr, first_sick_day=first + timedelta(days=58)
    )
    assert again.pk != case.pk


def test_pregnancy_related_absence_is_its_own_case_kept_out_of_figures(world):
    employee = make_employee(world.employer, surname="Verwacht")
    case = services.report_sick(
        employee=employee, by=world.hr, first_sick_day=TODAY, case_type=CaseType.PREGNANCY
    )
    assert case.case_type == CaseType.PREGNANCY and not case.counts_in_absence_figures
    assert world.case.counts_in_absence_figures


def test_a_correction_needs_a_reason_and_moves_the_timeline(client, world):
    verified_login(client, world.hr)
    url = reverse("cases:correct", kwargs={"key": world.case.key})
    new_first = world.case.first_sick_day - timedelta(days=7)
    assert client.post(url, {"first_sick_day": new_first, "reason": ""}).status_code == 200
    response = client.post(
        url, {"first_sick_day": new_first, "reason": "Ziekmelding kwam een week te laat binnen."}
    )
    assert response.status_code == 302
    case = AbsenceCase.objects.get(pk=world.case.pk)
    assert case.first_sick_day == new_first == case.periods.get().starts_on
    assert case.milestones.get(kind="report_arbodienst").due_on == new_first + timedelta(days=6)
    correction = CaseCorrection.objects.get(case=case)
    assert correction.fields == "first_sick_day" and correction.corrected_by == world.hr


def test_a_milestone_is_marked_done_with_a_document(client, world):
    verified_login(client, world.hr)
    milestone = world.case.milestones.get(kind="report_arbodienst")
    document = world.case.documents.get()
    client.post(
        reverse(
            "cases:milestone_done", kwargs={"key": world.case.key, "milestone_key": milestone.key}
        ),
        {"done_on": TODAY, "document": document.pk},
    )
    milestone.refresh_from_db()
    assert (
        milestone.done_on == TODAY
        and milestone.document == document
        and milestone.done_by == world.hr
    )
    assert milestone.state() == "done"


def test_milestone_states():
    milestone = Milestone(kind="problem_analysis", due_on=TODAY - timedelta(days=1))
    assert milestone.state() == "overdue"
    milestone.due_on = TODAY
    assert milestone.state() == "open"
    milestone.due_on = None
    assert milestone.state() == "not_reached"


def test_the_work_list_shows_due_and_overdue_steps_within_scope(client, world):
    overdue_case = report_sick(
        make_employee(world.employer, surname="Lang"), TODAY - timedelta(days=60)
    )
    verified_login(client, world.hr)
    items = list(client.get(reverse("cases:worklist")).context["milestones"])
    assert {m.case for m in items} >= {overdue_case}
    assert all(m.due_on <= TODAY + timedelta(days=14) and m.done_on is None for m in items)
    client.logout()
    verified_login(client, world.casemanager)  # sees only the case assigned to her
    items = list(client.get(reverse("cases:worklist")).context["milestones"])
    assert {m.case for m in items} <= {world.case}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"Jansen", "Ziekniet", "Bziek", "Lang", "Kort"}),
        ({"status": "closed"}, {"Hersteld"}),
        ({"status": "all"}, {"Jansen", "Ziekniet", "Bziek", "Lang", "Kort", "Hersteld"}),
        ({"overdue": "on"}, {"Lang"}),
        ({"duration": "short"}, {"Kort"}),
        ({"duration": "medium"}, {"Jansen", "Ziekniet", "Bziek", "Lang"}),
    ],
)
def test_the_case_list_filters(client, world, query, expected):
    report_sick(
        make_employee(world.employer, surname="Lang", department=world.kantoor),
        TODAY - timedelta(days=60),
    )
    report_sick(make_employee(world.employer, surname="Kort"), TODAY - timedelta(days=2))
    report_sick(
        make_employee(world.employer, surname="Hersteld"),
        TODAY - timedelta(days=30),
        recovered_on=TODAY - timedelta(days=5),
    )
    for case in AbsenceCase.objects.filter(employee__surname__in=["Jansen", "Ziekniet", "Bziek"]):
        case.milestones.filter(due_on__lt=TODAY).update(done_on=TODAY)  # on schedule
    verified_login(client, world.hr)
    response = client.get(reverse("cases:list"), query)
    assert {case.employee.surname for case in response.context["page"]} == expected


def test_the_case_list_filters_by_department_subtree(client, world):
    report_sick(make_employee(world.employer, surname="Inpakker", department=world.inpak))
    verified_login(client, world.hr)
    response = client.get(reverse("cases:list"), {"department": world.department.pk})
    assert {case.employee.surname for case in response.context["page"]} == {"Jansen", "Inpakker"}


def _rows_of(case: AbsenceCase) -> dict:
    """Everything stored for a case but its own identities (keys, ids, timestamps, employee)."""

    def facts(row) -> dict:
        return {
            field.attname: getattr(row, field.attname)
            for field in row._meta.concrete_fields
            if not (field.primary_key or field.name in {"key", "case", "employee"})
            and not getattr(field, "auto_now", False)
            and not getattr(field, "auto_now_add", False)
        }

    def all_of(related) -> list:
        return sorted((facts(row) for row in related.all()), key=repr)

    return {
        "case": facts(case),
        "periods": all_of(case.periods),
        "incapacity": all_of(case.incapacity_changes),
        "milestones": all_of(case.milestones),
    }


def test_the_bulk_helper_makes_the_rows_report_sick_makes(world):
    """report_sick_in_bulk stands in for report_sick where a test needs a thousand cases."""
    one = report_sick(make_employee(world.employer), date(2026, 9, 1))
    (other,) = report_sick_in_bulk([make_employee(world.employer)], date(2026, 9, 1))
    one, other = (AbsenceCase.objects.get(pk=case.pk) for case in (one, other))
    assert _rows_of(one) == _rows_of(other)
    assert one.milestones.exists()


def test_the_case_list_costs_the_same_number_of_queries_for_10_and_1000_cases(client, world):
    def add(count: int) -> None:
        with disable_auditlog():  # test data, not user actions
            employees = [make_employee(world.employer, surname=f"Z{n}") for n in range(count)]
            report_sick_in_bulk(employees, date(2026, 9, 1))

    verified_login(client, world.hr)
    add(10 - AbsenceCase.objects.filter(tenant=world.tenant).count())
    url = reverse("cases:list") + "?status=all"
    with CaptureQueriesContext(connection) as ten:
        assert client.get(url).status_code == 200
    add(990)
    assert AbsenceCase.objects.filter(tenant=world.tenant).count() == 1000
    with CaptureQueriesContext(connection) as thousand:
        assert client.get(url).status_code == 200
    assert len(ten) == len(thousand)


def test_the_insurer_sees_case_facts_but_not_notes_or_contact_details(client, world):
    world.case.contact_phone = "0611111111"
    world.case.save()
    services.add_note(case=world.case, by=world.hr, text="Gesprek gepland over werkhervatting.")
    verified_login(client, world.verzekeraar)
    page = client.get(reverse("cases:detail", kwargs={"key": world.case.key})).content.decode()
    assert "Poortwachter" in page
    assert "0611111111" not in page and "werkhervatting" not in page


def test_the_absence_fact_survives_a_deleted_case_while_another_exists(world):
    second = report_sick(world.employee, date(2025, 1, 6), recovered_on=date(2025, 1, 20))
    world.case.delete()
    assert Employee.unscoped.get(pk=world.employee.pk).has_absence_case
    second.delete()
    assert not Employee.unscoped.get(pk=world.employee.pk).has_absence_case


def test_a_truncate_of_the_cases_clears_the_absence_fact(world):
    assert Employee.unscoped.filter(has_absence_case=True).exists()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cases_absencecase CASCADE")
    assert not Employee.unscoped.filter(has_absence_case=True).exists()


def test_a_stale_save_of_the_employee_does_not_undo_the_absence_fact(world):
    employee = make_employee(world.employer)
    stale = Employee.unscoped.get(pk=employee.pk)
    assert not stale.has_absence_case
    report_sick(employee, date(2025, 3, 3))
    stale.surname = "Later gewijzigd"
    stale.save()  # writes its stale has_absence_case=False with the rest
    assert Employee.unscoped.get(pk=employee.pk).has_absence_case
    # An update that leaves the fact alone leaves it right.
    Employee.unscoped.filter(pk=employee.pk).update(surname="Nogmaals")
    assert Employee.unscoped.get(pk=employee.pk).has_absence_case


def test_the_database_decides_the_absence_fact_of_inserted_employees(world):
    # The application's claim is not taken: a new employee has no case yet.
    claimed = make_employee(world.employer, has_absence_case=True)
    assert not Employee.unscoped.get(pk=claimed.pk).has_absence_case
    # A case written before its employee (foreign keys are checked at commit) counts when the
    # employee arrives, inserted alone or with others in one statement.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('employees_employee', 'id'))")
        future_id = cursor.fetchone()[0]
    case = report_sick(world.employee, date(2024, 4, 7), recovered_on=date(2024, 4, 20))
    AbsenceCase.unscoped.filter(pk=case.pk).update(employee_id=future_id)
    arrived = make_employee(world.employer, id=future_id)
    others = Employee.unscoped.bulk_create(
        [
            Employee(**{**_fields_of(arrived), "id": None, "personnel_number": f"BULK{n}"})
            for n in range(3)
        ]  # fmt: skip
    )
    assert Employee.unscoped.get(pk=arrived.pk).has_absence_case
    assert not Employee.unscoped.filter(pk__in=[o.pk for o in others], has_absence_case=True)


def _fields_of(employee: Employee) -> dict:
    return {
        field.attname: getattr(employee, field.attname)
        for field in Employee._meta.concrete_fields
        if not field.generated and field.name != "key"
    }
