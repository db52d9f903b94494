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


class AccountRequest(HttpRequest):
    """A request past the gate's login check, as the layers below the accounts see it."""

    user: Account  # type: ignore[assignment]  # narrower than Django's user-or-anonymous
