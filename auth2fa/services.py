"""Second-factor workflows: enrolment, verification, and the one-time recovery code."""

from __future__ import annotations

import base64
import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from auth2fa.models import RecoveryCode, User

# Unambiguous upper-case letters and digits: 32 symbols, so each character carries 5 bits.
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_GROUPS, RECOVERY_GROUP_LENGTH = 4, 5  # 20 characters, 100 bits


def has_confirmed_factor(user: User) -> bool:
    return user_has_device(user, confirmed=True)


def start_totp_enrolment(*, user: User, device_id: int | None) -> TOTPDevice:
    """The unconfirmed authenticator-app device being set up (reused across page reloads)."""
    if device_id is not None:
        device = TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=False).first()
        if device is not None:
            return device
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator-app", confirmed=False)


def totp_secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps expect it for manual entry (django-otp stores hex)."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def confirm_totp(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a new authenticator app with a code from it (throttled and replay-safe)."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


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


def verification_devices(user: User) -> list:
    return list(devices_for_user(user, confirmed=True))


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
