"""Workflows of functional admins: the organisation (employers, departments, contracts), roles,
domains, assignments, four-eyes approval, BIG checks; and setting up a new environment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import partial
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.codes import Action
from audit.events import record_event
from auth2fa.models import AccountType, User
from auth2fa.services import require_functional_admin
from core.accounts import independent_of, is_active_admin
from core.tenancy import all_tenants, tenant_scope
from domains import big_register
from domains.models import (
    AssignmentStatus,
    BigCheckStatus,
    BigRegistration,
    Department,
    Employer,
    Role,
    RoleAssignment,
    ServiceContract,
    ServiceProvider,
    Tenant,
    normalise_kvk_number,
    normalise_payroll_tax_number,
)
from domains.permissions import PROVIDER_KIND_OF_DOMAIN, REFERENCE_ROLES, Domain
from domains.visibility import forget_access


def ensure_reference_roles(tenant: Tenant) -> list[Role]:
    """Create the standard AVG roles of every domain in a tenant (once)."""
    roles = []
    for reference in REFERENCE_ROLES:
        role, _created = Role.objects.get_or_create(
            tenant=tenant,
            reference_key=reference.key,
            defaults={
                "name": reference.name,
                "domain": reference.domain,
                "permissions": sorted(reference.permissions),
                "only_assigned": reference.only_assigned,
            },
        )
        roles.append(role)
    return roles


def _holders_domains(role: Role) -> set[str]:
    """Domains of the other roles held by the users who hold `role`."""
    holders = RoleAssignment.objects.filter(role=role).values("user_id")
    return set(
        RoleAssignment.objects.filter(user_id__in=holders)
        .exclude(role=role)
        .exclude(status=AssignmentStatus.REJECTED)
        .values_list("role__domain", flat=True)
    )


@transaction.atomic
def save_role(*, role: Role, by: User) -> Role:
    """Create or change a role. Refused when its permissions exceed its domain's ceiling, or when
    placing it in a domain would give one of its holders roles in two domains."""
    require_functional_admin(by)
    if role.tenant_id != by.tenant_id:
        raise PermissionDenied
    if role.is_reference and role.pk:
        original = Role.objects.get(pk=role.pk)
        if original.domain != role.domain:
            raise ValidationError({"domain": _("A reference role stays in its own domain.")})
    role.full_clean()
    if role.pk and role.domain:
        other = _holders_domains(role) - {role.domain}
        if other:
            raise ValidationError(
                {
                    "domain": _(
                        "Users with this role also hold roles in another domain (%(domains)s). "
                        "A person who needs two domains needs two accounts."
                    )
                    % {
                        "domains": ", ".join(
                            str(Domain(d).label) if d else _("no domain") for d in other
                        )
                    }
                }
            )
    gains_medical_access = _gains_medical_access(role)
    role.save()
    if gains_medical_access:
        _require_approval_again(role, by=by)
    for assignment in role.assignments.select_related("user"):
        forget_access(assignment.user)
    return role


def _gains_medical_access(role: Role) -> bool:
    """Does this save give the role's holders medical rights they did not have: medical
    permissions added, or the role moved into the company doctor's domain?"""
    if role.pk is None:
        return False
    before = Role.objects.get(pk=role.pk)
    adds_permissions = role.has_medical_permissions and not before.has_medical_permissions
    moves_in = role.domain == Domain.BEDRIJFSARTS and before.domain != Domain.BEDRIJFSARTS
    return adds_permissions or moves_in


def _require_approval_again(role: Role, *, by: User) -> None:
    """Every current holder goes back to "awaiting approval": the four-eyes check and then the
    BIG check, exactly as a new medical assignment (seed 003). The editor counts as requester,
    so the approval must come from a second functional admin. Saved one by one: each is an
    audit event of its own."""
    holders = role.assignments.exclude(status=AssignmentStatus.REJECTED)
    for assignment in holders.select_for_update():
        assignment.status = AssignmentStatus.AWAITING_APPROVAL
        assignment.requested_by, assignment.requested_at = by, timezone.now()
        assignment.decided_by, assignment.decided_at = None, None
        assignment.save(
            update_fields=["status", "requested_by", "requested_at", "decided_by", "decided_at"]
        )


