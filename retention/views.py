"""Retention screens: the tenant's terms (functional admins), legal holds (werkgever)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.events import record_read
from auth2fa.http import AuthenticatedRequest
from core.forms import show_errors
from domains.access import functional_admin_required, permission_required
from domains.permissions import Perm
from domains.visibility import access_of
from retention import selectors, services
from retention.forms import HoldForm, OverviewFilterForm, PolicyForm
from retention.selectors import terms_of

PAGE_SIZE = 50


@functional_admin_required
def policy(request: AuthenticatedRequest) -> HttpResponse:
    """The retention terms per data category, with the legal defaults (no personal data)."""
    tenant = request.user.tenant
    form = PolicyForm(request.POST or None, terms=terms_of(tenant))
    if request.method == "POST" and form.is_valid():
        changed = services.save_terms(tenant=tenant, terms=form.terms())
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
        {"form": form, "page": page, "today": today, "query": query.urlencode()},
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
