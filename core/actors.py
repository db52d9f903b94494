"""Who is acting: the facts about a user that an audit record names (NEN 7513 "user, acting in
which role").

The audit trail is a sink below the access code, so it cannot ask the access rules itself. The
access layer registers the function that answers (`provide_actor_facts`, from its app config);
the audit trail calls `actor_facts(user)`. Until something is registered the facts carry the
account only, no domain or roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ActorFacts:
    key: str
    account_type: str
    domain: str = ""
    roles: tuple[str, ...] = ()


ActorFactsProvider = Callable[[Any], ActorFacts]


def _account_only(user: Any) -> ActorFacts:
    return ActorFacts(key=str(user.key), account_type=user.account_type)


_provider: ActorFactsProvider = _account_only


def provide_actor_facts(provider: ActorFactsProvider) -> None:
    """Register the access layer's answer (called once, from an AppConfig.ready)."""
    global _provider
    _provider = provider


def actor_facts(user: Any) -> ActorFacts | None:
    """The facts of an authenticated user; None for anonymous callers."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return _provider(user)
