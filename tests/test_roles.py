"""Roles and assignments: ceilings, one domain per user, the deadline for unplaced roles, the
four-eyes rule with the BIG-register check, and the role tooling of functional admins."""

from __future__ import annotations

import csv
import io
import socket
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from domains import big_register, services
from domains.models import AssignmentStatus, BigCheckStatus, BigRegistration, Role, RoleAssignment
from domains.permissions import REFERENCE_ROLES, Domain, Perm
from domains.tasks import check_pending_big_registrations
from domains.visibility import forget_access, user_permissions
from employees import services as employee_services
from employees.selectors import visible_employees
from tests import fake_big_register as register
from tests.conftest import grant, make_user, verified_login


@pytest.fixture
def big_register_server(settings):
    with register.running_register() as url:
        settings.BIG_REGISTER_URL = url
        yield register.Handler.requests


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/zksrv/soap/4"


# --- ceilings -------------------------------------------------------------------------------


def test_every_tenant_starts_with_the_reference_roles(world):
    keys = set(
        Role.objects.filter(tenant=world.tenant)
        .exclude(reference_key="")
        .values_list("reference_key", flat=True)
    )
    assert keys == {role.key for role in REFERENCE_ROLES}
    assert services.ensure_reference_roles(world.tenant)  # idempotent
    assert Role.objects.filter(tenant=world.tenant).count() == len(REFERENCE_ROLES)


def test_a_role_exceeding_its_domains_ceiling_is_refused_naming_the_permissions(world):
    role = Role(tenant=world.tenant, name="Te ruim", domain=Domain.WERKGEVER,
                permissions=[Perm.EMPLOYEE_VIEW, Perm.MEDICAL_VIEW, Perm.CLAIM_VIEW])  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        services.save_role(role=role, by=world.beheer)
    message = " ".join(refused.value.message_dict["permissions"])
    assert "Read the medical file" in message or "Het medisch dossier lezen" in message
    assert "claims" in message or "schade" in message
    assert not Role.objects.filter(name="Te ruim").exists()


@pytest.mark.parametrize("domain", [Domain.WERKGEVER, Domain.ARBODIENST, Domain.VERZEKERAAR, ""])
def test_only_the_company_doctor_domain_may_hold_medical_permissions(world, domain):
    role = Role(
        tenant=world.tenant,
        name=f"Medisch {domain}",
        domain=domain,
        permissions=[Perm.MEDICAL_VIEW],
    )
    with pytest.raises(ValidationError):
        services.save_role(role=role, by=world.beheer)
    role.domain = Domain.BEDRIJFSARTS
    services.save_role(role=role, by=world.beheer)


def test_the_role_form_shows_the_ceiling_error(client, world):
    verified_login(client, world.beheer)
    response = client.post(
        reverse("domains:role_create"),
        {
            "name": "Verzekeraar plus",
            "domain": Domain.VERZEKERAAR,
            "permissions": [Perm.CASE_VIEW, Perm.NOTE_VIEW],
        },
    )
    assert response.status_code == 200
    assert "Algemene notities en documenten lezen" in response.content.decode()
    assert "plafond" in response.content.decode()


def test_only_functional_admins_save_roles(world):
    with pytest.raises(PermissionDenied):
        services.save_role(
            role=Role(tenant=world.tenant, name="X", domain=Domain.WERKGEVER), by=world.hr
        )


def test_a_reference_role_stays_in_its_domain(world):
    role = world.roles["casemanager"]
    role.domain = Domain.WERKGEVER
    with pytest.raises(ValidationError):
        services.save_role(role=role, by=world.beheer)


# --- one domain per user ---------------------------------------------------------------------


def test_a_user_cannot_hold_roles_in_two_domains(world):
    with pytest.raises(ValidationError, match="twee accounts"):
        services.assign_role(
            user=world.hr, role=world.roles["casemanager"], provider=world.arbo, by=world.beheer
        )