class _AccountInvitation(PasswordResetForm):
    """The password-reset e-mail, sent to one new account (the stock form skips accounts that
    have no usable password yet, which is exactly what a new account is)."""

    def __init__(self, user: User) -> None:
        super().__init__({"email": user.email})
        self.user = user

    def get_users(self, email):
        return [self.user]


def _send_invitation(user: User, *, request=None) -> None:
    """The new-account e-mail with its password-set link. Without a request (a management
    command) the link is built on the SITE_URL setting."""
    invitation = _AccountInvitation(user)
    if not invitation.is_valid():
        return
    subject, body = "domains/new_account_subject.txt", "domains/new_account_email.txt"
    if request is not None:
        invitation.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name=subject,
            email_template_name=body,
        )
    else:
        site = urlsplit(settings.SITE_URL)
        invitation.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            subject_template_name=subject,
            email_template_name=body,
        )


APPROVED_ACCOUNT_TYPES = {AccountType.FUNCTIONAL_ADMIN, AccountType.AUDITOR}


def create_user(*, by: User, request, **fields) -> User:
    """A new account in the admin's tenant. It has no password: the person chooses one through
    the e-mail we send (the password-reset link), then enrols a second factor at first login.

    A functional admin or auditor account waits for a second, independent functional admin
    (approve_account): until then it is inactive and nobody is invited."""
    require_functional_admin(by)
    needs_approval = fields.get("account_type") in APPROVED_ACCOUNT_TYPES
    with transaction.atomic():
        user = User.objects.create_user(
            tenant=by.tenant,
            password=None,
            created_by=by,
            is_active=not needs_approval,
            awaiting_approval=needs_approval,
            **fields,
        )
    if not needs_approval:
        _send_invitation(user, request=request)
    return user


def _require_second_admin(user: User, by: User) -> None:
    require_functional_admin(by)
    if user.tenant_id != by.tenant_id:
        raise PermissionDenied
    if not is_active_admin(by):
        raise PermissionDenied
    if user.pk == by.pk or not independent_of(by, user.created_by):
        raise ValidationError(
            _(
                "A second functional admin must decide: not the one who created this account, "
                "and not an account they created or approved."
            )
        )


def approve_account(*, user: User, by: User, request=None) -> User:
    """The second functional admin approves a new functional admin or auditor account: it
    becomes active and the person is invited to choose a password."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.awaiting_approval:
            raise ValidationError(_("This account is not waiting for approval."))
        _require_second_admin(user, by)
        user.is_active, user.awaiting_approval, user.approved_by = True, False, by
        user.save(update_fields=["is_active", "awaiting_approval", "approved_by"])
    _send_invitation(user, request=request)
    return user


@transaction.atomic
def reject_account(*, user: User, by: User) -> None:
    """A second functional admin refuses a new functional admin or auditor account: it is
    removed (it was never used: no password, never active)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.awaiting_approval:
        raise ValidationError(_("This account is not waiting for approval."))
    _require_second_admin(user, by)
    user.delete()


def _new_admin_address(value: str, field: str) -> str:
    email = User.objects.normalize_email(value.strip()).lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({field: _("Enter a valid e-mail address.")}) from None
    if User.objects.filter(email=email).exists():
        raise ValidationError({field: _("An account with this e-mail address already exists.")})
    return email


