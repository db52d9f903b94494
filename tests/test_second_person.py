"""One functional admin alone can grant no medical access and approve nothing of their own.

The attacks of the security review, replayed against the services (the views call the same):
editing a role to give its holders medical rights, approving with an account one created, and
a BIG number that belongs to someone else.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent, AuditExport
from audit.services import decide_export
from audit.tasks import drain_outbox
from auth2fa.models import AccountType, User
from domains import services
from domains.big_register import ArticleRegistration, normalised_surname
from domains.models import AssignmentStatus, BigCheckStatus, BigRegistration, Domain, Role
from domains.permissions import Perm
from domains.visibility import forget_access, user_permissions
from tests import fake_big_register as register
from tests.conftest import PASSWORD, make_user, verified_login
from tests.test_roles import big_register_server  # noqa: F401 - a fixture


@pytest.fixture
def holder(world):
    """A company doctor's colleague holding a role without medical rights (active at once)."""
    user = make_user(world.tenant, "collega@a.test", last_name="Arts")
    user.first_name = "Bart"
    user.save(update_fields=["first_name"])
    return user


def test_adding_medical_rights_to_a_held_role_asks_for_approval_again(world, holder):
    # The reproduced attack: a bedrijfsarts-domain role without medical permissions, assigned
    # (active at once), then edited to add medical.view by the same admin.
    role = Role(tenant=world.tenant, name="Arts zonder dossier", domain=Domain.BEDRIJFSARTS)
    role.permissions = [Perm.EMPLOYEE_VIEW, Perm.CASE_VIEW]
    services.save_role(role=role, by=world.beheer)
    assignment = services.assign_role(user=holder, role=role, provider=world.arbo, by=world.beheer)
    assert assignment.status == AssignmentStatus.ACTIVE
    role.permissions = [*role.permissions, Perm.MEDICAL_VIEW]
    services.save_role(role=role, by=world.beheer)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.AWAITING_APPROVAL
    assert assignment.requested_by == world.beheer and assignment.decided_by is None
    forget_access(holder)
    assert Perm.MEDICAL_VIEW not in user_permissions(holder)
    with pytest.raises(ValidationError):  # the editor is the requester now
        services.approve_assignment(assignment=assignment, by=world.beheer)


def test_moving_a_held_role_into_the_company_doctors_domain_asks_for_approval_again(world, holder):
    role = Role(tenant=world.tenant, name="Casemanager plus", domain=Domain.ARBODIENST)
    role.permissions = [Perm.EMPLOYEE_VIEW, Perm.CASE_VIEW]
    services.save_role(role=role, by=world.beheer)
    assignment = services.assign_role(user=holder, role=role, provider=world.arbo, by=world.beheer)
    role.domain = Domain.BEDRIJFSARTS
    services.save_role(role=role, by=world.beheer)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.AWAITING_APPROVAL


def test_a_change_that_adds_no_medical_rights_leaves_holders_active(world):
    role = world.roles["hr"]
    role.name = "HR (hernoemd)"
    services.save_role(role=role, by=world.beheer)
    assert world.hr.role_assignments.get().status == AssignmentStatus.ACTIVE


@pytest.mark.parametrize("missing", ["approval", "own approval", "big"])
def test_an_active_medical_assignment_without_both_checks_grants_no_medical_rights(world, missing):
    assignment = world.bedrijfsarts.role_assignments.get()
    forget_access(world.bedrijfsarts)
    assert Perm.MEDICAL_VIEW in user_permissions(world.bedrijfsarts)
    if missing == "approval":
        assignment.decided_by = None
        assignment.save()
    elif missing == "own approval":
        assignment.decided_by = assignment.requested_by
        assignment.save()
    else:
        BigRegistration.objects.filter(user=world.bedrijfsarts).update(
            status=BigCheckStatus.PENDING
        )
    forget_access(world.bedrijfsarts)
    permissions = user_permissions(world.bedrijfsarts)
    assert Perm.MEDICAL_VIEW not in permissions and Perm.MEDICAL_WRITE not in permissions
    assert Perm.CASE_VIEW in permissions  # only the medical rights are withheld


# --- the second person is a real second person ------------------------------------------------


def new_admin(world, email: str, by: User, kind: str = AccountType.FUNCTIONAL_ADMIN) -> User:
    return services.create_user(by=by, request=None, email=email, account_type=kind)


def test_a_new_functional_admin_waits_for_a_second_admin(world):
    mail.outbox.clear()
    account = new_admin(world, "derde@a.test", by=world.beheer)
    assert account.awaiting_approval and not account.is_active
    assert mail.outbox == []  # nobody is invited before the approval
    with pytest.raises(ValidationError):
        services.approve_account(user=account, by=world.beheer)
    services.approve_account(user=account, by=world.beheer2)
    account.refresh_from_db()
    assert account.is_active and not account.awaiting_approval
    assert account.approved_by == world.beheer2
    assert [message.to for message in mail.outbox] == [["derde@a.test"]]


def test_a_new_auditor_waits_too_and_a_member_does_not(world):
    auditor = new_admin(world, "auditor2@a.test", by=world.beheer, kind=AccountType.AUDITOR)
    member = new_admin(world, "lid@a.test", by=world.beheer, kind=AccountType.MEMBER)
    assert auditor.awaiting_approval and not auditor.is_active
    assert not member.awaiting_approval and member.is_active


