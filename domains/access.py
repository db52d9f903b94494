"""View guards, the gate's access checks and the actor's facts, built on domains/visibility.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit.codes import Action, Outcome
from audit.events import record_event
from auth2fa.http import AuthenticatedRequest, user_of
from auth2fa.models import User
from core.accounts import AccountType
from core.actors import ActorFacts
from core.net import address_allowed, client_ip
from domains.visibility import access_of

View = Callable[..., HttpResponse]


def permission_required(perm: str) -> Callable[[View], View]:
    """403 unless one of the user's active roles grants `perm`.

    Which objects the permission reaches is the selector's business (employees_visible_to(user,
    perm)); what the user may do with one object, its access answer (employee_access).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if perm not in access_of(request.user).permissions:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def functional_admin_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.account_type != AccountType.FUNCTIONAL_ADMIN:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


# -- The gate's checks of this layer (verzuim/gate.py runs them in order) -----------------------


def require_allowed_address(request: HttpRequest) -> HttpResponse | None:
    """A tenant with allowed IP ranges refuses its users' requests from elsewhere (seed 003).
    The login itself checks the address too, so signing in and out is not refused here."""
    if address_allowed(client_ip(request), user_of(request).tenant.allowed_ip_ranges):
        return None
    record_event("access.ip_refused", Action.EXECUTE, outcome=Outcome.DENIED)
    return render(request, "ip_refused.html", {"address": client_ip(request)}, status=403)


def require_placed_roles(request: HttpRequest) -> HttpResponse | None:
    """Users whose role is still not in a domain after the tenant's deadline reach nothing but a
    page telling them to contact their functional admin (and logout)."""
    if access_of(user_of(request)).blocked:
        return render(request, "domains/blocked.html", status=403)
    return None


# -- What other layers are told -----------------------------------------------------------------


def actor_facts(user: User) -> ActorFacts:
    """For the audit trail: the account, its domain and active roles (no query of its own when
    the request already read the user's access)."""
    access = access_of(user)
    return ActorFacts(
        key=str(user.key),
        account_type=user.account_type,
        domain=access.domain,
        roles=access.active_role_names,
    )


def access(request: HttpRequest) -> dict[str, Any]:
    """Template context: what the user may use, for menus (the views check again)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "access": {"permissions": frozenset(), "is_admin": False, "domain": "", "roles": []}
        }
    user_access = access_of(user)
    return {
        "access": {
            "permissions": user_access.permissions,
            "is_admin": user.account_type == AccountType.FUNCTIONAL_ADMIN,
            "domain": user_access.domain,
            "roles": user_access.role_names,
        }
    }