def create_environment(
    *, name: str, admin_email: str, second_admin_email: str | None = None
) -> tuple[Tenant, User, list[Role]]:
    """A new environment (tenant) with its reference roles and its first functional admin(s).

    The admins' accounts have no usable password: the password-set e-mail (built on SITE_URL)
    is the only way in, so nobody, the operator running this included, ever knows a password.
    The four-eyes rules (medical access, new admin accounts, audit exports) need two independent
    functional admins, and an account the only admin creates can never approve for them: two
    first admins made here by the operator are independent of each other.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("An environment needs a name.")})
    with transaction.atomic():
        emails = [_new_admin_address(admin_email, "admin_email")]
        if second_admin_email:
            emails.append(_new_admin_address(second_admin_email, "second_admin_email"))
        if len(set(emails)) != len(emails):
            raise ValidationError({"second_admin_email": _("The two admins need two addresses.")})
        if Tenant.objects.filter(name__iexact=name).exists():
            raise ValidationError({"name": _("An environment with this name already exists.")})
        tenant = Tenant.objects.create(name=name)
        with tenant_scope(tenant):
            roles = ensure_reference_roles(tenant)
            admins = [
                User.objects.create_user(
                    email, None, tenant=tenant, account_type=AccountType.FUNCTIONAL_ADMIN
                )
                for email in emails
            ]
    with tenant_scope(tenant):
        for admin in admins:
            _send_invitation(admin)
    return tenant, admins[0], roles


@transaction.atomic
def assign_role(
    *,
    user: User,
    role: Role,
    by: User,
    provider: ServiceProvider | None = None,
    employers: Iterable[Employer] = (),
    departments: Iterable[Department] = (),
) -> RoleAssignment:
    """Give a user a role within a scope.

    One domain per user; a provider of the right kind for arbodienst, verzekeraar and
    bedrijfsarts roles; a scope of employers or departments for werkgever roles. A role with
    medical permissions waits for a second functional admin's approval.
    """
    require_functional_admin(by)
    employers, departments = list(employers), list(departments)
    if not (user.tenant_id == role.tenant_id == by.tenant_id):
        raise PermissionDenied
    if user.account_type != AccountType.MEMBER:
        raise ValidationError(_("Functional admins and auditors hold no roles in a domain."))
    User.objects.select_for_update().filter(pk=user.pk).first()  # one assignment change at a time
    held = set(
        RoleAssignment.objects.filter(user=user)
        .exclude(status=AssignmentStatus.REJECTED)
        .values_list("role__domain", flat=True)
    )
    if held - {role.domain}:
        raise ValidationError(
            _(
                "This user already holds roles in another domain. "
                "A person who needs two domains needs two accounts."
            )
        )
    role = Role.objects.select_for_update().get(pk=role.pk)  # not archived meanwhile
    if role.is_archived:
        raise ValidationError({"role": _("This role is archived: it is assigned to nobody new.")})
    if RoleAssignment.objects.filter(user=user, role=role).exists():
        raise ValidationError(_("This user already holds this role."))
    wanted_kind = PROVIDER_KIND_OF_DOMAIN.get(role.domain)
    if wanted_kind and (provider is None or provider.kind != wanted_kind):
        raise ValidationError(_("Choose the service provider this user works for."))
    if not wanted_kind and provider is not None:
        raise ValidationError(_("Employer roles do not work for a service provider."))
    if role.domain in (Domain.WERKGEVER, "") and not (employers or departments):
        raise ValidationError(_("Choose the employers and/or departments this user works for."))
    if departments and role.domain != Domain.WERKGEVER and role.domain:
        raise ValidationError(_("Only employer roles are scoped to departments."))
    for item in [*employers, *departments, *([provider] if provider else [])]:
        if item.tenant_id != user.tenant_id:
            raise PermissionDenied
    if any(department.is_closed for department in departments):
        raise ValidationError(_("A closed department cannot be part of a role's scope."))
    status = (
        AssignmentStatus.AWAITING_APPROVAL
        if role.has_medical_permissions
        else AssignmentStatus.ACTIVE
    )
    assignment = RoleAssignment.objects.create(
        tenant_id=user.tenant_id,
        user=user,
        role=role,
        provider=provider,
        status=status,
        requested_by=by,
    )
    assignment.employers.set(employers)
    assignment.departments.set(departments)
    forget_access(user)
    return assignment


@transaction.atomic
def approve_assignment(*, assignment: RoleAssignment, by: User) -> RoleAssignment:
    """The second admin's approval of medical access. The requester cannot approve their own
    request. A company doctor becomes active only once the BIG register confirms the number."""
    require_functional_admin(by)
    assignment = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.tenant_id != by.tenant_id:
        raise PermissionDenied
    if assignment.status != AssignmentStatus.AWAITING_APPROVAL:
        raise ValidationError(_("This request is not waiting for approval."))
    if assignment.requested_by_id == by.pk:
        raise ValidationError(
            _("A second functional admin must approve this request, not the requester.")
        )
    if assignment.user_id == by.pk:
        raise ValidationError(_("Nobody approves their own access."))
    if not is_active_admin(by) or not independent_of(by, assignment.requested_by):
        raise ValidationError(
            _(
                "An account the requester created or approved cannot approve the request: "
                "the second person must be independent."
            )
        )
    assignment.decided_by, assignment.decided_at = by, timezone.now()
    assignment.status = AssignmentStatus.AWAITING_BIG
    assignment.save(update_fields=["decided_by", "decided_at", "status"])
    registration = BigRegistration.objects.filter(user_id=assignment.user_id).first()
    if registration is not None and registration.status == BigCheckStatus.VERIFIED:
        _activate_awaiting_big(assignment.user_id)
    elif registration is not None:
        transaction.on_commit(lambda: _schedule_big_check(registration.pk))
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def reject_assignment(*, assignment: RoleAssignment, by: User) -> RoleAssignment:
    require_functional_admin(by)
    assignment = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.tenant_id != by.tenant_id:
        raise PermissionDenied
    if assignment.status not in (AssignmentStatus.AWAITING_APPROVAL, AssignmentStatus.AWAITING_BIG):
        raise ValidationError(_("This request is not waiting for a decision."))
    if assignment.requested_by_id == by.pk:
        raise ValidationError(
            _("A second functional admin must decide on this request, not the requester.")
        )
    assignment.status, assignment.decided_by, assignment.decided_at = (
        AssignmentStatus.REJECTED,
        by,
        timezone.now(),
    )
    assignment.save(update_fields=["status", "decided_by", "decided_at"])
    return assignment


@transaction.atomic
def remove_assignment(*, assignment: RoleAssignment, by: User) -> None:
    require_functional_admin(by)
    if assignment.tenant_id != by.tenant_id:
        raise PermissionDenied
    user = assignment.user
    assignment.delete()
    forget_access(user)


@transaction.atomic
def set_big_number(*, user: User, big_number: str, by: User) -> BigRegistration:
    """Record a company doctor's BIG number and have the register checked."""
    require_functional_admin(by)
    big_number = big_number.strip()
    if not big_register.is_plausible_big_number(big_number):
        raise ValidationError({"big_number": _("A BIG number has 11 digits.")})
    if user.tenant_id != by.tenant_id:
        raise PermissionDenied
    registration, _created = BigRegistration.objects.update_or_create(
        user=user,
        defaults={
            "tenant_id": user.tenant_id,
            "big_number": big_number,
            "status": BigCheckStatus.PENDING,
        },
    )
    transaction.on_commit(lambda: _schedule_big_check(registration.pk))
    return registration