def test_an_account_the_requester_created_cannot_approve_for_them(world, holder):
    puppet = new_admin(world, "pop@a.test", by=world.beheer)
    services.approve_account(user=puppet, by=world.beheer2)  # approved by someone else
    assignment = services.assign_role(
        user=holder, role=world.roles["bedrijfsarts"], provider=world.arbo, by=world.beheer
    )
    with pytest.raises(ValidationError, match="onafhankelijk"):
        services.approve_assignment(assignment=assignment, by=puppet)
    services.approve_assignment(assignment=assignment, by=world.beheer2)


def test_an_account_the_requester_approved_cannot_approve_for_them(world, holder):
    made_by_beheer2 = new_admin(world, "vriend@a.test", by=world.beheer2)
    services.approve_account(user=made_by_beheer2, by=world.beheer)  # beheer approved it
    assignment = services.assign_role(
        user=holder, role=world.roles["bedrijfsarts"], provider=world.arbo, by=world.beheer
    )
    with pytest.raises(ValidationError, match="onafhankelijk"):
        services.approve_assignment(assignment=assignment, by=made_by_beheer2)


def test_an_admin_waiting_for_approval_approves_nothing(world):
    waiting = new_admin(world, "wacht@a.test", by=world.beheer2)
    other = new_admin(world, "ander@a.test", by=world.beheer)
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied: not an active admin
        services.approve_account(user=other, by=waiting)


def test_an_audit_export_needs_an_independent_approver(world):
    export = AuditExport.objects.get(pk=world.export.pk)
    puppet = new_admin(world, "pop@a.test", by=world.beheer)
    puppet.created_by = world.auditor  # as if the requesting auditor had made it
    puppet.is_active, puppet.awaiting_approval = True, False
    puppet.save()
    with pytest.raises(ValidationError, match="onafhankelijk"):
        decide_export(export=export, by=puppet, approve=True)
    decided = decide_export(export=export, by=world.beheer, approve=True)
    assert decided.decided_by == world.beheer


def test_the_approval_page_lists_waiting_accounts_and_decides(client, world):
    account = new_admin(world, "derde@a.test", by=world.beheer)
    verified_login(client, world.beheer)
    page = client.get(reverse("domains:approval_list")).content.decode()
    assert "derde@a.test" in page and "uw eigen verzoek" in page
    client.post(
        reverse("domains:account_decide", kwargs={"key": account.key}), {"decision": "approve"}
    )
    account.refresh_from_db()
    assert account.awaiting_approval  # the creator's own approval is refused
    other = client.__class__()
    verified_login(other, world.beheer2)
    other.post(
        reverse("domains:account_decide", kwargs={"key": account.key}), {"decision": "approve"}
    )
    account.refresh_from_db()
    assert account.is_active


def test_a_waiting_account_cannot_log_in(client, world):
    account = new_admin(world, "derde@a.test", by=world.beheer)
    account.set_password(PASSWORD)
    account.save()
    response = client.post(
        reverse("auth2fa:login"), {"username": "derde@a.test", "password": PASSWORD}
    )
    assert response.status_code == 200  # refused: inactive until approved


# --- the BIG check ties the number to the person -----------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "matches"),
    [
        ("Bart", "Arts", True),
        ("bart", "ARTS", True),
        ("Bärt", "van Arts", True),
        ("Anna", "Arts", False),
        ("Bart", "Artsen", False),
        ("", "Arts", False),
    ],
)
def test_the_register_name_must_be_the_users(first, last, matches):
    registration = ArticleRegistration(
        number=register.DOCTOR, professional_group="01", start=None, end=None,
        birth_surname="Arts", initials="B",
    )  # fmt: skip
    assert registration.is_named(first, last) is matches


def test_surnames_compare_without_prefixes_and_diacritics():
    assert normalised_surname("van der Berg-Ünal") == normalised_surname("Berg-Unal")
    assert normalised_surname("'t Hart") == "HART"
    assert normalised_surname("De") == "DE"  # a surname that is only a "prefix" stays


def test_a_big_number_of_someone_else_is_refused(world, big_register_server):  # noqa: F811
    doctor = make_user(world.tenant, "andere-arts@a.test", last_name="Jansen")
    assignment = services.assign_role(
        user=doctor, role=world.roles["bedrijfsarts"], provider=world.arbo, by=world.beheer
    )
    services.approve_assignment(assignment=assignment, by=world.beheer2)
    registration = services.set_big_number(user=doctor, big_number=register.DOCTOR, by=world.beheer)
    assert services.run_big_check(registration) == BigCheckStatus.NAME_MISMATCH
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.AWAITING_BIG
    registration.refresh_from_db()
    assert "andere naam" in registration.get_status_display()


def test_every_grant_of_medical_access_tells_all_admins_and_is_audited(
    world,
    holder,
    big_register_server,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    assignment = services.assign_role(
        user=holder, role=world.roles["bedrijfsarts"], provider=world.arbo, by=world.beheer
    )
    services.approve_assignment(assignment=assignment, by=world.beheer2)
    registration = services.set_big_number(user=holder, big_number=register.DOCTOR, by=world.beheer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.run_big_check(registration)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACTIVE
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["beheer2@a.test", "beheer@a.test"]
    assert "collega@a.test" in mail.outbox[0].body and "Bedrijfsarts" in mail.outbox[0].body
    drain_outbox()
    granted = AuditEvent.objects.using("audit").get(event_type="medical_access.grant")
    assert granted.object_key == assignment.key and granted.actor_key is None
