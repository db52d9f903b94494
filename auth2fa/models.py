"""Accounts: e-mail login, one tenant per user, and the one-time recovery code."""

from __future__ import annotations

import secrets
import time
import uuid
from base64 import b32encode
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, SideChannelDevice, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from core.accounts import AccountType
from core.encryption import SealedBytes
from core.models import TenantOwned

__all__ = ["AccountType"]  # the accounts' kinds, named with the account model too


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        if "tenant" not in fields and "tenant_id" not in fields:
            raise ValueError("A user belongs to exactly one tenant.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        # No superusers: nobody bypasses the domain rules. Operators use management commands.
        raise NotImplementedError("Verzuim has no superusers; create users per tenant.")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. Belongs to exactly one tenant; logs in with e-mail and password."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey("domains.Tenant", on_delete=models.PROTECT, related_name="users")
    email = models.EmailField(_("e-mail address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    account_type = models.CharField(
        _("account type"), max_length=20, choices=AccountType.choices, default=AccountType.MEMBER
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Access ends on leaving (seed 001: within 24 hours): a last day, and/or the person's own
    # employee record, whose end of employment ends the account too (auth2fa.tasks).
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_blocked = models.BooleanField(_("blocked by a functional admin"), default=False)
    failed_logins = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    password_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A second person must be a real second person (seed 003): who created the account, and for
    # a functional admin or auditor, which other functional admin approved it. Until then the
    # account waits, inactive and without a password.
    created_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    approved_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    awaiting_approval = models.BooleanField(default=False, editable=False)
    # The factor asked for first at login (its django-otp persistent id); the others are offered.
    default_factor = models.CharField(max_length=100, blank=True, editable=False)
    employee = models.ForeignKey(
        "employees.Employee",
        verbose_name=_("own employee record"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = UserManager()

    # Set per request by django-otp's OTPMiddleware: has this session verified a device?
    is_verified: Callable[[], bool]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["tenant"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        # Pseudonymous on purpose (see conventions: no personal data in __str__).
        return f"User {self.key}"

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()
        self._password_to_remember = self.password if raw_password is not None else None

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        remembered = self.__dict__.pop("_password_to_remember", None)
        if remembered:  # the history that reuse is checked against (hashes only)
            PasswordHistory.objects.create(user=self, password_hash=remembered)

    @property
    def password_expired(self) -> bool:
        days = self.tenant.password_max_age_days
        if not days or self.password_changed_at is None:
            return False
        return timezone.now() - self.password_changed_at > timedelta(days=days)

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or self.email


class PasswordHistory(models.Model):
    """Hashes of a user's earlier passwords, so a recent one cannot be chosen again."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Password history of user {self.user_id}"


class RecoveryCode(models.Model):
    """The one-time recovery code (herstelcode): shown once at enrolment, stored only hashed."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="recovery_code")
    code_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Recovery code of user {self.user_id}"

    def matches(self, code: str) -> bool:
        return check_password(normalise_recovery_code(code), self.code_hash)

    @staticmethod
    def hash(code: str) -> str:
        return make_password(normalise_recovery_code(code))


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class UsersSealedBytes(SealedBytes):
    """Sealed with the data key of the tenant of the row's user (a device has no tenant of its
    own; a `tenant_id` on it would make the audit trail look for a tenant field)."""

    def tenant_of(self, instance: Any) -> int:
        return cast(int, instance.user.tenant_id)


class AuthenticatorApp(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238): django-otp's TOTPDevice with its secret sealed.

    django-otp keeps a TOTP secret as plain hex, so anyone with a copy of the database (a backup,
    a read replica) could compute every user's codes. Here the secret is sealed with the tenant's
    data key like the BSN (core/encryption.py), bound to this row's `key`; `bin_key` gives it to
    the TOTP check and the enrolment QR code. The verification is django-otp's (TOTPDevice):
    drift, tolerance, no replay of a time step already used, and throttled wrong codes.
    """

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    secret_sealed = models.BinaryField(editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    secret = UsersSealedBytes("secret_sealed")

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    def __str__(self) -> str:
        return f"Authenticator app {self.key}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.secret_sealed:  # a new app gets its random secret (20 bytes, as django-otp)
            self.secret = secrets.token_bytes(20)
        super().save(*args, **kwargs)

    @property
    def bin_key(self) -> bytes:
        return bytes(self.secret)

    def verify_token(self, token: Any) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            number = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(number, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    def get_throttle_factor(self) -> int:
        return settings.OTP_TOTP_THROTTLE_FACTOR

    @property
    def config_url(self) -> str:
        """The otpauth:// URL an authenticator app reads from the QR code."""
        issuer = settings.OTP_TOTP_ISSUER.replace(":", "")
        label = quote(f"{issuer}:{self.user.get_username()}")
        params = urlencode(
            {
                "secret": b32encode(self.bin_key).decode(),
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        return f"otpauth://totp/{label}?{params}&issuer={quote(issuer)}"


class SMSDevice(ThrottlingMixin, SideChannelDevice):
    """A mobile number that receives a six-digit code per login (short-lived and single-use).

    The number is stored normalised (E.164, e.g. +31612345678); pages show it masked.
    """

    number = models.CharField(_("mobile number"), max_length=16)

    class Meta(SideChannelDevice.Meta):
        verbose_name = _("SMS number")
        verbose_name_plural = _("SMS numbers")

    def __str__(self) -> str:
        return f"SMS device {self.pk}"

    def get_throttle_factor(self) -> int:
        return settings.OTP_TOTP_THROTTLE_FACTOR

    def verify_token(self, token: str) -> bool:
        """The current code, once, before it expires; wrong guesses back off exponentially."""
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        now = timezone.now()
        if self.token and now < self.valid_until and constant_time_compare(str(token), self.token):
            self.token = None  # single use
            self.valid_until = now
            self.throttle_reset(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False

    @property
    def masked_number(self) -> str:
        return mask_number(self.number)


def mask_number(number: str) -> str:
    """+31612345678 -> +316••••••78: enough to recognise one's own phone, not to call it."""
    return number[:4] + "•" * max(0, len(number) - 6) + number[-2:] if number else ""


class SecurityKey(Device):
    """A FIDO2/WebAuthn or FIDO U2F security key: one registered credential.

    `credential_data` is the attested credential data (id, public key, AAGUID) as python-fido2
    encodes it. Keys registered through the old U2F API carry `u2f_appid`: their credential is
    scoped to that AppID URL instead of the RP id, and they sign in through the `appid` extension.
    """

    credential_id = models.CharField(max_length=1400, unique=True, editable=False)
    credential_data = models.BinaryField(editable=False)
    sign_count = models.PositiveBigIntegerField(default=0, editable=False)
    u2f_appid = models.CharField(max_length=200, blank=True, editable=False)
    clone_warning = models.BooleanField(
        _("possible clone detected"),
        default=False,
        help_text=_("The key reported a signature counter lower than before."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Device.Meta):
        verbose_name = _("security key")
        verbose_name_plural = _("security keys")

    def __str__(self) -> str:
        return f"Security key {self.pk}"

    def verify_token(self, token: str) -> bool:
        return False  # a key answers a WebAuthn challenge, never a typed code (auth2fa.webauthn)


class SMSMessage(TenantOwned):
    """One SMS sent (or attempted) for a second factor: what the cost report counts.

    No number and no code: the tenant, the employer it is charged to (the user's own employer,
    or the one employer their roles reach; empty when that is not a single one), when, why, and
    how the gateway answered.
    """

    class Purpose(models.TextChoices):
        ENROL = "enrol", _("Setting up SMS")
        LOGIN = "login", _("Login")
        STEP_UP = "step_up", _("Fresh confirmation")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    employer = models.ForeignKey(
        "domains.Employer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    gateway_reference = models.CharField(max_length=100, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["tenant", "sent_at"])]

    def __str__(self) -> str:
        return f"SMS message {self.key}"