def _schedule_big_check(registration_pk: int) -> None:
    check_big_registration.delay(registration_pk)


# The tasks live next to the service they run (conventions: pretix's services); domains/tasks.py
# names them for Celery's autodiscovery, under the names the beat schedule uses.


@shared_task(name="domains.tasks.check_big_registration")
def check_big_registration(registration_pk: int) -> str:
    with all_tenants():
        registration = BigRegistration.objects.get(pk=registration_pk)
        return run_big_check(registration)


@shared_task(name="domains.tasks.check_pending_big_registrations")
def check_pending_big_registrations() -> int:
    """Retry the lookups that could not be done (register unreachable) or were not done yet."""
    with all_tenants():
        waiting = BigRegistration.objects.filter(
            status__in=[BigCheckStatus.PENDING, BigCheckStatus.UNREACHABLE]
        )
        for registration in waiting:
            run_big_check(registration)
        return len(waiting)


def _activate_awaiting_big(user_id: int) -> int:
    """Approved medical assignments become active once the BIG register confirmed the doctor.
    Saved one by one (not with update()) so each activation is an audit event of its own; each
    grant of medical access is an event of its own too, and every functional admin of the
    environment is told by e-mail."""
    waiting = list(
        RoleAssignment.objects.filter(
            user_id=user_id, status=AssignmentStatus.AWAITING_BIG
        ).select_related("role", "user")
    )
    for assignment in waiting:
        assignment.status = AssignmentStatus.ACTIVE
        assignment.save(update_fields=["status"])
        if assignment.role.has_medical_permissions:
            record_event(
                "medical_access.grant",
                Action.EXECUTE,
                obj=assignment,
                on_behalf_of=getattr(assignment.decided_by, "key", None),
            )
            transaction.on_commit(partial(notify_admins_of_medical_access, assignment.pk))
    return len(waiting)


