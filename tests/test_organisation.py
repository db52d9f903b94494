"""Organisation master data for functional admins: employers, the department tree, contracts,
removing and archiving roles, and the environment's BSN setting."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import OutboxEvent
from domains import services
from domains.forms import AssignmentForm, DepartmentForm, TenantSettingsForm
from domains.models import (
    AssignmentStatus,
    Department,
    Employer,
    Role,
    RoleAssignment,
    ServiceContract,
    Tenant,
)
from domains.permissions import Domain, Perm
from domains.selectors import open_departments
from domains.visibility import forget_access, user_permissions
from tests.conftest import grant, make_employee, make_user, verified_login


@pytest.fixture
def admin_client(client, world):
    verified_login(client, world.beheer)
    return client


def employer_data(**fields):
    data = {
        "name": "Nieuwe Werkgever B.V.",
        "registration_number": "1234 5678",
        "payroll_tax_number": "123456789l01",
        "own_risk_zw": "on",
        "full_time_hours": "38",
    }
    data.update(fields)
    return data


# --- employers -------------------------------------------------------------------------------


def test_an_admin_adds_an_employer_with_normalised_numbers(admin_client, world):
    response = admin_client.post(reverse("domains:employer_create"), employer_data())
    assert response.status_code == 302
    employer = Employer.objects.get(tenant=world.tenant, name="Nieuwe Werkgever B.V.")
    assert employer.registration_number == "12345678"
    assert employer.payroll_tax_number == "123456789L01"
    assert employer.own_risk_zw and not employer.own_risk_wga
    assert employer.full_time_hours == Decimal("38")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("registration_number", "1234567"),
        ("registration_number", "1234567A"),
        ("registration_number", "123456789"),
        ("payroll_tax_number", "123456789B01"),
        ("payroll_tax_number", "12345678L01"),
        ("full_time_hours", "0.5"),
        ("full_time_hours", "61"),
    ],
)
def test_an_invalid_employer_field_is_shown_on_its_field_and_nothing_is_saved(
    admin_client, world, field, value
):
    response = admin_client.post(
        reverse("domains:employer_create"), employer_data(**{field: value})
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["form"]["name"].value() == "Nieuwe Werkgever B.V."  # input kept
    assert not Employer.objects.filter(name="Nieuwe Werkgever B.V.").exists()


def test_an_employer_name_is_unique_in_the_environment(admin_client, world):
    response = admin_client.post(
        reverse("domains:employer_create"), employer_data(name="werkgever a")
    )
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert Employer.objects.filter(tenant=world.tenant).count() == 2


def test_editing_an_employer_keeps_the_kvk_column(admin_client, world):
    url = reverse("domains:employer_edit", kwargs={"key": world.employer.key})
    response = admin_client.post(url, employer_data(name="Werkgever A", own_risk_wga="on"))
    assert response.status_code == 302
    world.employer.refresh_from_db()
    assert world.employer.registration_number == "12345678" and world.employer.own_risk_wga
    bad = admin_client.post(url, employer_data(name="Werkgever A", registration_number="12"))
    assert "registration_number" in bad.context["form"].errors
    world.employer.refresh_from_db()
    assert world.employer.registration_number == "12345678"


def test_a_new_employer_works_full_time_at_40_hours(world):
    employer = services.save_employer(employer=Employer(name="Standaard"), by=world.beheer)
    assert employer.full_time_hours == Decimal("40") and employer.tenant == world.tenant


def test_only_functional_admins_save_employers(world):
    with pytest.raises(PermissionDenied):
        services.save_employer(employer=Employer(name="Stiekem"), by=world.hr)


def test_an_admin_cannot_change_another_environments_employer(admin_client, world):
    url = reverse("domains:employer_edit", kwargs={"key": world.other_employer.key})
    assert admin_client.post(url, employer_data(name="Gekaapt")).status_code == 404
    world.other_employer.refresh_from_db()
    assert world.other_employer.name == "Werkgever Z"
    with pytest.raises(PermissionDenied):
        services.save_employer(employer=world.other_employer, by=world.beheer)


def test_employer_changes_are_audited(world):
    before = OutboxEvent.objects.count()
    world.employer.own_risk_zw = True
    services.save_employer(employer=world.employer, by=world.beheer)
    assert OutboxEvent.objects.count() > before


def test_the_employer_list_shows_the_employers(admin_client, world):
    page = admin_client.get(reverse("domains:employer_list")).content.decode()
    assert "Werkgever A" in page and "Werkgever B" in page and "Werkgever Z" not in page


# --- the department tree ---------------------------------------------------------------------


def test_an_admin_adds_departments_at_the_top_and_under_a_parent(admin_client, world):
    url = reverse("domains:department_add", kwargs={"key": world.employer.key})
    assert admin_client.post(url, {"name": "Verkoop"}).status_code == 302
    top = Department.objects.get(employer=world.employer, name="Verkoop")
    assert top.parent is None and top.path == f"/{top.pk}/"
    assert admin_client.post(url, {"name": "Binnendienst", "parent": top.pk}).status_code == 302
    child = Department.objects.get(name="Binnendienst")
    assert child.path == f"/{top.pk}/{child.pk}/"


def test_a_department_cannot_sit_under_another_employers_department(admin_client, world):
    other = Department.objects.create(tenant=world.tenant, employer=world.employer_b, name="B-1")
    url = reverse("domains:department_add", kwargs={"key": world.employer.key})
    response = admin_client.post(url, {"name": "Fout", "parent": other.pk})
    assert response.status_code == 200 and "parent" in response.context["form"].errors
    with pytest.raises(ValidationError) as refused:
        services.add_department(employer=world.employer, name="Fout", parent=other, by=world.beheer)
    assert "parent" in refused.value.message_dict
    assert not Department.objects.filter(name="Fout").exists()


def test_the_department_page_lists_the_tree_in_order(admin_client, world):
    Department.objects.create(
        tenant=world.tenant, employer=world.employer, parent=world.inpak, name="Avond"
    )
    page = admin_client.get(
        reverse("domains:department_list", kwargs={"key": world.employer.key})
    ).content.decode()
    order = [page.index(name) for name in ("Kantoor", "Productie", "Inpak", "Avond")]
    assert order == sorted(order)


def test_an_admin_renames_a_department(admin_client, world):
    url = reverse("domains:department_rename", kwargs={"key": world.kantoor.key})
    assert admin_client.post(url, {"name": "Hoofdkantoor"}).status_code == 302
    world.kantoor.refresh_from_db()
    assert world.kantoor.name == "Hoofdkantoor"
    empty = admin_client.post(url, {"name": ""})
    assert empty.status_code == 200 and "name" in empty.context["rename_form"].errors


def test_moving_a_department_rewrites_the_path_of_its_whole_subtree(admin_client, world):
    nacht = Department.objects.create(
        tenant=world.tenant, employer=world.employer, parent=world.inpak, name="Nacht"
    )
    url = reverse("domains:department_move", kwargs={"key": world.department.key})
    assert admin_client.post(url, {"parent": world.kantoor.pk}).status_code == 302
    productie, inpak = world.department, world.inpak
    for department in (productie, inpak, nacht):
        department.refresh_from_db()
    base = f"/{world.kantoor.pk}/{productie.pk}/"
    assert productie.parent == world.kantoor and productie.path == base
    assert inpak.path == f"{base}{inpak.pk}/"
    assert nacht.path == f"{base}{inpak.pk}/{nacht.pk}/"
    subtree = set(Department.objects.filter(path__startswith=world.kantoor.path))
    assert subtree == {world.kantoor, productie, inpak, nacht}
    world.kantoor.refresh_from_db()
    assert world.kantoor.path == f"/{world.kantoor.pk}/"  # untouched
    # And back to the top.
    services.move_department(department=productie, parent=None, by=world.beheer)
    nacht.refresh_from_db()
    assert nacht.path == f"/{productie.pk}/{inpak.pk}/{nacht.pk}/"


def test_a_department_cannot_move_under_its_own_child(admin_client, world):
    url = reverse("domains:department_move", kwargs={"key": world.department.key})
    response = admin_client.post(url, {"parent": world.inpak.pk})
    assert response.status_code == 200 and "parent" in response.context["move_form"].errors
    for parent in (world.inpak, world.department):
        with pytest.raises(ValidationError) as refused:
            services.move_department(department=world.department, parent=parent, by=world.beheer)
        assert "parent" in refused.value.message_dict
    world.department.refresh_from_db()
    world.inpak.refresh_from_db()
    assert world.department.parent is None and world.department.path == f"/{world.department.pk}/"
    assert world.inpak.path == f"/{world.department.pk}/{world.inpak.pk}/"


def test_a_department_cannot_move_to_another_employer(world):
    other = Department.objects.create(tenant=world.tenant, employer=world.employer_b, name="B-1")
    with pytest.raises(ValidationError):
        services.move_department(department=world.kantoor, parent=other, by=world.beheer)


def test_a_department_with_current_employees_cannot_be_closed(admin_client, world):
    url = reverse("domains:department_close", kwargs={"key": world.kantoor.key})
    confirmation = admin_client.get(url)
    assert confirmation.status_code == 200 and confirmation.context["refusals"]
    response = admin_client.post(url)
    assert response.status_code == 302 and response.url == url
    world.kantoor.refresh_from_db()
    assert world.kantoor.closed_on is None
    with pytest.raises(ValidationError):
        services.close_department(department=world.kantoor, by=world.beheer)


def test_a_department_whose_employees_left_closes(admin_client, world):
    yesterday = timezone.localdate() - timedelta(days=1)
    for employee in (world.healthy, world.sick_unassigned):
        employee.employment_end = yesterday
        employee.save()
    url = reverse("domains:department_close", kwargs={"key": world.kantoor.key})
    assert admin_client.get(url).context["refusals"] == []
    assert admin_client.post(url).status_code == 302
    world.kantoor.refresh_from_db()
    assert world.kantoor.closed_on == timezone.localdate()
    assert world.healthy.department == world.kantoor  # history stays


def test_an_employee_leaving_today_still_counts_as_current(world):
    leaver = make_employee(world.employer_b, employment_end=timezone.localdate())
    department = services.add_department(employer=world.employer_b, name="Laatste", by=world.beheer)
    leaver.department = department
    leaver.save()
    assert services.closing_refusals(department)


def test_a_department_with_open_subdepartments_cannot_be_closed(world):
    parent = services.add_department(employer=world.employer_b, name="Boven", by=world.beheer)
    child = services.add_department(
        employer=world.employer_b, name="Onder", parent=parent, by=world.beheer
    )
    with pytest.raises(ValidationError):
        services.close_department(department=parent, by=world.beheer)
    services.close_department(department=child, by=world.beheer)
    services.close_department(department=parent, by=world.beheer)
    parent.refresh_from_db()
    assert parent.is_closed


def test_a_closed_department_is_no_longer_offered(world):
    closed = services.add_department(employer=world.employer, name="Opgeheven", by=world.beheer)
    services.close_department(department=closed, by=world.beheer)
    assert closed not in open_departments(world.tenant)
    assert world.kantoor in open_departments(world.tenant)
    assignment_form = AssignmentForm(tenant=world.tenant)
    offered = {pk for pk, _label in assignment_form.fields["departments"].choices}
    assert closed.pk not in offered and world.kantoor.pk in offered
    parents = {
        pk for pk, _label in DepartmentForm(employer=world.employer).fields["parent"].choices
    }
    assert closed.pk not in parents
    with pytest.raises(ValidationError):
        services.add_department(
            employer=world.employer, name="Eronder", parent=closed, by=world.beheer
        )
    assert closed in Department.objects.filter(employer=world.employer)  # kept for history


# --- contracts -------------------------------------------------------------------------------


def contract(world) -> ServiceContract:
    return world.employer.contracts.get(provider=world.arbo)


def test_an_admin_ends_a_contract(admin_client, world):
    url = reverse("domains:contract_end", kwargs={"key": contract(world).key})
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"ends_on": "2026-03-31"}).status_code == 302
    assert contract(world).ends_on == date(2026, 3, 31)


def test_a_contract_cannot_end_before_it_starts(admin_client, world):
    url = reverse("domains:contract_end", kwargs={"key": contract(world).key})
    response = admin_client.post(url, {"ends_on": "2019-12-31"})
    assert response.status_code == 200 and "ends_on" in response.context["form"].errors
    assert response.context["form"]["ends_on"].value() == "2019-12-31"
    assert contract(world).ends_on is None
    missing = admin_client.post(url, {"ends_on": ""})
    assert "ends_on" in missing.context["form"].errors


def test_an_admin_edits_a_contract(admin_client, world):
    url = reverse("domains:contract_edit", kwargs={"key": contract(world).key})
    assert admin_client.get(url).status_code == 200
    data = {"provider": world.arbo.pk, "employer": world.employer.pk, "starts_on": "2021-01-01"}
    assert admin_client.post(url, data).status_code == 302
    assert contract(world).starts_on == date(2021, 1, 1)
    bad = admin_client.post(url, {**data, "ends_on": "2020-06-30"})
    assert bad.status_code == 200 and "ends_on" in bad.context["form"].errors
    assert contract(world).ends_on is None


def test_an_ended_contract_ends_the_providers_view(world):
    services.end_contract(
        contract=contract(world),
        ends_on=timezone.localdate() - timedelta(days=1),
        by=world.beheer,
    )
    forget_access(world.casemanager)
    from employees.selectors import visible_employees

    assert world.employee not in visible_employees(world.casemanager)


# --- roles: remove and archive ---------------------------------------------------------------


def new_role(world, name="Tijdelijk") -> Role:
    return services.save_role(
        role=Role(tenant=world.tenant, name=name, domain=Domain.WERKGEVER,
                  permissions=[Perm.EMPLOYEE_VIEW]),
        by=world.beheer,
    )  # fmt: skip


def test_a_role_nobody_holds_is_removed(admin_client, world):
    role = new_role(world)
    url = reverse("domains:role_remove", kwargs={"key": role.key})
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url).status_code == 302
    assert not Role.objects.filter(pk=role.pk).exists()


def test_a_role_with_only_rejected_requests_is_removed_with_them(world):
    role = new_role(world)
    applicant = make_user(world.tenant, "afgewezen@a.test")
    assignment = grant(applicant, role, employers=[world.employer])
    assignment.status = AssignmentStatus.REJECTED
    assignment.save()
    services.remove_role(role=role, by=world.beheer)
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert not Role.objects.filter(pk=role.pk).exists()


def test_a_role_with_holders_is_not_removed(admin_client, world):
    role = world.roles["hr"]
    custom = new_role(world)
    grant(make_user(world.tenant, "houder@a.test"), custom, employers=[world.employer])
    url = reverse("domains:role_remove", kwargs={"key": custom.key})
    assert admin_client.post(url).status_code == 302
    assert Role.objects.filter(pk=custom.pk).exists()
    with pytest.raises(ValidationError):
        services.remove_role(role=custom, by=world.beheer)
    with pytest.raises(ValidationError):  # a reference role, with or without holders
        services.remove_role(role=role, by=world.beheer)


def test_an_unused_reference_role_is_not_removed(world):
    reference = next(role for role in world.roles.values() if not role.assignments.exists())
    with pytest.raises(ValidationError):
        services.remove_role(role=reference, by=world.beheer)
    assert Role.objects.filter(pk=reference.pk).exists()


def test_an_archived_role_cannot_be_assigned_but_its_holders_keep_it(admin_client, world):
    role = world.roles["hr"]
    url = reverse("domains:role_archive", kwargs={"key": role.key})
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url).status_code == 302
    role.refresh_from_db()
    assert role.is_archived
    assert role not in AssignmentForm(tenant=world.tenant).fields["role"].queryset
    newcomer = make_user(world.tenant, "nieuw@a.test")
    with pytest.raises(ValidationError):
        services.assign_role(user=newcomer, role=role, by=world.beheer, employers=[world.employer])
    forget_access(world.hr)
    assert Perm.EMPLOYEE_VIEW in user_permissions(world.hr)
    listing = admin_client.get(reverse("domains:role_list"))
    assert listing.status_code == 200
    # Restoring makes it assignable again.
    assert admin_client.post(url).status_code == 302
    role.refresh_from_db()
    assert not role.is_archived


def test_an_admin_cannot_touch_another_environments_roles(admin_client, world):
    role = world.outsider.role_assignments.get().role
    for name in ("domains:role_remove", "domains:role_archive"):
        assert admin_client.post(reverse(name, kwargs={"key": role.key})).status_code == 404
    role.refresh_from_db()
    assert not role.is_archived
    with pytest.raises(PermissionDenied):
        services.archive_role(role=role, by=world.beheer)


# --- the environment's BSN setting -----------------------------------------------------------


def test_storing_bsns_needs_a_legal_ground(world):
    tenant = world.tenant
    tenant.bsn_legal_ground = ""
    tenant.bsn_allowed = True
    with pytest.raises(ValidationError) as refused:
        tenant.full_clean()
    assert "bsn_legal_ground" in refused.value.message_dict
    tenant.bsn_legal_ground = "  Wet op de loonbelasting 1964  "
    tenant.full_clean()
    assert tenant.bsn_legal_ground == "Wet op de loonbelasting 1964"


def test_a_new_environment_stores_no_bsn(db):
    tenant = Tenant.objects.create(name="Zonder BSN")
    assert tenant.bsn_allowed is False and tenant.bsn_legal_ground == ""


def test_the_settings_page_refuses_bsn_without_a_legal_ground(admin_client, world):
    world.tenant.bsn_allowed, world.tenant.bsn_legal_ground = False, ""
    world.tenant.save()
    form = TenantSettingsForm(instance=world.tenant)
    data = {
        name: value
        for name, value in ((name, form[name].value()) for name in form.fields)
        if value is not None
    }
    data["bsn_allowed"] = "on"
    response = admin_client.post(reverse("domains:tenant_settings"), data)
    assert response.status_code == 200 and "bsn_legal_ground" in response.context["form"].errors
    world.tenant.refresh_from_db()
    assert not world.tenant.bsn_allowed
    data["bsn_legal_ground"] = "Wet financiering sociale verzekeringen"
    assert admin_client.post(reverse("domains:tenant_settings"), data).status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.bsn_allowed


def test_non_admins_reach_none_of_the_organisation_screens(client, world):
    verified_login(client, world.hr)
    assert client.get(reverse("domains:employer_list")).status_code == 403
    url = reverse("domains:department_close", kwargs={"key": world.kantoor.key})
    assert client.post(url).status_code == 403
