"""Which employer (customer) pays for an SMS sent as a second factor (seed 002: per customer).

The SMS code of auth2fa records each message; the access layer above it decides whom to charge,
when the record is first saved: the user's own employer when the account is linked to their
employee record, else the one employer their roles reach (none when that is not exactly one).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_save

from auth2fa.models import SMSMessage, User
from domains.visibility import employers_in_scope


def billing_employer_id(user: User) -> int | None:
    if user.employee_id:
        # Through the account's own link, so this layer needs no employees import.
        return (
            User.objects.filter(pk=user.pk, employee__tenant_id=user.tenant_id)
            .values_list("employee__employer_id", flat=True)
            .first()
        )
    employers = employers_in_scope(user)
    return next(iter(employers)) if len(employers) == 1 else None


def _charge_new_message(
    sender: Any, instance: SMSMessage, raw: bool = False, **kwargs: Any
) -> None:
    if (
        instance._state.adding
        and not raw
        and instance.employer_id is None
        and instance.user_id
        and instance.user
    ):
        instance.employer_id = billing_employer_id(instance.user)


def connect() -> None:
    pre_save.connect(_charge_new_message, sender=SMSMessage, dispatch_uid="sms-billing-employer")
