"""The kinds of account: every layer asks it (the audit trail too), so it lives in the core."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class AccountType(models.TextChoices):
    MEMBER = "member", _("Domain user")
    FUNCTIONAL_ADMIN = "functional_admin", _("Functional admin")
    AUDITOR = "auditor", _("Auditor")


class Account(Protocol):
    """What the layers below the accounts may ask of a signed-in user (the model is in auth2fa)."""

    @property
    def pk(self) -> Any: ...

    @property
    def key(self) -> uuid.UUID: ...

    @property
    def tenant_id(self) -> int: ...

    @property
    def account_type(self) -> str: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def created_by_id(self) -> Any: ...

    @property
    def approved_by_id(self) -> Any: ...

    @property
    def awaiting_approval(self) -> bool: ...


def independent_of(approver: Account, requester: Account | None) -> bool:
    """May `approver` be the second person for something `requester` asked? Not the requester,
    and not an account the requester created or approved: one functional admin must not be able
    to make a second account on an address they control and approve with it (seed 003)."""
    if requester is None:
        return True
    return requester.pk not in (approver.pk, approver.created_by_id, approver.approved_by_id)


def is_active_admin(account: Account) -> bool:
    """A functional admin whose own account is in force (approved, active)."""
    return (
        account.account_type == AccountType.FUNCTIONAL_ADMIN
        and account.is_active
        and not account.awaiting_approval
    )


class AccountRequest(HttpRequest):
    """A request past the gate's login check, as the layers below the accounts see it."""

    user: Account  # type: ignore[assignment]  # narrower than Django's user-or-anonymous
