"""Accounts: e-mail login, one tenant per user, and the one-time recovery code."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import cached_property

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        if "tenant" not in fields and "tenant_id" not in fields:
            raise ValueError("A user belongs to exactly one tenant.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        # No superusers: nobody bypasses the domain rules. Operators use management commands.
        raise NotImplementedError("Verzuim has no superusers; create users per tenant.")


class AccountType(models.TextChoices):
    MEMBER = "member", _("Domain user")
    FUNCTIONAL_ADMIN = "functional_admin", _("Functional admin")
    AUDITOR = "auditor", _("Auditor")


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
    employee = models.ForeignKey(
        "employees.Employee",
        verbose_name=_("own employee record"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["tenant"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        # Pseudonymous on purpose (see conventions: no personal data in __str__).
        return f"User {self.key}"

    def set_password(self, raw_password) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()
        self._password_to_remember = self.password if raw_password is not None else None

    def save(self, *args, **kwargs) -> None:
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

    @cached_property
    def role_names(self) -> list[str]:
        """Names of the roles this user holds (for the navigation bar)."""
        if self.account_type != AccountType.MEMBER:
            return [str(self.get_account_type_display())]
        from domains.models import RoleAssignment

        return list(
            RoleAssignment.objects.filter(user=self)
            .order_by("role__name")
            .values_list("role__name", flat=True)
        )


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
