"""Second-factor workflows: enrolment, verification, and the one-time recovery code."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.events import record_event
from auth2fa.models import (
    AuthenticatorApp,
    PasswordHistory,
    RecoveryCode,
    SecurityKey,
    SMSDevice,
    SMSMessage,
    User,
)
from auth2fa.sms import forget_number
from core.accounts import AccountType

# Unambiguous upper-case letters and digits: 32 symbols, so each character carries 5 bits.
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_GROUPS, RECOVERY_GROUP_LENGTH = 4, 5  # 20 characters, 100 bits


def require_functional_admin(user: User) -> None:
    """Only a functional admin manages accounts, roles and the environment's settings."""
    if user.account_type != AccountType.FUNCTIONAL_ADMIN:
        raise PermissionDenied


def has_confirmed_factor(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def start_totp_enrolment(*, user: User, device_id: int | None) -> AuthenticatorApp:
    """The unconfirmed authenticator-app device being set up (reused across page reloads)."""
    if device_id is not None:
        device = AuthenticatorApp.objects.filter(user=user, pk=device_id, confirmed=False).first()
        if device is not None:
            return device
    AuthenticatorApp.objects.filter(user=user, confirmed=False).delete()
    return AuthenticatorApp.objects.create(user=user, name="Authenticator-app", confirmed=False)


def totp_secret_base32(device: AuthenticatorApp) -> str:
    """The secret as authenticator apps expect it for manual entry."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def issue_recovery_code(*, user: User) -> str:
    """Make a new recovery code, store its hash (replacing any old one), return it to show once."""
    code = "-".join(
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
        for _ in range(RECOVERY_GROUPS)
    )
    RecoveryCode.objects.update_or_create(
        user=user, defaults={"code_hash": RecoveryCode.hash(code)}
    )
    return code


def has_recovery_code(user: User) -> bool:
    return RecoveryCode.objects.filter(user=user).exists()


@transaction.atomic
def redeem_recovery_code(*, user: User, code: str) -> bool:
    """Use the recovery code once: it and the user's (lost) factors are removed, so the user must
    enrol a new factor before reaching anything else."""
    recovery = RecoveryCode.objects.select_for_update().filter(user=user).first()
    if recovery is None or not recovery.matches(code):
        return False
    recovery.delete()
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    return True


def end_sessions_of(user_ids: set[int]) -> int:
    """Delete the database sessions of these users (every device they are logged in on)."""
    from django.contrib.sessions.models import Session

    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if int(session.get_decoded().get("_auth_user_id", 0) or 0) in user_ids:
            session.delete()
            ended += 1
    return ended


def deactivate_leavers() -> int:
    """Deactivate accounts whose valid-until date has passed, or whose linked employee's
    employment has ended, and end their sessions. Saved one by one, so each is audited."""
    today = timezone.localdate()
    leavers = list(
        User.objects.filter(is_active=True).filter(
            Q(valid_until__lt=today) | Q(employee__employment_end__lt=today)
        )
    )
    for user in leavers:
        user.is_active = False
        user.save(update_fields=["is_active"])
    if leavers:
        end_sessions_of({user.pk for user in leavers})
    return len(leavers)


def register_failed_login(user: User) -> None:
    """Count a wrong password; at the tenant's threshold the account locks for its period.

    The database adds the failure (one UPDATE with F()), so parallel attempts cannot overwrite
    each other's count; that UPDATE holds the row lock until the commit, so exactly one attempt
    sees the threshold reached and locks."""
    policy = user.tenant
    with transaction.atomic():
        account = User.objects.filter(pk=user.pk)
        account.update(failed_logins=F("failed_logins") + 1)
        user.failed_logins = account.values_list("failed_logins", flat=True).get()
        if user.failed_logins >= policy.lockout_attempts:
            user.locked_until = timezone.now() + timedelta(minutes=policy.lockout_minutes)
            user.failed_logins = 0
            account.update(failed_logins=0, locked_until=user.locked_until)
            record_event("login.lockout", "E", outcome="denied", actor=user)


def clear_failed_logins(user: User | None) -> None:
    if user is not None and (user.failed_logins or user.locked_until):
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)


@transaction.atomic
def set_account_end(*, user: User, valid_until: Any, employee: Any, by: User) -> None:
    """A functional admin sets when an account ends: a last day, and/or the person's own employee
    record, whose end of employment ends the account too (deactivate_leavers)."""
    require_functional_admin(by)
    if user.tenant_id != by.tenant_id:
        raise PermissionDenied
    user.valid_until = valid_until
    user.employee = employee
    user.save(update_fields=["valid_until", "employee"])


@transaction.atomic
def set_blocked(*, user: User, blocked: bool, by: User) -> None:
    """A functional admin blocks or unblocks an account; blocking ends its sessions at once."""
    require_functional_admin(by)
    if user.tenant_id != by.tenant_id or user.pk == by.pk:
        raise PermissionDenied
    user.is_blocked = blocked
    user.locked_until = None
    user.save(update_fields=["is_blocked", "locked_until"])
    if blocked:
        end_sessions_of({user.pk})


# The kinds of second factor, in the order pages list them.
FACTOR_KINDS: dict[type[Device], str] = {
    AuthenticatorApp: "app",
    SMSDevice: "sms",
    SecurityKey: "key",
}


def factor_kind(device: Device) -> str:
    return FACTOR_KINDS[type(device)]


def confirmed_devices(user: User) -> list[Device]:
    """All of the user's working second factors: apps, SMS numbers and security keys."""
    return [
        device
        for model in FACTOR_KINDS
        for device in model.objects.filter(user=user, confirmed=True).order_by("pk")
    ]


def find_factor(user: User, persistent_id: str) -> Device:
    """One of the user's own confirmed factors by its persistent id, else PermissionDenied."""
    device = next((d for d in confirmed_devices(user) if d.persistent_id == persistent_id), None)
    if device is None:
        raise PermissionDenied
    return device


def default_factor(user: User, devices: list[Device]) -> Device | None:
    """The factor the user chose as default, or the first one they set up."""
    chosen = next((d for d in devices if d.persistent_id == user.default_factor), None)
    return chosen or (devices[0] if devices else None)


def set_default_factor(*, user: User, persistent_id: str) -> None:
    user.default_factor = find_factor(user, persistent_id).persistent_id
    user.save(update_fields=["default_factor"])


@transaction.atomic
def remove_factor(*, user: User, persistent_id: str) -> None:
    """Remove one of the user's own factors; at least one must stay."""
    device = find_factor(user, persistent_id)
    if len(confirmed_devices(user)) == 1:
        raise ValidationError(
            _("Keep at least one second factor: add another one before removing this one.")
        )
    device.delete()
    if user.default_factor == persistent_id:
        user.default_factor = ""
        user.save(update_fields=["default_factor"])


def rename_factor(*, user: User, persistent_id: str, name: str) -> None:
    device = find_factor(user, persistent_id)
    device.name = name.strip()[:64] or device.name
    device.save(update_fields=["name"])


def start_sms_enrolment(*, user: User, number: str) -> SMSDevice:
    """A new, unconfirmed SMS number (replacing one being set up); confirmed by its first code."""
    SMSDevice.objects.filter(user=user, confirmed=False).delete()
    return SMSDevice.objects.create(user=user, name="SMS", number=number, confirmed=False)


def confirm_device(*, user: User, device: Device) -> None:
    """A new factor works: confirm it, and make it the default when it is the user's first."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    if not user.default_factor or len(confirmed_devices(user)) == 1:
        user.default_factor = device.persistent_id
        user.save(update_fields=["default_factor"])


@transaction.atomic
def reset_second_factors(*, user: User, by: User) -> None:
    """A functional admin resets a user's factors (device lost, no recovery code): the user
    enrols again at the next login; running sessions end. Each deletion is audited."""
    require_functional_admin(by)
    if user.tenant_id != by.tenant_id or user.pk == by.pk:
        raise PermissionDenied
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    RecoveryCode.objects.filter(user=user).delete()
    if user.default_factor:
        user.default_factor = ""
        user.save(update_fields=["default_factor"])
    record_event("2fa.reset", "E", obj=user)
    end_sessions_of({user.pk})


@transaction.atomic
def erase_sign_in_data(*, users: list[User]) -> dict[str, int]:
    """Remove what names these people from the sign-in records (retention, a person confirmed
    it): the SMS records of their accounts, and the accounts themselves made anonymous and
    closed (the rows stay: notes and decisions they made still point to them). Their second
    factors, recovery codes and password history go; the SMS outbox file forgets their numbers."""
    if not users:
        return {"sms_records": 0, "accounts": 0}
    pks = [user.pk for user in users]
    numbers = list(SMSDevice.objects.filter(user_id__in=pks).values_list("number", flat=True))
    sms_records, _per_model = SMSMessage.unscoped.filter(user_id__in=pks).delete()
    for device in devices_for_user_ids(pks):
        device.delete()
    RecoveryCode.objects.filter(user_id__in=pks).delete()
    PasswordHistory.objects.filter(user_id__in=pks).delete()
    for user in User.objects.filter(pk__in=pks):
        user.first_name = ""
        user.last_name = ""
        user.email = f"verwijderd-{user.key}@verwijderd.invalid"
        user.is_active = False
        user.employee = None
        user.set_unusable_password()
        user.save()
    for number in numbers:
        forget_number(number)
    return {"sms_records": sms_records, "accounts": len(pks)}


def devices_for_user_ids(pks: list[Any]) -> list[Device]:
    """Every second factor (of every kind) of these accounts."""
    devices: list[Device] = []
    for model in (AuthenticatorApp, SMSDevice, SecurityKey, TOTPDevice):
        devices.extend(model.objects.filter(user_id__in=pks))
    return devices
