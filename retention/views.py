"""Retention screens: the tenant's terms (functional admins), legal holds (werkgever)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.codes import Action
from audit.events import record_event, record_read
from auth2fa.http import AuthenticatedRequest
from auth2fa.stepup import fresh_second_factor_required
from core.exports import csv_response
from core.forms import show_errors
from domains.access import functional_admin_required, permission_required
from domains.permissions import Perm
from domains.visibility import access_of
from retention import deletion, selectors, services
from retention.forms import ConfirmDeletionForm, HoldForm, OverviewFilterForm, PolicyForm
from retention.models import DeletionRequest, DeletionStatus
from retention.selectors import terms_of

PAGE_SIZE = 50
MAX_SELECTED = 5000


@functional_admin_required
def policy(request: AuthenticatedRequest) -> HttpResponse:
    """The retention terms per data category, with the legal defaults (no personal data)."""
    tenant = request.user.tenant
    form = PolicyForm(
        request.POST or None,
        terms=terms_of(tenant),
        second_person_above=deletion.threshold_of(tenant.pk),
    )
    if request.method == "POST" and form.is_valid():
        changed = services.save_terms(tenant=tenant, terms=form.terms())
        if form.cleaned_data.get("second_person_above") is not None:
            changed += services.save_settings(
                tenant=tenant, second_person_above=form.cleaned_data["second_person_above"]
            )
        if changed:
            messages.success(request, _("The retention terms have been saved."))
        return redirect("retention:policy")
    return render(request, "retention/policy.html", {"form": form})


@permission_required(Perm.RETENTION_MANAGE)
def holds(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """An employee's legal holds, and the form to place one."""
    employee = selectors.employee_for_retention(request.user, key)
    if employee is None:
        raise Http404
    form = HoldForm(request.POST or None, employee=employee)
    if request.method == "POST" and form.is_valid():
        try:
            services.place_hold(employee=employee, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The legal hold has been placed."))
            return redirect("retention:holds", key=employee.key)
    record_read("legal_hold.list", obj=employee, subject=employee)
    return render(
        request,
        "retention/holds.html",
        {"employee": employee, "holds": selectors.holds_of(employee), "form": form},
        status=400 if form.is_bound else 200,
    )


@permission_required(Perm.RETENTION_MANAGE)
def hold_lift(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """GET: confirm; POST: lift the hold (the dispute is settled)."""
    hold = selectors.hold_for_retention(request.user, key)
    if hold is None:
        raise Http404
    if request.method == "POST":
        try:
            services.lift_hold(hold=hold, by=request.user)
        except ValidationError as error:
            show_errors(request, error)
        else:
            messages.success(request, _("The legal hold has been lifted."))
        return redirect("retention:holds", key=hold.employee.key)
    record_read("legal_hold.view", obj=hold, subject=hold.employee)
    return render(request, "retention/hold_lift.html", {"hold": hold})


def _may_review(request: AuthenticatedRequest) -> None:
    permissions = access_of(request.user).permissions
    if not {Perm.RETENTION_MANAGE, Perm.RETENTION_MEDICAL} & permissions:
        raise PermissionDenied


def overview(request: AuthenticatedRequest) -> HttpResponse:
    """Data past its term, per employee and category: keys and counts, no names (those only on
    the detail page). Werkgever: every category but the medical file; bedrijfsarts: that one."""
    _may_review(request)
    today = timezone.localdate()
    form = OverviewFilterForm(
        request.GET or None,
        tenant=request.user.tenant,
        categories=selectors.categories_visible_to(request.user),
    )
    rows = selectors.due_visible_to(request.user)
    min_days = 0
    if form.is_valid():
        data = form.cleaned_data
        if data["employer"]:
            rows = rows.filter(employee__employer=data["employer"])
        if data["department"]:
            rows = rows.filter(employee__department__path__startswith=data["department"].path)
        if data["category"]:
            rows = rows.filter(category=data["category"])
        min_days = int(data["past"] or 0)
    rows = selectors.past_term(rows, today=today, min_days_past=min_days)
    page = Paginator(rows.order_by("deletable_on", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    record_read("retention.overview", result_count=page.paginator.count)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "retention/overview.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "query": query.urlencode(),
            "import_files": _overview_import_files(request),
        },
    )


def employee_detail(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """One employee: each category the user may see, its term, start event, the date its data
    becomes deletable, and the holds that suspend deletion."""
    _may_review(request)
    found = selectors.due_employee(request.user, key)
    if found is None:
        raise Http404
    employee, rows = found
    record_read("retention.employee", obj=employee, subject=employee)
    may_hold = Perm.RETENTION_MANAGE in access_of(request.user).permissions
    return render(
        request,
        "retention/employee.html",
        {
            "employee": employee,
            "rows": rows,
            "holds": [h for h in selectors.holds_of(employee) if h.is_active()],
            "may_hold": may_hold,
            "today": timezone.localdate(),
        },
    )


# --- deletion by a person -----------------------------------------------------------------------

SELECTION = "retention_selection"


def _overview_import_files(request: AuthenticatedRequest) -> list[Any]:
    if not deletion.may_delete_import_files(request.user):
        return []
    return list(
        deletion.import_files_past_term(request.user.tenant_id).order_by("created_at")[:PAGE_SIZE]
    )


@require_POST
def select(request: AuthenticatedRequest) -> HttpResponse:
    """The rows chosen on the overview, kept in the session for the review (which may first
    send the person to confirm a fresh second factor and back)."""
    _may_review(request)
    request.session[SELECTION] = {
        "due": request.POST.getlist("due")[:MAX_SELECTED],
        "import_files": request.POST.getlist("import_file")[:MAX_SELECTED],
    }
    return redirect("retention:review")


def _plan(request: AuthenticatedRequest) -> deletion.Plan:
    selection = request.session.get(SELECTION) or {}
    return deletion.build_plan(
        request.user,
        due_keys=selection.get("due", []),
        import_keys=selection.get("import_files", []),
    )


@fresh_second_factor_required
def review(request: AuthenticatedRequest) -> HttpResponse:
    """What the selection would delete, in counts; confirmed with the typed phrase (POST)."""
    _may_review(request)
    plan = _plan(request)
    form = ConfirmDeletionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            requested = deletion.request_deletion(
                by=request.user, plan=plan, typed=form.cleaned_data["typed"]
            )
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            request.session.pop(SELECTION, None)
            if requested.status == DeletionStatus.AWAITING_APPROVAL:
                messages.info(request, _("A second person must approve this deletion."))
            return redirect("retention:deletion", key=requested.key)
    record_read("retention.deletion.review", result_count=plan.employees)
    return render(
        request,
        "retention/review.html",
        {
            "plan": plan,
            "form": form,
            "threshold": deletion.threshold_of(request.user.tenant_id),
        },
        status=400 if form.is_bound else 200,
    )


def _deletion(request: AuthenticatedRequest, key: UUID) -> DeletionRequest:
    found = selectors.deletion_for(request.user, key)
    if found is None:
        raise Http404
    return found


def deletions(request: AuthenticatedRequest) -> HttpResponse:
    """The deletion reports (who, when, categories, counts) and the requests awaiting a second
    person."""
    _may_review(request)
    rows = list(selectors.deletions_visible_to(request.user)[:PAGE_SIZE])
    record_read("retention.deletion.list", result_count=len(rows))
    return render(request, "retention/deletions.html", {"deletions": rows})


def deletion_detail(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """A request's progress (polled while it runs), its report, and the second person's choice."""
    _may_review(request)
    found = _deletion(request, key)
    record_read("retention.deletion.view", obj=found)
    return render(
        request,
        "retention/deletion.html",
        {
            "deletion": found,
            "may_approve": deletion.may_approve(request.user, found),
            "may_withdraw": found.status == DeletionStatus.AWAITING_APPROVAL
            and found.requested_by_id == request.user.pk,
            "stalled": deletion.is_stalled(found),
            "progress_text": _deletion_progress_text(found),
            "report": _report_rows(found),
        },
    )


@fresh_second_factor_required
@require_POST
def deletion_decide(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """The second person approves (with a fresh second factor) or refuses; the requester may
    withdraw a request nobody decided yet."""
    _may_review(request)
    found = _deletion(request, key)
    try:
        if request.POST.get("action") == "approve":
            deletion.approve(deletion=found, by=request.user)
            messages.success(request, _("The deletion has been approved and starts now."))
        elif request.POST.get("action") == "resume":
            deletion.resume(deletion=found)
            messages.info(request, _("The deletion continues."))
        else:
            deletion.refuse(deletion=found, by=request.user)
            messages.success(request, _("The deletion has been refused; nothing was deleted."))
    except ValidationError as error:
        show_errors(request, error)
    return redirect("retention:deletion", key=found.key)


def _deletion_progress_text(found: DeletionRequest) -> str:
    return _("%(done)s of %(total)s employees") % {
        "done": found.items_done,
        "total": found.items_total,
    }


def deletion_progress(request: AuthenticatedRequest, key: UUID) -> JsonResponse:
    """What the progress bar polls (static/js/app.js): counts only."""
    _may_review(request)
    found = _deletion(request, key)
    return JsonResponse(
        {
            "percent": found.progress_percent,
            "text": _deletion_progress_text(found),
            "done": not found.running,
        }
    )


REPORT_LABELS = {
    "employee": gettext_lazy("Employees"),
    "absencecase": gettext_lazy("Absence cases"),
    "absenceperiod": gettext_lazy("Sick spells"),
    "incapacitychange": gettext_lazy("Incapacity changes"),
    "casecorrection": gettext_lazy("Corrections"),
    "milestone": gettext_lazy("Milestones"),
    "casenote": gettext_lazy("Notes"),
    "casedocument": gettext_lazy("Documents"),
    "medical_files": gettext_lazy("Medical files"),
    "medicalnote": gettext_lazy("Medical notes"),
    "medicaldocument": gettext_lazy("Medical documents"),
    "employmentterms": gettext_lazy("Employment terms"),
    "employeeuserobjectpermission": gettext_lazy("Case-manager grants"),
    "smsmessage": gettext_lazy("SMS records"),
    "accounts_anonymised": gettext_lazy("Accounts made anonymous"),
    "import_files": gettext_lazy("Import files"),
    "import_files_shredded": gettext_lazy("Import files shredded (naming a deleted employee)"),
}


def _report_rows(found: DeletionRequest) -> list[tuple[str, int]]:
    return [
        (str(label), found.counts[name])
        for name, label in REPORT_LABELS.items()
        if found.counts.get(name)
    ]


def deletion_report(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """The deletion report as CSV: who, when, which categories, counts; no one deleted named."""
    _may_review(request)
    found = _deletion(request, key)
    record_event("retention.deletion.report", Action.READ, obj=found)
    rows: list[list[Any]] = [
        [_("Request"), str(found.key)],
        [_("Requested by"), found.requested_by.display_name],
        [_("Requested at"), timezone.localtime(found.requested_at).isoformat(timespec="seconds")],
        [_("Approved by"), found.approved_by.display_name if found.approved_by else ""],
        [_("Status"), found.get_status_display()],
        [
            _("Finished at"),
            timezone.localtime(found.finished_at).isoformat(timespec="seconds")
            if found.finished_at
            else "",
        ],
        [_("Categories"), ", ".join(found.category_labels)],
        [_("Employees deleted or cleaned"), found.employees_deleted],
        [_("Employees skipped"), found.employees_skipped],
        *[[label, count] for label, count in _report_rows(found)],
    ]
    return csv_response(f"verwijderrapport-{found.key}.csv", [_("Item"), _("Value")], rows)
