"""The one gate every request passes: an ordered list of checks, run before the view.

Each check answers None (pass) or the response that stops the request: the login page, the
second-factor step, the password change, a refusal. Views are closed by default; the few open
ones carry `@public` (core/gate.py): `public` skips every check, `public(signing_in=True)` asks
only for the login (the steps of signing in themselves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from auth2fa.gate import require_current_password, require_login, require_second_factor
from core.gate import ANYONE, SIGNING_IN, openness
from domains.access import require_allowed_address, require_placed_roles

Check = Callable[[HttpRequest], HttpResponse | None]

CHECKS: tuple[Check, ...] = (
    require_login,
    require_second_factor,
    require_current_password,
    require_allowed_address,
    require_placed_roles,
)
SIGNING_IN_CHECKS: tuple[Check, ...] = (require_login,)


class GateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        open_to = openness(view_func)
        if open_to == ANYONE:
            return None
        for check in SIGNING_IN_CHECKS if open_to == SIGNING_IN else CHECKS:
            response = check(request)
            if response is not None:
                return response
        return None