def notify_admins_of_medical_access(assignment_pk: int) -> int:
    """E-mail every active functional admin of the assignment's environment that a user now
    has access to medical files (who, which role, who approved); returns how many were told."""
    assignment = (
        RoleAssignment.unscoped.select_related("user", "role", "requested_by", "decided_by")
        .filter(pk=assignment_pk)
        .first()
    )
    if assignment is None:
        return 0
    admins = list(
        User.objects.filter(
            tenant_id=assignment.tenant_id,
            account_type=AccountType.FUNCTIONAL_ADMIN,
            is_active=True,
            is_blocked=False,
            awaiting_approval=False,
        ).values_list("email", flat=True)
    )
    if not admins:
        return 0
    context = {"assignment": assignment, "site_url": settings.SITE_URL}
    subject = render_to_string("domains/medical_access_subject.txt", context).strip()
    body = render_to_string("domains/medical_access_email.txt", context)
    send_mail(subject, body, None, admins)
    return len(admins)


@transaction.atomic
def run_big_check(registration: BigRegistration) -> str:
    """Look the number up. Verified: approved medical assignments become active. Not found: they
    stay waiting. Unreachable: nothing is granted; the periodic task tries again."""
    registration = BigRegistration.objects.select_for_update().get(pk=registration.pk)
    try:
        doctor = big_register.registered_doctor(registration.big_number, timezone.localdate())
    except big_register.BigRegisterUnavailable:
        registration.status = BigCheckStatus.UNREACHABLE
    else:
        if doctor is None:
            registration.status = BigCheckStatus.NOT_FOUND
        elif not doctor.is_named(registration.user.first_name, registration.user.last_name):
            registration.status = BigCheckStatus.NAME_MISMATCH
        else:
            registration.status = BigCheckStatus.VERIFIED
    registration.checked_at = timezone.now()
    registration.save(update_fields=["status", "checked_at"])
    if registration.status == BigCheckStatus.VERIFIED:
        _activate_awaiting_big(registration.user_id)
    return registration.status


def eligible_case_managers(tenant_id: int):
    return User.objects.filter(
        tenant_id=tenant_id,
        is_active=True,
        role_assignments__role__only_assigned=True,
        role_assignments__status=AssignmentStatus.ACTIVE,
    ).distinct()


def _require_admin_of(tenant_id: int, by: User) -> None:
    require_functional_admin(by)
    if tenant_id != by.tenant_id:
        raise PermissionDenied


@transaction.atomic
def save_provider(*, provider: ServiceProvider, by: User) -> ServiceProvider:
    """Add or change an arbodienst or insurer of the admin's own environment."""
    provider.tenant_id = by.tenant_id
    _require_admin_of(provider.tenant_id, by)
    provider.save()
    return provider


