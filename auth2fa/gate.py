"""The gate's checks of the accounts layer: a login, a verified second factor, a current password.

verzuim/gate.py runs them, in this order, before the access checks of the layers above.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from auth2fa.http import user_of
from auth2fa.services import has_confirmed_factor

PASSWORD_CHANGE_VIEW = "auth2fa:password_change"  # noqa: S105 - a URL name


def require_login(request: HttpRequest) -> HttpResponse | None:
    if request.user.is_authenticated:
        return None
    return redirect_to_login(request.get_full_path())


def require_second_factor(request: HttpRequest) -> HttpResponse | None:
    """An authenticated user reaches nothing until a second factor is verified in this session."""
    user = user_of(request)
    if user.is_verified():
        return None
    step = "auth2fa:verify" if has_confirmed_factor(user) else "auth2fa:enrol"
    return redirect_to_login(request.get_full_path(), reverse(step))


def require_current_password(request: HttpRequest) -> HttpResponse | None:
    """A user whose password is older than the tenant allows must change it first."""
    match = request.resolver_match
    if not user_of(request).password_expired or (match and match.view_name == PASSWORD_CHANGE_VIEW):
        return None
    return redirect_to_login(request.get_full_path(), reverse(PASSWORD_CHANGE_VIEW))
