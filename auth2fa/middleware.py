"""The 2FA gate: an authenticated user reaches nothing until a second factor is verified."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from auth2fa.services import has_confirmed_factor


def second_factor_exempt(view: Callable) -> Callable:
    """Mark a view reachable by a logged-in user whose second factor is not verified yet.

    Only the login, logout, password-reset, language, health and 2FA wizard/verification views
    carry this mark; everything else is behind the gate by default (fail closed).
    """
    view.second_factor_exempt = True
    return view


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or getattr(view_func, "second_factor_exempt", False):
            return None
        if user.is_verified():
            return None
        step = "auth2fa:verify" if has_confirmed_factor(user) else "auth2fa:enrol"
        return redirect_to_login(request.get_full_path(), reverse(step))


class PasswordExpiryMiddleware:
    """A verified user whose password is older than the tenant allows must change it first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs):
        user = request.user
        if (
            not user.is_authenticated
            or getattr(view_func, "second_factor_exempt", False)
            or getattr(view_func, "changes_password", False)
            or not user.is_verified()
            or not user.password_expired
        ):
            return None
        return redirect_to_login(request.get_full_path(), reverse("auth2fa:password_change"))
