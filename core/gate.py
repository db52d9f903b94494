"""How a view says it is open: the one marker the gate reads (verzuim/gate.py runs the checks).

Every view is closed by default: the gate asks for a login, a verified second factor, a
current password, an allowed address and roles placed in a domain. Two kinds of view are
open, and say so with `@public`:

- `@public`: anyone, logged in or not (login, password reset, language, health check);
- `@public(signing_in=True)`: a user who has given the password but is still signing in (second
  factor, its set-up wizard, recovery code, logout).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

View = TypeVar("View", bound=Callable[..., Any])

ANYONE = "anyone"
SIGNING_IN = "signing_in"


def public(view: View | None = None, *, signing_in: bool = False) -> Any:
    """Mark a view as open to anyone, or (`signing_in=True`) to users still signing in."""

    def mark(target: View) -> View:
        target.gate_open = SIGNING_IN if signing_in else ANYONE  # type: ignore[attr-defined]
        return target

    return mark(view) if view is not None else mark


def openness(view: Callable[..., Any]) -> str | None:
    """ANYONE, SIGNING_IN, or None for the default: closed behind every check."""
    return getattr(view, "gate_open", None)