def test_placing_a_role_in_a_domain_refuses_holders_of_another_domain(world):
    legacy = Role.objects.create(
        tenant=world.tenant, name="Oud", domain="", permissions=[Perm.EMPLOYEE_VIEW]
    )
    grant(world.hr, legacy, employers=[world.employer])
    legacy.domain = Domain.ARBODIENST
    with pytest.raises(ValidationError, match="twee accounts"):
        services.save_role(role=legacy, by=world.beheer)
    legacy.domain = Domain.WERKGEVER
    services.save_role(role=legacy, by=world.beheer)


def test_provider_roles_need_a_provider_of_the_right_kind(world):
    user = make_user(world.tenant, "nieuw@a.test")
    with pytest.raises(ValidationError):
        services.assign_role(
            user=user, role=world.roles["schadebehandelaar"], provider=world.arbo, by=world.beheer
        )
    services.assign_role(
        user=user, role=world.roles["schadebehandelaar"], provider=world.insurer, by=world.beheer
    )


def test_employer_roles_need_a_scope(world):
    user = make_user(world.tenant, "nieuw@a.test")
    with pytest.raises(ValidationError):
        services.assign_role(user=user, role=world.roles["leidinggevende"], by=world.beheer)
    services.assign_role(
        user=user, role=world.roles["leidinggevende"], departments=[world.kantoor], by=world.beheer
    )
    assert user_permissions(user) >= {Perm.EMPLOYEE_VIEW}


def test_admins_and_auditors_get_no_domain_role(world):
    with pytest.raises(ValidationError):
        services.assign_role(
            user=world.auditor, role=world.roles["hr"], employers=[world.employer], by=world.beheer
        )


def test_another_tenants_role_cannot_be_assigned(world):
    foreign_role = world.outsider.role_assignments.get().role
    user = make_user(world.tenant, "nieuw@a.test")
    with pytest.raises(PermissionDenied):
        services.assign_role(
            user=user, role=foreign_role, employers=[world.employer], by=world.beheer
        )


# --- unplaced roles and the deadline ---------------------------------------------------------


@pytest.fixture
def legacy_user(world):
    legacy = Role.objects.create(
        tenant=world.tenant, name="Oud", domain="", permissions=[Perm.EMPLOYEE_VIEW]
    )
    user = make_user(world.tenant, "oud@a.test")
    grant(user, legacy, employers=[world.employer])
    return user


def test_an_unplaced_role_works_until_the_deadline(client, world, legacy_user):
    world.tenant.unplaced_role_deadline = timezone.localdate() + timedelta(days=1)
    world.tenant.save()
    verified_login(client, legacy_user)
    assert client.get(reverse("dashboard")).status_code == 200
    page = client.get(reverse("employees:list"))
    # Negative registration within its explicit scope, until it is placed in a domain.
    assert {e.surname for e in page.context["page"]} == {"Jansen", "Ziekniet"}


def test_an_unplaced_role_blocks_its_users_after_the_deadline(client, world, legacy_user):
    world.tenant.unplaced_role_deadline = timezone.localdate() - timedelta(days=1)
    world.tenant.save()
    verified_login(client, legacy_user)
    for url in (reverse("dashboard"), reverse("employees:list")):
        response = client.get(url)
        assert response.status_code == 403
        assert "functioneel beheerder" in response.content.decode()
    assert client.post(reverse("auth2fa:logout")).status_code == 302


# --- four eyes and the BIG register ----------------------------------------------------------


@pytest.fixture
def new_doctor(world):
    """Named as the (fake) BIG register lists its numbers: B. Arts."""
    doctor = make_user(world.tenant, "arts@a.test", last_name="Arts")
    doctor.first_name = "Bart"
    doctor.save(update_fields=["first_name"])
    return doctor


def request_medical_role(world, doctor):
    return services.assign_role(
        user=doctor, role=world.roles["bedrijfsarts"], provider=world.arbo, by=world.beheer
    )


