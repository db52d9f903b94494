"""The "extra token" for medical data: a second factor verified within the last few minutes.

Every successful second-factor check stamps the session. Views of the medical file require a
stamp younger than the tenant's window (default 15 minutes), even inside a verified session;
otherwise the user confirms a fresh code first and comes back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

SESSION_VERIFIED_AT = "auth2fa_verified_at"


def mark_second_factor_verified(request: HttpRequest) -> None:
    request.session[SESSION_VERIFIED_AT] = time.time()


def second_factor_is_fresh(request: HttpRequest, minutes: int) -> bool:
    verified_at = request.session.get(SESSION_VERIFIED_AT)
    return verified_at is not None and time.time() - verified_at <= minutes * 60


def fresh_second_factor_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not second_factor_is_fresh(request, request.user.tenant.medical_step_up_minutes):
            return redirect_to_login(request.get_full_path(), reverse("auth2fa:step_up"))
        return view(request, *args, **kwargs)

    return wrapped
