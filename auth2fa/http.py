"""Typed requests for code behind the gate's login check, where `request.user` is a `User`."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from auth2fa.models import User


class AuthenticatedRequest(HttpRequest):
    """A request the gate has let through its login check (every view not open to anyone)."""

    user: User


def user_of(request: HttpRequest) -> User:
    """The signed-in user of a request past the gate's login check (verzuim/gate.py)."""
    return cast(User, request.user)