@transaction.atomic
def save_contract(*, contract: ServiceContract, by: User) -> ServiceContract:
    """Add or change a contract; provider and employer must be of the admin's environment."""
    _require_admin_of(contract.tenant_id, by)
    if {contract.provider.tenant_id, contract.employer.tenant_id} != {by.tenant_id}:
        raise PermissionDenied
    contract.full_clean()
    contract.save()
    return contract


@transaction.atomic
def save_tenant_settings(*, tenant: Tenant, by: User) -> Tenant:
    """The environment's settings (policy, windows, prices), changed by its functional admin."""
    _require_admin_of(tenant.pk, by)
    tenant.save()
    return tenant


# -- Roles: removing and archiving ----------------------------------------------------------------


@transaction.atomic
def remove_role(*, role: Role, by: User) -> None:
    """Delete a role nobody holds. Rejected requests do not count as holders (they gave nobody
    access, and the role list does not count them either); they are deleted with the role, and
    the audit trail keeps their creation, decision and deletion. Reference roles stay."""
    _require_admin_of(role.tenant_id, by)
    role = Role.objects.select_for_update().get(pk=role.pk)
    if role.is_reference:
        raise ValidationError(_("A reference role cannot be removed."))
    if role.assignments.exclude(status=AssignmentStatus.REJECTED).exists():
        raise ValidationError(
            _("Users hold this role; archive it instead, or take it away from them first.")
        )
    for rejected in role.assignments.all():  # one by one: each deletion is captured
        rejected.delete()
    role.delete()


@transaction.atomic
def archive_role(*, role: Role, by: User) -> Role:
    """Archive a role: it is shown as archived and can no longer be assigned.

    Its current holders keep it and keep working: archiving phases a role out, and cutting
    people off in the middle of their cases would be a side effect nobody asked for. Access is
    taken away per user, on purpose and audited per user (the user page's "Take away").
    """
    _require_admin_of(role.tenant_id, by)
    role = Role.objects.select_for_update().get(pk=role.pk)
    if role.is_archived:
        raise ValidationError(_("This role is already archived."))
    role.archived_at = timezone.now()
    role.save(update_fields=["archived_at"])
    return role


@transaction.atomic
def restore_role(*, role: Role, by: User) -> Role:
    """Take a role out of the archive: it can be assigned again."""
    _require_admin_of(role.tenant_id, by)
    role = Role.objects.select_for_update().get(pk=role.pk)
    role.archived_at = None
    role.save(update_fields=["archived_at"])
    return role


# -- Employers ------------------------------------------------------------------------------------


@transaction.atomic
def save_employer(*, employer: Employer, by: User) -> Employer:
    """Add or change an employer of the admin's environment: KvK and payroll tax numbers checked
    by format and normalised, a name unique in the environment."""
    if employer.pk is None:
        employer.tenant_id = by.tenant_id
    _require_admin_of(employer.tenant_id, by)
    employer.name = employer.name.strip()
    employer.registration_number = normalise_kvk_number(employer.registration_number)
    employer.payroll_tax_number = normalise_payroll_tax_number(employer.payroll_tax_number)
    employer.full_clean(validate_unique=False, validate_constraints=False)
    if (
        Employer.objects.filter(tenant_id=employer.tenant_id, name__iexact=employer.name)
        .exclude(pk=employer.pk)
        .exists()
    ):
        raise ValidationError({"name": _("An employer with this name already exists.")})
    employer.save()
    return employer


# -- The department tree --------------------------------------------------------------------------


def _current_employees(department: Department):
    """Employees of this department whose employment has not ended (the employee model sits a
    layer above: reached through the reverse relation)."""
    today = timezone.localdate()
    return department.employees.filter(
        Q(employment_end__isnull=True) | Q(employment_end__gte=today)
    )