def test_medical_access_waits_for_a_second_admin(world, new_doctor):
    assignment = request_medical_role(world, new_doctor)
    assert assignment.status == AssignmentStatus.AWAITING_APPROVAL
    assert user_permissions(new_doctor) == frozenset()


def test_the_requester_cannot_approve_their_own_request(world, new_doctor):
    assignment = request_medical_role(world, new_doctor)
    with pytest.raises(ValidationError, match="tweede functioneel beheerder"):
        services.approve_assignment(assignment=assignment, by=world.beheer)
    with pytest.raises(ValidationError):
        services.reject_assignment(assignment=assignment, by=world.beheer)


def test_approval_and_a_verified_big_number_activate_medical_access(
    world, new_doctor, big_register_server
):
    assignment = request_medical_role(world, new_doctor)
    approved = services.approve_assignment(assignment=assignment, by=world.beheer2)
    assert approved.status == AssignmentStatus.AWAITING_BIG  # no BIG number yet
    assert (approved.requested_by, approved.decided_by) == (world.beheer, world.beheer2)
    services.set_big_number(user=new_doctor, big_number=register.DOCTOR, by=world.beheer)
    # Celery runs in-process without a broker, or the test calls the task the worker would run.
    registration = BigRegistration.objects.get(user=new_doctor)
    services.run_big_check(registration)
    registration.refresh_from_db()
    assert registration.status == BigCheckStatus.VERIFIED
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACTIVE
    forget_access(new_doctor)
    assert Perm.MEDICAL_VIEW in user_permissions(new_doctor)
    assert big_register_server[-1] == {
        "soapaction": '"http://services.cibg.nl/ExternalUser/ListHcpApprox4"',
        "number": register.DOCTOR,
    }


@pytest.mark.parametrize("number", [register.NURSE, register.ENDED_DOCTOR, register.UNKNOWN])
def test_a_number_that_is_no_current_doctor_is_not_authorised(
    world, new_doctor, big_register_server, number
):
    assignment = request_medical_role(world, new_doctor)
    services.approve_assignment(assignment=assignment, by=world.beheer2)
    registration = services.set_big_number(user=new_doctor, big_number=number, by=world.beheer)
    assert services.run_big_check(registration) == BigCheckStatus.NOT_FOUND
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.AWAITING_BIG


def test_an_unreachable_register_makes_the_authorisation_wait_and_retry(
    world, new_doctor, settings
):
    settings.BIG_REGISTER_URL = closed_port_url()
    assignment = request_medical_role(world, new_doctor)
    services.approve_assignment(assignment=assignment, by=world.beheer2)
    registration = services.set_big_number(
        user=new_doctor, big_number=register.DOCTOR, by=world.beheer
    )
    assert services.run_big_check(registration) == BigCheckStatus.UNREACHABLE
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.AWAITING_BIG  # never granted silently
    with register.running_register() as url:  # the register is back: the periodic task retries
        settings.BIG_REGISTER_URL = url
        assert check_pending_big_registrations.apply().get() == 1
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACTIVE


def test_a_soap_fault_counts_as_unreachable(world, new_doctor, big_register_server):
    with pytest.raises(big_register.BigRegisterUnavailable):
        big_register.lookup(register.FAULTING)


@pytest.mark.parametrize(
    ("number", "plausible"),
    [
        ("19012345601", True),
        ("1901234560", False),
        ("190123456011", False),
        ("1901234560A", False),
        ("00000000000", False),
    ],
)
def test_big_numbers_are_checked_for_plausibility(number, plausible):
    assert big_register.is_plausible_big_number(number) is plausible


def test_an_implausible_big_number_is_refused(world, new_doctor):
    with pytest.raises(ValidationError):
        services.set_big_number(user=new_doctor, big_number="12345", by=world.beheer)


