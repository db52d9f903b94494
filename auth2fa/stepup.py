"""The "extra token" for medical data: a second factor verified within the last few minutes.

Every successful second-factor check stamps the session. Views of the medical file require a
stamp younger than the tenant's window (default 15 minutes), even inside a verified session;
otherwise the user confirms a fresh code first and comes back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from auth2fa.http import AuthenticatedRequest

SESSION_VERIFIED_AT = "auth2fa_verified_at"


def mark_second_factor_verified(request: HttpRequest) -> None:
    request.session[SESSION_VERIFIED_AT] = time.time()


def second_factor_is_fresh(request: AuthenticatedRequest) -> bool:
    """Whether the session's last second factor is younger than the user's tenant's window."""
    verified_at = request.session.get(SESSION_VERIFIED_AT)
    minutes = request.user.tenant.medical_step_up_minutes
    return verified_at is not None and time.time() - verified_at <= minutes * 60


def fresh_second_factor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not second_factor_is_fresh(request):
            return redirect_to_login(_come_back_to(request), reverse("auth2fa:step_up"))
        return view(request, *args, **kwargs)

    return wrapped


def _come_back_to(request: HttpRequest) -> str:
    """Where to return after the fresh confirmation. A form post cannot be replayed by a
    redirect, so it returns to the page the form was on (the step-up view checks the address
    is ours); the user then submits again."""
    if request.method == "GET":
        return request.get_full_path()
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    if referer.netloc == request.get_host() and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return reverse("dashboard")
