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
from django.views.decorators.http import require_http_methods, require_POST

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
    ContractEndForm,
    ContractForm,
    DepartmentForm,
    DepartmentMoveForm,
    DepartmentRenameForm,
    EmployerForm,
    NewUserForm,
    ProviderForm,
    RoleForm,
    TenantSettingsForm,
)
from domains.models import (
    AssignmentStatus,
    BigRegistration,
    Department,
    Employer,
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
from domains.selectors import employer_departments


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
        if user.awaiting_approval:
            messages.info(
                request,
                _(
                    "The account waits for a second functional admin's approval; the person is "
                    "invited once it is approved."
                ),
            )
        else:
            messages.success(
                request,
                _(
                    "The account has been created; the user received an e-mail to choose a "
                    "password."
                ),
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
    accounts = list(
        User.objects.filter(tenant=request.user.tenant, awaiting_approval=True)
        .select_related("created_by")
        .order_by("date_joined")
    )
    record_read("approval.list", result_count=len(waiting) + len(accounts))
    return render(request, "domains/approval_list.html", {"waiting": waiting, "accounts": accounts})


@functional_admin_required
@require_POST
def account_decide(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """A second functional admin approves or refuses a new functional admin or auditor."""
    subject = _subject(request, key)
    try:
        if request.POST.get("decision") == "approve":
            services.approve_account(user=subject, by=request.user, request=request)
            messages.success(
                request, _("Approved: the account is active and the person has been invited.")
            )
        elif request.POST.get("decision") == "reject":
            services.reject_account(user=subject, by=request.user)
            messages.success(request, _("The account has been refused and removed."))
    except ValidationError as error:
        show_errors(request, error)
    return redirect("domains:approval_list")


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
        show_errors(request, error)
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


# -- Roles: remove and archive ---------------------------------------------------------------------


@functional_admin_required
@require_http_methods(["GET", "POST"])
def role_remove(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """GET: what removing means; POST: remove (only a role nobody holds, never a reference)."""
    role = get_object_or_404(_roles(request), key=key)
    if request.method == "POST":
        try:
            services.remove_role(role=role, by=request.user)
        except ValidationError as error:
            show_errors(request, error)
            return redirect("domains:role_remove", key=role.key)
        messages.success(request, _("The role has been removed."))
        return redirect("domains:role_list")
    holders = role.assignments.exclude(status=AssignmentStatus.REJECTED).count()
    return render(request, "domains/role_remove.html", {"role": role, "holders": holders})


@functional_admin_required
@require_http_methods(["GET", "POST"])
def role_archive(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """GET: what archiving means; POST: archive (or, for an archived role, restore)."""
    role = get_object_or_404(_roles(request), key=key)
    if request.method == "POST":
        try:
            if role.is_archived:
                services.restore_role(role=role, by=request.user)
                messages.success(request, _("The role has been taken out of the archive."))
            else:
                services.archive_role(role=role, by=request.user)
                messages.success(request, _("The role has been archived."))
        except ValidationError as error:
            show_errors(request, error)
        return redirect("domains:role_list")
    holders = role.assignments.exclude(status=AssignmentStatus.REJECTED).count()
    return render(request, "domains/role_archive.html", {"role": role, "holders": holders})


# -- Employers -------------------------------------------------------------------------------------


def _employers(request: AuthenticatedRequest):
    return Employer.objects.filter(tenant=request.user.tenant)


@functional_admin_required
def employer_list(request: AuthenticatedRequest) -> HttpResponse:
    employers = _employers(request).annotate(
        department_count=Count("departments", filter=Q(departments__closed_on__isnull=True))
    )
    return render(request, "domains/employer_list.html", {"employers": employers})


@functional_admin_required
def employer_edit(request: AuthenticatedRequest, key: UUID | None = None) -> HttpResponse:
    employer = (
        get_object_or_404(_employers(request), key=key)
        if key
        else Employer(tenant=request.user.tenant)
    )
    form = EmployerForm(request.POST or None, instance=employer)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_employer(employer=form.instance, by=request.user)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The employer has been saved."))
            return redirect("domains:employer_list")
    return render(
        request,
        "domains/employer_form.html",
        {"form": form, "employer": employer if key else None},
    )


# -- The department tree ---------------------------------------------------------------------------


def _render_departments(
    request: AuthenticatedRequest, employer: Employer, *, form: DepartmentForm | None = None
) -> HttpResponse:
    return render(
        request,
        "domains/department_list.html",
        {
            "employer": employer,
            "rows": _tree_rows(employer_departments(employer)),
            "form": form or DepartmentForm(employer=employer),
        },
    )


def _tree_rows(departments) -> list[tuple[Department, str]]:
    """(department, indented name) in tree order: each subtree under its parent, by name."""
    departments = list(departments)
    names = {department.pk: department.name for department in departments}

    def position(department: Department) -> list[str]:
        return [names.get(int(pk), "") for pk in department.path.strip("/").split("/")]

    return [
        (department, f"{'— ' * department.depth}{department.name}")
        for department in sorted(departments, key=position)
    ]


@functional_admin_required
def department_list(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    return _render_departments(request, get_object_or_404(_employers(request), key=key))


@functional_admin_required
@require_POST
def department_add(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    employer = get_object_or_404(_employers(request), key=key)
    form = DepartmentForm(request.POST, employer=employer)
    if form.is_valid():
        try:
            services.add_department(employer=employer, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The department has been added."))
            return redirect("domains:department_list", key=employer.key)
    return _render_departments(request, employer, form=form)


def _department(request: AuthenticatedRequest, key: UUID) -> Department:
    return get_object_or_404(
        Department.objects.filter(tenant=request.user.tenant).select_related("employer", "parent"),
        key=key,
    )


def _render_department(
    request: AuthenticatedRequest,
    department: Department,
    *,
    rename_form: DepartmentRenameForm | None = None,
    move_form: DepartmentMoveForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "domains/department_detail.html",
        {
            "department": department,
            "rename_form": rename_form or DepartmentRenameForm(initial={"name": department.name}),
            "move_form": move_form
            or DepartmentMoveForm(department=department, initial={"parent": department.parent_id}),
        },
    )


@functional_admin_required
def department_detail(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    return _render_department(request, _department(request, key))


@functional_admin_required
@require_POST
def department_rename(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    department = _department(request, key)
    form = DepartmentRenameForm(request.POST)
    if form.is_valid():
        try:
            services.rename_department(
                department=department, name=form.cleaned_data["name"], by=request.user
            )
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The department has been renamed."))
            return redirect("domains:department_list", key=department.employer.key)
    department.refresh_from_db(fields=["name"])
    return _render_department(request, department, rename_form=form)


@functional_admin_required
@require_POST
def department_move(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    department = _department(request, key)
    form = DepartmentMoveForm(request.POST, department=department)
    if form.is_valid():
        try:
            services.move_department(
                department=department, parent=form.cleaned_data["parent"], by=request.user
            )
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The department has been moved."))
            return redirect("domains:department_list", key=department.employer.key)
    return _render_department(request, department, move_form=form)


@functional_admin_required
@require_http_methods(["GET", "POST"])
def department_close(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """GET: a confirmation page (or why it cannot be closed yet); POST: close it."""
    department = _department(request, key)
    if request.method == "POST":
        try:
            services.close_department(department=department, by=request.user)
        except ValidationError as error:
            show_errors(request, error)
            return redirect("domains:department_close", key=department.key)
        messages.success(request, _("The department has been closed."))
        return redirect("domains:department_list", key=department.employer.key)
    return render(
        request,
        "domains/department_close.html",
        {
            "department": department,
            "refusals": [] if department.is_closed else services.closing_refusals(department),
        },
    )


# -- Contracts -------------------------------------------------------------------------------------


def _contract(request: AuthenticatedRequest, key: UUID) -> ServiceContract:
    return get_object_or_404(
        ServiceContract.objects.filter(tenant=request.user.tenant).select_related(
            "provider", "employer"
        ),
        key=key,
    )


@functional_admin_required
def contract_edit(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    contract = _contract(request, key)
    form = ContractForm(request.POST or None, instance=contract, tenant=request.user.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_contract(contract=form.instance, by=request.user)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The contract has been saved."))
            return redirect("domains:provider_list")
    return render(request, "domains/contract_form.html", {"form": form, "contract": contract})


@functional_admin_required
@require_http_methods(["GET", "POST"])
def contract_end(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """GET: a confirmation page asking for the last day; POST: end the contract on it."""
    contract = _contract(request, key)
    form = ContractEndForm(
        request.POST or None, initial={"ends_on": contract.ends_on or timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.end_contract(
                contract=contract, ends_on=form.cleaned_data["ends_on"], by=request.user
            )
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The contract has been ended."))
            return redirect("domains:provider_list")
    contract.refresh_from_db(fields=["ends_on"])
    return render(request, "domains/contract_end.html", {"form": form, "contract": contract})
