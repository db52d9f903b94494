"""Retention screens: the tenant's terms (functional admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from auth2fa.http import AuthenticatedRequest
from domains.access import functional_admin_required
from retention import services
from retention.forms import PolicyForm
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
