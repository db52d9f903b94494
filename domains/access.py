"""View guards and the request-wide access checks built on domains/visibility.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from auth2fa.models import AccountType
from domains.visibility import access_blocked, has_permission, user_domain, user_permissions


def permission_required(perm: str) -> Callable:
    """403 unless one of the user's active roles grants `perm`.

    Which objects the permission reaches is the selector's business (visible_employees(user, perm)).
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not has_permission(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def functional_admin_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.account_type != AccountType.FUNCTIONAL_ADMIN:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class UnplacedRoleBlockMiddleware:
    """Users whose role is still not in a domain after the tenant's deadline reach nothing but a
    page telling them to contact their functional admin (and logout)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or getattr(view_func, "second_factor_exempt", False):
            return None
        if access_blocked(user):
            return render(request, "domains/blocked.html", status=403)
        return None


def access(request: HttpRequest) -> dict:
    """Template context: what the user may use, for menus (the views check again)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"access": {"permissions": frozenset(), "is_admin": False, "domain": ""}}
    return {
        "access": {
            "permissions": user_permissions(user),
            "is_admin": user.account_type == AccountType.FUNCTIONAL_ADMIN,
            "domain": user_domain(user),
        }
    }
