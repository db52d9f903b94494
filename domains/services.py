"""Workflows of functional admins: roles, domains, assignments, four-eyes approval, BIG checks."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from auth2fa.models import AccountType, User
from auth2fa.services import require_functional_admin
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
    role.save()
    for assignment in role.assignments.select_related("user"):
        forget_access(assignment.user)
    return role


class _AccountInvitation(PasswordResetForm):
    """The password-reset e-mail, sent to one new account (the stock form skips accounts that
    have no usable password yet, which is exactly what a new account is)."""

    def __init__(self, user: User) -> None:
        super().__init__({"email": user.email})
        self.user = user

    def get_users(self, email):
        return [self.user]


def create_user(*, by: User, request, **fields) -> User:
    """A new account in the admin's tenant. It has no password: the person chooses one through
    the e-mail we send (the password-reset link), then enrols a second factor at first login."""
    require_functional_admin(by)
    with transaction.atomic():
        user = User.objects.create_user(tenant=by.tenant, password=None, **fields)
    invitation = _AccountInvitation(user)
    if invitation.is_valid():
        invitation.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="domains/new_account_subject.txt",
            email_template_name="domains/new_account_email.txt",
        )
    return user


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
    if assignment.status != AssignmentStatus.AWAITING_APPROVAL:
        raise ValidationError(_("This request is not waiting for approval."))
    if assignment.requested_by_id == by.pk:
        raise ValidationError(
            _("A second functional admin must approve this request, not the requester.")
        )
    if assignment.user_id == by.pk:
        raise ValidationError(_("Nobody approves their own access."))
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
    from domains.tasks import check_big_registration

    check_big_registration.delay(registration_pk)


def _activate_awaiting_big(user_id: int) -> int:
    """Approved medical assignments become active once the BIG register confirmed the doctor.
    Saved one by one (not with update()) so each activation is an audit event of its own."""
    waiting = RoleAssignment.objects.filter(user_id=user_id, status=AssignmentStatus.AWAITING_BIG)
    for assignment in waiting:
        assignment.status = AssignmentStatus.ACTIVE
        assignment.save(update_fields=["status"])
    return len(waiting)


@transaction.atomic
def run_big_check(registration: BigRegistration) -> str:
    """Look the number up. Verified: approved medical assignments become active. Not found: they
    stay waiting. Unreachable: nothing is granted; the periodic task tries again."""
    registration = BigRegistration.objects.select_for_update().get(pk=registration.pk)
    try:
        found = big_register.is_registered_doctor(registration.big_number, timezone.localdate())
    except big_register.BigRegisterUnavailable:
        registration.status = BigCheckStatus.UNREACHABLE
    else:
        registration.status = BigCheckStatus.VERIFIED if found else BigCheckStatus.NOT_FOUND
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
    contract.save()
    return contract


@transaction.atomic
def save_tenant_settings(*, tenant: Tenant, by: User) -> Tenant:
    """The environment's settings (policy, windows, prices), changed by its functional admin."""
    _require_admin_of(tenant.pk, by)
    tenant.save()
    return tenant