def test_the_approval_screen_records_both_steps(client, world, new_doctor):
    assignment = request_medical_role(world, new_doctor)
    verified_login(client, world.beheer)
    page = client.get(reverse("domains:approval_list")).content.decode()
    assert "uw eigen verzoek" in page  # the requester gets no approve button
    client.post(
        reverse("domains:approval_decide", kwargs={"key": assignment.key}), {"decision": "approve"}
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.AWAITING_APPROVAL
    client.logout()
    verified_login(client, world.beheer2)
    client.post(
        reverse("domains:approval_decide", kwargs={"key": assignment.key}), {"decision": "approve"}
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.AWAITING_BIG
    assert assignment.decided_by == world.beheer2 and assignment.decided_at is not None


# --- role tooling ----------------------------------------------------------------------------


def test_the_overview_lists_roles_with_their_rights(client, world):
    verified_login(client, world.beheer)
    page = client.get(reverse("domains:role_list")).content.decode()
    for reference in REFERENCE_ROLES:
        assert reference.name in page
    assert "Inzien wat schadebehandeling nodig heeft" in page  # the insurer's right, by name


def test_an_admin_places_a_legacy_role_in_a_domain(client, world):
    legacy = Role.objects.create(
        tenant=world.tenant, name="Oud", domain="", permissions=[Perm.EMPLOYEE_VIEW]
    )
    verified_login(client, world.beheer)
    response = client.post(
        reverse("domains:role_edit", kwargs={"key": legacy.key}),
        {"name": "Oud", "domain": Domain.VERZEKERAAR, "permissions": [Perm.EMPLOYEE_VIEW]},
    )
    assert response.status_code == 302
    legacy.refresh_from_db()
    assert legacy.domain == Domain.VERZEKERAAR


def test_comparing_a_role_with_its_reference_shows_extra_and_missing(client, world):
    role = Role.objects.create(
        tenant=world.tenant, name="Casemanager light", domain=Domain.ARBODIENST,
        permissions=[Perm.EMPLOYEE_VIEW, Perm.CASE_VIEW, Perm.EMPLOYEE_EXPORT],
    )  # fmt: skip
    verified_login(client, world.beheer)
    response = client.get(
        reverse("domains:role_compare", kwargs={"key": role.key}), {"reference": "casemanager"}
    )
    extra = [str(label) for label in response.context["extra"]]
    missing = [str(label) for label in response.context["missing"]]
    assert extra == ["Werknemers exporteren"]
    assert (
        "Ziek- en hersteldmeldingen doen" in missing
        and "Algemene notities en documenten schrijven" in missing
    )


def test_the_role_matrix_shows_every_role_and_permission(client, world):
    verified_login(client, world.beheer)
    response = client.get(reverse("domains:role_matrix"))
    roles = response.context["roles"]
    assert {role.name for role in roles} >= {reference.name for reference in REFERENCE_ROLES}
    rows = [perm for _heading, perms in response.context["groups"] for perm, _cells in perms]
    assert set(rows) == set(Perm)
    doctor_column = [role.reference_key for role in roles].index("bedrijfsarts")
    medical = dict(
        next(
            perms
            for heading, perms in response.context["groups"]
            if Perm.MEDICAL_VIEW in dict(perms)
        )
    )
    assert medical[Perm.MEDICAL_VIEW][doctor_column] is True
    assert sum(medical[Perm.MEDICAL_VIEW]) == 1


def test_roles_export_as_csv_and_xlsx(client, world):
    Role.objects.create(
        tenant=world.tenant, name="=HYPERLINK(1)", domain=Domain.WERKGEVER, permissions=[]
    )
    verified_login(client, world.beheer)
    response = client.get(reverse("domains:roles_export_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    names = [row[0] for row in rows[1:]]
    assert "Bedrijfsarts" in names and "'=HYPERLINK(1)" in names  # no formula injection
    doctor = rows[names.index("Bedrijfsarts") + 1]
    assert doctor[rows[0].index("Het medisch dossier lezen")] == "x"

    response = client.get(reverse("domains:roles_export_xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Rol" and {row[0] for row in values[1:]} >= {
        "Bedrijfsarts",
        "Casemanager",
    }


def test_functional_admins_manage_users_without_seeing_dossiers(client, world):
    verified_login(client, world.beheer)
    assert (
        client.get(reverse("domains:user_detail", kwargs={"key": world.hr.key})).status_code == 200
    )
    assert client.get(reverse("employees:list")).status_code == 403
    assert (
        client.get(reverse("employees:detail", kwargs={"key": world.employee.key})).status_code
        == 403
    )


def test_an_admin_assigns_a_role_through_the_user_page(client, world):
    user = make_user(world.tenant, "nieuw@a.test")
    verified_login(client, world.beheer)
    response = client.post(
        reverse("domains:user_assign_role", kwargs={"key": user.key}),
        {
            "role": world.roles["leidinggevende"].pk,
            "departments": [world.kantoor.pk],
        },
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=user)
    assert list(assignment.departments.all()) == [world.kantoor]
    response = client.post(
        reverse("domains:user_assign_role", kwargs={"key": user.key}),
        {"role": world.roles["casemanager"].pk, "provider": world.arbo.pk},
    )
    assert response.status_code == 200 and "twee accounts" in response.content.decode()


def test_hr_assigns_and_removes_a_case_manager(client, world):
    verified_login(client, world.hr)
    url = reverse("employees:case_manager_add", kwargs={"key": world.sick_unassigned.key})
    client.post(url, {"case_manager": world.casemanager.pk})
    forget_access(world.casemanager)
    assert visible_employees(world.casemanager).filter(pk=world.sick_unassigned.pk).exists()
    client.post(
        reverse(
            "employees:case_manager_remove",
            kwargs={"key": world.sick_unassigned.key, "user_key": world.casemanager.key},
        )
    )
    forget_access(world.casemanager)
    assert not visible_employees(world.casemanager).filter(pk=world.sick_unassigned.pk).exists()


def test_only_case_managers_can_be_assigned(client, world):
    with pytest.raises(ValidationError):
        employee_services.assign_case_manager(
            employee=world.sick_unassigned, case_manager=world.verzekeraar, by=world.hr
        )


def test_a_manager_cannot_assign_case_managers(world):
    with pytest.raises(PermissionDenied):
        employee_services.assign_case_manager(
            employee=world.employee, case_manager=world.casemanager, by=world.manager
        )


def test_departments_are_offered_in_tree_order(world):
    from domains.forms import AssignmentForm
    from domains.models import Department

    for number in range(12):  # enough ids that text order of paths would differ from tree order
        Department.objects.create(
            tenant=world.tenant, employer=world.employer_b, name=f"Team {number:02d}"
        )
    labels = [
        label for _pk, label in AssignmentForm(tenant=world.tenant).fields["departments"].choices
    ]
    own = [label for label in labels if label.startswith("Werkgever A")]
    assert own == ["Werkgever A › Kantoor", "Werkgever A › Productie", "Werkgever A › — Inpak"]


def test_an_admin_creates_an_account_that_sets_its_own_password(client, world):
    from django.core import mail

    from auth2fa.models import User

    verified_login(client, world.beheer)
    response = client.post(
        reverse("domains:user_list"),
        {
            "email": "Nieuw@A.test",
            "first_name": "Nina",
            "last_name": "Nieuw",
            "account_type": "member",
        },
    )
    user = User.objects.get(email="nieuw@a.test")
    assert response.url == reverse("domains:user_detail", kwargs={"key": user.key})
    assert user.tenant == world.tenant and not user.has_usable_password()
    assert len(mail.outbox) == 1 and "/password-reset/" in mail.outbox[0].body
    again = client.post(
        reverse("domains:user_list"), {"email": "nieuw@a.test", "account_type": "member"}
    )
    assert again.status_code == 200 and User.objects.filter(email="nieuw@a.test").count() == 1
