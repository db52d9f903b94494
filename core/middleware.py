"""Middleware that knows no app: the tenant scope of a request, and the security headers."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from core.tenancy import tenant_scope


class TenantScopeMiddleware:
    """Run each request inside the tenant scope of its authenticated user.

    Anonymous requests get no scope, so any tenant-owned query they reach fails closed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            request.tenant = user.tenant  # type: ignore[attr-defined]
            with tenant_scope(user.tenant_id):
                return self.get_response(request)
        request.tenant = None  # type: ignore[attr-defined]
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """A strict policy: scripts and styles only from our own static files, no inline code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class PrivateCacheMiddleware:
    """Nothing a signed-in user is shown may be kept by a browser or proxy cache.

    Recovery codes, TOTP secrets, employees and cases must not linger on a shared computer's
    disk or in a proxy. Applies when the user is authenticated before or after the view (the
    login itself, and every step of signing in). The directives are added to what a view set,
    never replacing it: "no-store" is the strictest there is, and "private" removes "public".
    Anonymous pages are left alone (static files, health); Django's login view is already
    never-cached.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or request.user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response
