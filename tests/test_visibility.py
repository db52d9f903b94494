"""domains/visibility.py is the one place deciding who sees which employees; tested as such."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from domains.models import AssignmentStatus, ServiceContract
from domains.permissions import Perm
from domains.visibility import forget_access, user_permissions
from employees.selectors import visible_employee_counts, visible_employees
from tests.conftest import grant, make_employee, make_user, report_sick, verified_login


def seen(user) -> set[str]:
    forget_access(user)
    return set(visible_employees(user).values_list("surname", flat=True))


def test_the_employer_sees_healthy_and_sick_employees_of_its_scope(world):
    assert seen(world.hr) == {"Jansen", "Gezond", "Ziekniet", "Bziek"}


@pytest.mark.parametrize("persona", ["casemanager", "bedrijfsarts", "verzekeraar"])
def test_other_domains_never_see_healthy_employees(world, persona):
    assert "Gezond" not in seen(getattr(world, persona))


def test_the_arbodienst_sees_the_sick_employees_of_the_employers_it_serves(world):
    assert seen(world.bedrijfsarts) == {"Jansen", "Ziekniet", "Bziek"}


def test_the_insurer_sees_only_sick_employees_of_employers_it_insures(world):
    assert seen(world.verzekeraar) == {"Jansen", "Ziekniet"}  # employer B is not insured


def test_a_case_manager_sees_only_assigned_employees(world):
    assert seen(world.casemanager) == {"Jansen"}
    assign_perm("employees.view_employee", world.casemanager, world.sick_unassigned)
    assert seen(world.casemanager) == {"Jansen", "Ziekniet"}


def test_an_assignment_does_not_reveal_a_healthy_employee_to_a_case_manager(world):
    assign_perm("employees.view_employee", world.casemanager, world.healthy)
    assert "Gezond" not in seen(world.casemanager)


def test_a_department_scope_includes_its_subtree_only(world):
    packer = make_employee(world.employer, department=world.inpak, surname="Inpakker")
    assert packer.surname in seen(world.manager)
    assert seen(world.manager) == {"Jansen", "Inpakker"}  # Kantoor and employer B are outside


def test_a_recovered_employee_stays_visible_to_the_arbodienst(world):
    recovered = make_employee(world.employer, surname="Hersteld")
    report_sick(recovered, recovered_on=date(2026, 10, 20))
    assert "Hersteld" in seen(world.bedrijfsarts)


def test_an_ended_contract_ends_the_arbodiensts_view(world):
    yesterday = timezone.localdate() - timedelta(days=1)
    ServiceContract.objects.filter(provider=world.arbo, employer=world.employer_b).update(
        ends_on=yesterday
    )
    assert "Bziek" not in seen(world.bedrijfsarts)


def test_a_future_contract_does_not_count_yet(world):
    ServiceContract.objects.filter(provider=world.insurer).update(
        starts_on=timezone.localdate() + timedelta(days=1)
    )
    assert seen(world.verzekeraar) == set()


def test_an_explicit_employer_narrows_a_providers_scope(world):
    world.bedrijfsarts.role_assignments.get().employers.set([world.employer_b])
    assert seen(world.bedrijfsarts) == {"Bziek"}


@pytest.mark.parametrize("persona", ["beheer", "auditor"])
def test_functional_admins_and_auditors_see_no_employee(world, persona):
    assert seen(getattr(world, persona)) == set()


def test_an_assignment_awaiting_approval_grants_nothing(world):
    doctor = make_user(world.tenant, "nieuwe-arts@a.test")
    assignment = grant(doctor, world.roles["bedrijfsarts"], provider=world.arbo)
    assignment.status = AssignmentStatus.AWAITING_APPROVAL
    assignment.save()
    assert seen(doctor) == set()
    assert user_permissions(doctor) == frozenset()


def test_an_inactive_user_sees_nothing(world):
    world.hr.is_active = False
    assert seen(world.hr) == set()


def test_a_permission_reaches_only_the_assignments_that_grant_it(world):
    """The manager may view Productie; managing cases there takes a role that grants it."""
    assert visible_employees(world.manager, Perm.CASE_MANAGE).count() == 0
    assert visible_employees(world.hr, Perm.CASE_MANAGE).count() == 4


def test_only_the_company_doctor_holds_medical_permissions(world):
    holders = {
        persona
        for persona in (
            "hr",
            "manager",
            "casemanager",
            "bedrijfsarts",
            "verzekeraar",
            "beheer",
            "auditor",
        )
        if Perm.MEDICAL_VIEW in user_permissions(getattr(world, persona))
    }
    assert holders == {"bedrijfsarts"}


def test_the_visibility_filter_is_one_query_whatever_the_number_of_grants(world):
    for number in range(30):
        sick = make_employee(world.employer, surname=f"Ziek{number}")
        report_sick(sick)
        assign_perm("employees.view_employee", world.casemanager, sick)
    forget_access(world.casemanager)
    visible_employees(world.casemanager)  # loads the assignments once
    with CaptureQueriesContext(connection) as queries:
        surnames = list(visible_employees(world.casemanager).values_list("surname", flat=True))
    assert len(surnames) == 31
    assert len(queries) == 1


@pytest.mark.parametrize("persona", ["hr", "manager", "casemanager", "bedrijfsarts", "verzekeraar"])
def test_list_detail_and_dashboard_agree_with_the_rule(client, world, persona):
    user = getattr(world, persona)
    verified_login(client, user)
    expected = seen(user)
    listed = {
        employee.surname for employee in client.get(reverse("employees:list")).context["page"]
    }
    assert listed == expected
    dashboard = client.get(reverse("dashboard")).context
    assert dashboard["employee_count"] == len(expected)
    for employee in (world.employee, world.healthy, world.sick_unassigned, world.sick_at_b):
        status = client.get(reverse("employees:detail", kwargs={"key": employee.key})).status_code
        assert status == (200 if employee.surname in expected else 404), employee.surname
    counts = visible_employee_counts(user)
    assert sum(row["total"] for row in counts) == len(expected)


def test_the_menu_offers_only_what_the_user_may_use(client, world):
    verified_login(client, world.beheer)
    page = client.get(reverse("dashboard")).content.decode()
    assert reverse("domains:role_list") in page and reverse("employees:list") not in page
    client.logout()
    verified_login(client, world.hr)
    page = client.get(reverse("dashboard")).content.decode()
    assert reverse("employees:list") in page and reverse("domains:role_list") not in page
