"""Role tooling and user management for functional admins (seed 002, 20 Jul 2018).

Functional admins manage roles, users, providers and contracts; they get no dossier access by
being admins (they hold no role, so the visibility rules show them no employee).
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.events import record_event, record_read
from audit.models import Action
from auth2fa.http import AuthenticatedRequest
from auth2fa.models import AccountType, User
from auth2fa.services import reset_second_factors, set_account_end, set_blocked
from auth2fa.sms import cost_report
from core.exports import csv_response, dutch_decimal, xlsx_response
from core.forms import show_errors
from domains import services
from domains.access import functional_admin_required
from domains.forms import (
    AccountValidityForm,
    AssignmentForm,
    BigNumberForm,
    CompareForm,
    ContractForm,
    NewUserForm,
    ProviderForm,
    RoleForm,
    TenantSettingsForm,
)
from domains.models import (
    AssignmentStatus,
    BigRegistration,
    Role,
    RoleAssignment,
    ServiceContract,
    ServiceProvider,
)
from domains.permissions import (
    PERMISSION_GROUPS,
    REFERENCE_ROLES,
    REFERENCE_ROLES_BY_KEY,
    Domain,
    Perm,
    ceiling_of,
)


def _roles(request: AuthenticatedRequest):
    return Role.objects.filter(tenant=request.user.tenant)


@functional_admin_required
def role_list(request: AuthenticatedRequest) -> HttpResponse:
    roles = _roles(request).annotate(
        holder_count=Count("assignments", filter=~Q(assignments__status=AssignmentStatus.REJECTED))
    )
    rows = [
        {"role": role, "within_ceiling": set(role.permissions) <= ceiling_of(role.domain)}
        for role in roles
    ]
    return render(request, "domains/role_list.html", {"rows": rows})


@functional_admin_required
def role_edit(request: AuthenticatedRequest, key: UUID | None = None) -> HttpResponse:
    role = get_object_or_404(_roles(request), key=key) if key else Role(tenant=request.user.tenant)
    form = RoleForm(request.POST or None, instance=role)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_role(role=form.instance, by=request.user)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The role has been saved."))
            return redirect("domains:role_list")
    return render(request, "domains/role_form.html", {"form": form, "role": role if key else None})


@functional_admin_required
def role_compare(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """A role side by side with a reference role of its domain: extra and missing permissions."""
    role = get_object_or_404(_roles(request), key=key)
    if not role.domain:
        messages.warning(request, _("Place the role in a domain first; then it can be checked."))
        return redirect("domains:role_edit", key=role.key)
    form = CompareForm(request.GET or None, domain=role.domain)
    reference_key = form.cleaned_data["reference"] if form.is_valid() else form.reference_keys[0]
    reference = REFERENCE_ROLES_BY_KEY[reference_key]
    held, standard = set(role.permissions), set(reference.permissions)
    rows = [
        {
            "perm": perm,
            "in_role": perm in held,
            "in_reference": perm in standard,
            "verdict": "extra"
            if perm in held - standard
            else "missing"
            if perm in standard - held
            else "",
        }
        for perm in Perm
        if perm in held | standard
    ]
    return render(
        request,
        "domains/role_compare.html",
        {
            "role": role,
            "reference": reference,
            "form": form,
            "rows": rows,
            "extra": [Perm(p).label for p in Perm.values if p in held - standard],
            "missing": [Perm(p).label for p in Perm.values if p in standard - held],
        },
    )


def _matrix(request: AuthenticatedRequest) -> tuple[list[Role], list[tuple]]:
    roles = list(_roles(request).order_by("domain", "name"))
    groups = [
        (heading, [(perm, [perm in role.permissions for role in roles]) for perm in perms])
        for heading, perms in PERMISSION_GROUPS
    ]
    return roles, groups


@functional_admin_required
def role_matrix(request: AuthenticatedRequest) -> HttpResponse:
    roles, groups = _matrix(request)
    ceilings = {domain: ceiling_of(domain) for domain in Domain.values}
    return render(
        request,
        "domains/role_matrix.html",
        {"roles": roles, "groups": groups, "ceilings": ceilings, "domains": Domain.choices},
    )


def _export_rows(request: AuthenticatedRequest) -> tuple[list[str], list[list[str]]]:
    roles = _roles(request).order_by("domain", "name")
    header = [_("Role"), _("Domain"), _("Reference role"), _("Only assigned employees")] + [
        str(perm.label) for perm in Perm
    ]
    rows = []
    for role in roles:
        rows.append(
            [
                role.name,
                str(Domain(role.domain).label) if role.domain else _("no domain"),
                _("yes") if role.is_reference else _("no"),
                _("yes") if role.only_assigned else _("no"),
            ]
            + ["x" if perm in role.permissions else "" for perm in Perm.values]
        )
    return header, rows


@functional_admin_required
def roles_export_csv(request: AuthenticatedRequest) -> HttpResponse:
    header, rows = _export_rows(request)
    record_event("roles.export", Action.EXECUTE, result_count=len(rows))
    return csv_response("rollen-en-rechten.csv", header, rows)


@functional_admin_required
def roles_export_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    header, rows = _export_rows(request)
    record_event("roles.export", Action.EXECUTE, result_count=len(rows))
    return xlsx_response("rollen-en-rechten.xlsx", header, rows, sheet_title=_("Roles"))


def _users(request: AuthenticatedRequest):
    return User.objects.filter(tenant=request.user.tenant)


@functional_admin_required
def user_list(request: AuthenticatedRequest) -> HttpResponse:
    form = NewUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.create_user(by=request.user, request=request, **form.cleaned_data)
        messages.success(
            request,
            _("The account has been created; the user received an e-mail to choose a password."),
        )
        return redirect("domains:user_detail", key=user.key)
    users = list(
        _users(request)
        .order_by("last_name", "first_name", "email")
        .prefetch_related(
            Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("role"))
        )
    )
    record_read("user.list", result_count=len(users))
    return render(request, "domains/user_list.html", {"users": users, "form": form})


def _subject(request: AuthenticatedRequest, key: UUID) -> User:
    return get_object_or_404(_users(request), key=key)


def _render_user_detail(
    request: AuthenticatedRequest,
    subject: User,
    *,
    assignment_form: AssignmentForm | None = None,
    big_form: BigNumberForm | None = None,
    validity_form: AccountValidityForm | None = None,
) -> HttpResponse:
    """The user page; a form that failed comes in bound, so what was typed stays."""
    record_read("user.view", obj=subject)
    assignments = (
        RoleAssignment.objects.filter(user=subject)
        .select_related("role", "provider", "requested_by", "decided_by")
        .prefetch_related("employers", "departments")
    )
    return render(
        request,
        "domains/user_detail.html",
        {
            "subject": subject,
            "assignments": assignments,
            "assignment_form": assignment_form or AssignmentForm(tenant=request.user.tenant),
            "big_form": big_form or BigNumberForm(),
            "validity_form": validity_form
            or AccountValidityForm(
                tenant=request.user.tenant,
                initial={
                    "valid_until": subject.valid_until,
                    "employee_key": getattr(subject.employee, "key", None),
                },
            ),
            "big": BigRegistration.objects.filter(user=subject).first(),
            "is_member": subject.account_type == AccountType.MEMBER,
        },
    )


@functional_admin_required
def user_detail(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    return _render_user_detail(request, _subject(request, key))


@functional_admin_required
@require_POST
def user_assign_role(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    subject = _subject(request, key)
    form = AssignmentForm(request.POST, tenant=request.user.tenant)
    if form.is_valid():
        try:
            assignment = services.assign_role(user=subject, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            if assignment.status == AssignmentStatus.AWAITING_APPROVAL:
                messages.info(
                    request,
                    _("This role gives medical access: a second functional admin must approve it."),
                )
            else:
                messages.success(request, _("The role has been assigned."))
            return redirect("domains:user_detail", key=subject.key)
    return _render_user_detail(request, subject, assignment_form=form)


@functional_admin_required
@require_POST
def user_set_big_number(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    subject = _subject(request, key)
    form = BigNumberForm(request.POST)
    if form.is_valid():
        try:
            services.set_big_number(
                user=subject, big_number=form.cleaned_data["big_number"], by=request.user
            )
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(
                request,
                _("The BIG number has been saved and is being checked in the BIG register."),
            )
            return redirect("domains:user_detail", key=subject.key)
    return _render_user_detail(request, subject, big_form=form)


@functional_admin_required
@require_POST
def user_set_account_end(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    subject = _subject(request, key)
    form = AccountValidityForm(request.POST, tenant=request.user.tenant)
    if form.is_valid():
        set_account_end(
            user=subject,
            valid_until=form.cleaned_data["valid_until"],
            employee=form.cleaned_data["employee_key"],
            by=request.user,
        )
        messages.success(request, _("The account's end has been saved."))
        return redirect("domains:user_detail", key=subject.key)
    return _render_user_detail(request, subject, validity_form=form)


@functional_admin_required
@require_POST
def user_reset_factors(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    subject = _subject(request, key)
    reset_second_factors(user=subject, by=request.user)
    messages.success(
        request,
        _("The second factors have been reset: the user sets up a new one at the next login."),
    )
    return redirect("domains:user_detail", key=subject.key)


@functional_admin_required
@require_POST
def user_block(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    subject = _subject(request, key)
    set_blocked(user=subject, blocked=True, by=request.user)
    messages.success(request, _("The account has been blocked."))
    return redirect("domains:user_detail", key=subject.key)


@functional_admin_required
@require_POST
def user_unblock(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    subject = _subject(request, key)
    set_blocked(user=subject, blocked=False, by=request.user)
    messages.success(request, _("The account has been unblocked."))
    return redirect("domains:user_detail", key=subject.key)


@functional_admin_required
@require_POST
def assignment_remove(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    assignment = get_object_or_404(
        RoleAssignment.objects.filter(tenant=request.user.tenant), key=key
    )
    subject_key = assignment.user.key
    services.remove_assignment(assignment=assignment, by=request.user)
    messages.success(request, _("The role has been taken away."))
    return redirect("domains:user_detail", key=subject_key)


@functional_admin_required
def approval_list(request: AuthenticatedRequest) -> HttpResponse:
    waiting = (
        RoleAssignment.objects.filter(
            tenant=request.user.tenant,
            status__in=[AssignmentStatus.AWAITING_APPROVAL, AssignmentStatus.AWAITING_BIG],
        )
        .select_related("user", "role", "requested_by", "decided_by", "user__big_registration")
        .order_by("requested_at")
    )
    record_read("approval.list", result_count=len(waiting))
    return render(request, "domains/approval_list.html", {"waiting": waiting})


@functional_admin_required
@require_POST
def approval_decide(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    assignment = get_object_or_404(
        RoleAssignment.objects.filter(tenant=request.user.tenant), key=key
    )
    try:
        if request.POST.get("decision") == "approve":
            assignment = services.approve_assignment(assignment=assignment, by=request.user)
            if assignment.status == AssignmentStatus.ACTIVE:
                messages.success(request, _("Approved: the medical access is active."))
            else:
                messages.info(
                    request,
                    _(
                        "Approved. The access becomes active once "
                        "the BIG register confirms the BIG number."
                    ),
                )
        elif request.POST.get("decision") == "reject":
            services.reject_assignment(assignment=assignment, by=request.user)
            messages.success(request, _("The request has been rejected."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("domains:approval_list")


def _render_providers(
    request: AuthenticatedRequest,
    *,
    provider_form: ProviderForm | None = None,
    contract_form: ContractForm | None = None,
) -> HttpResponse:
    tenant = request.user.tenant
    providers = ServiceProvider.objects.filter(tenant=tenant).prefetch_related(
        Prefetch("contracts", queryset=ServiceContract.objects.select_related("employer"))
    )
    return render(
        request,
        "domains/provider_list.html",
        {
            "providers": providers,
            "provider_form": provider_form or ProviderForm(),
            "contract_form": contract_form or ContractForm(tenant=tenant),
        },
    )


@functional_admin_required
def provider_list(request: AuthenticatedRequest) -> HttpResponse:
    return _render_providers(request)


@functional_admin_required
@require_POST
def provider_add(request: AuthenticatedRequest) -> HttpResponse:
    form = ProviderForm(request.POST)
    if not form.is_valid():
        return _render_providers(request, provider_form=form)
    services.save_provider(provider=form.instance, by=request.user)
    messages.success(request, _("The service provider has been added."))
    return redirect("domains:provider_list")


@functional_admin_required
@require_POST
def contract_add(request: AuthenticatedRequest) -> HttpResponse:
    form = ContractForm(request.POST, tenant=request.user.tenant)
    if not form.is_valid():
        return _render_providers(request, contract_form=form)
    services.save_contract(contract=form.instance, by=request.user)
    messages.success(request, _("The contract has been added."))
    return redirect("domains:provider_list")


@functional_admin_required
def tenant_settings(request: AuthenticatedRequest) -> HttpResponse:
    form = TenantSettingsForm(request.POST or None, instance=request.user.tenant)
    if request.method == "POST" and form.is_valid():
        services.save_tenant_settings(tenant=form.instance, by=request.user)
        messages.success(request, _("The settings have been saved."))
        return redirect("domains:tenant_settings")
    return render(
        request, "domains/tenant_settings.html", {"form": form, "reference_roles": REFERENCE_ROLES}
    )


def _report_year(request: AuthenticatedRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, 2000), 2100)


@functional_admin_required
def sms_costs(request: AuthenticatedRequest) -> HttpResponse:
    """SMS sent as a second factor, per month and per employer, with their cost (seed 002)."""
    year = _report_year(request)
    report = cost_report(year, request.user.tenant.sms_price_cents)
    record_event("sms_costs.view", Action.READ, result_count=len(report["rows"]))
    return render(
        request,
        "domains/sms_costs.html",
        {"report": report, "year": year, "years": range(timezone.localdate().year, 2017, -1)},
    )


@functional_admin_required
def sms_costs_csv(request: AuthenticatedRequest) -> HttpResponse:
    year = _report_year(request)
    report = cost_report(year, request.user.tenant.sms_price_cents)
    record_event("sms_costs.export", Action.EXECUTE, result_count=len(report["rows"]))
    header = [_("Month"), _("Employer"), _("Number of SMS"), _("Cost (EUR)")]
    rows = [
        [
            row["month"].strftime("%Y-%m"),
            row["employer"] or _("Not one employer"),
            row["count"],
            dutch_decimal(row["cost"]),
        ]
        for row in report["rows"]
    ]
    rows.append([_("Total"), "", report["count"], dutch_decimal(report["cost"])])
    return csv_response(f"sms-kosten-{year}.csv", header, rows)
