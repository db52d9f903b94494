"""Middleware shared by all apps: the tenant scope and the Content-Security-Policy header."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from verzuim.net import address_allowed, client_ip
from verzuim.tenancy import tenant_scope


class TenantScopeMiddleware:
    """Run each request inside the tenant scope of its authenticated user.

    Anonymous requests get no scope, so any tenant-owned query they reach fails closed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            request.tenant = user.tenant
            with tenant_scope(user.tenant_id):
                return self.get_response(request)
        request.tenant = None
        return self.get_response(request)


class AllowedIpRangeMiddleware:
    """A tenant with allowed IP ranges refuses its users' requests from elsewhere (seed 003)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or getattr(view_func, "second_factor_exempt", False):
            return None  # logging in and out stays possible; the login itself checks the address
        if address_allowed(client_ip(request), user.tenant.allowed_ip_ranges):
            return None
        from audit.events import record_event
        from audit.models import Action, Outcome

        record_event("access.ip_refused", Action.EXECUTE, outcome=Outcome.DENIED)
        return render(request, "ip_refused.html", {"address": client_ip(request)}, status=403)


class ContentSecurityPolicyMiddleware:
    """A strict policy: scripts and styles only from our own static files, no inline code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