def _locked_parent(department: Department, parent: Department | None) -> Department | None:
    """The new parent as the database has it now (locked, so it cannot close meanwhile): of the
    same tenant and employer, and open."""
    if parent is None:
        return None
    if parent.tenant_id != department.tenant_id:
        raise PermissionDenied
    parent = Department.objects.select_for_update().get(pk=parent.pk)
    if parent.employer_id != department.employer_id:
        raise ValidationError(
            {"parent": _("A department can only sit under a department of the same employer.")}
        )
    if parent.is_closed:
        raise ValidationError({"parent": _("This department is closed.")})
    return parent


@transaction.atomic
def add_department(
    *, employer: Employer, name: str, parent: Department | None = None, by: User
) -> Department:
    """A new department of an employer, at the top or under an open department of the same
    employer."""
    _require_admin_of(employer.tenant_id, by)
    department = Department(tenant_id=employer.tenant_id, employer=employer, name=name.strip())
    department.parent = _locked_parent(department, parent)
    department.full_clean(exclude=["path"])
    department.save()
    return department


@transaction.atomic
def rename_department(*, department: Department, name: str, by: User) -> Department:
    _require_admin_of(department.tenant_id, by)
    department.name = name.strip()
    department.full_clean(exclude=["path"])
    department.save(update_fields=["name"])
    return department


@transaction.atomic
def move_department(*, department: Department, parent: Department | None, by: User) -> Department:
    """Move a department (with its subtree) under another department of the same employer, or to
    the top. Refused under itself or one of its own descendants.

    Every descendant's `path` starts with the moved department's path, so one UPDATE swaps that
    prefix. The path is derived from `parent`, whose change is what the audit trail records.
    """
    _require_admin_of(department.tenant_id, by)
    department = Department.objects.select_for_update().get(pk=department.pk)
    parent = _locked_parent(department, parent)
    if parent is not None and parent.path.startswith(department.path):
        raise ValidationError(
            {"parent": _("A department cannot move under itself or one of its subdepartments.")}
        )
    old_path = department.path
    department.parent = parent
    department.save(update_fields=["parent"])  # save() rewrites its own path
    department.refresh_from_db(fields=["path"])
    if department.path != old_path:
        Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk).update(
            path=Concat(Value(department.path), Substr(F("path"), len(old_path) + 1))
        )
    return department


@transaction.atomic
def close_department(*, department: Department, by: User, on: date | None = None) -> Department:
    """Close a department: no longer offered in forms, kept for history. Refused while it has
    current employees (employment not ended before today) or open subdepartments."""
    _require_admin_of(department.tenant_id, by)
    department = Department.objects.select_for_update().get(pk=department.pk)
    if department.is_closed:
        raise ValidationError(_("This department is already closed."))
    refusals = closing_refusals(department)
    if refusals:
        raise ValidationError(refusals)
    department.closed_on = on or timezone.localdate()
    department.save(update_fields=["closed_on"])
    return department


def closing_refusals(department: Department) -> list[str]:
    """Why this department cannot be closed now (empty: it can)."""
    reasons = []
    current = _current_employees(department).count()
    if current:
        reasons.append(
            ngettext(
                "One current employee works in this department; move them first.",
                "%(count)s current employees work in this department; move them first.",
                current,
            )
            % {"count": current}
        )
    if department.children.filter(closed_on__isnull=True).exists():
        reasons.append(_("Close its open subdepartments first."))
    return reasons


# -- Contracts ------------------------------------------------------------------------------------


@transaction.atomic
def end_contract(*, contract: ServiceContract, ends_on: date, by: User) -> ServiceContract:
    """End a contract on a date (its last day). From the day after, the provider's users no longer
    see this employer's employees."""
    _require_admin_of(contract.tenant_id, by)
    if ends_on < contract.starts_on:
        raise ValidationError(
            {
                "ends_on": _("A contract cannot end before it starts (%(date)s).")
                % {"date": date_format(contract.starts_on)}
            }
        )
    contract.ends_on = ends_on
    contract.save(update_fields=["ends_on"])
    return contract
