"""Retention screens: the tenant's terms (functional admins), legal holds (werkgever)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from audit.events import record_read
from auth2fa.http import AuthenticatedRequest
from core.forms import show_errors
from domains.access import functional_admin_required, permission_required
from domains.permissions import Perm
from retention import selectors, services
from retention.forms import HoldForm, PolicyForm
from retention.selectors import terms_of


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
