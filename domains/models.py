"""Organisation (environments, employers, departments, providers, contracts) and access (roles,
assignments, BIG registrations) in the four domains."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwned
from core.net import parse_ranges
from domains.permissions import MEDICAL_PERMISSIONS, Domain, Perm, permissions_beyond_ceiling

__all__ = ["Domain"]  # re-exported: models and forms name domains through this module too


def default_role_deadline() -> date:
    return timezone.localdate() + timedelta(days=90)


def default_sms_price_cents() -> int:
    return settings.SMS_PRICE_CENTS  # seed 002: 8 cents


class Tenant(models.Model):
    """An environment (omgeving): one customer installation. The root of all tenant data."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    unplaced_role_deadline = models.DateField(
        _("deadline for placing roles in a domain"),
        default=default_role_deadline,
        help_text=_("After this date users whose role has no domain are blocked."),
    )
    medical_step_up_minutes = models.PositiveSmallIntegerField(
        _("minutes a second factor counts as fresh for the medical file"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_(
            "Opening the medical file asks for a second factor again when the last one is older."
        ),
    )
    extra_medical_terms = models.TextField(
        _("extra medical terms for the prescan"),
        blank=True,
        help_text=_("One term per line, in addition to the standard list."),
    )
    # Password policy (seed 001), with secure defaults; the minimum length cannot go below 12.
    password_min_length = models.PositiveSmallIntegerField(
        _("minimum password length"),
        default=12,
        validators=[MinValueValidator(12), MaxValueValidator(128)],
    )
    password_max_age_days = models.PositiveSmallIntegerField(
        _("password expires after (days, 0 = never)"),
        default=365,
        validators=[MaxValueValidator(730)],
    )
    password_history = models.PositiveSmallIntegerField(
        _("recent passwords that may not be reused"), default=5, validators=[MaxValueValidator(24)]
    )
    lockout_attempts = models.PositiveSmallIntegerField(
        _("failed logins before an account locks"),
        default=5,
        # Above 20 the lockout no longer slows a password guesser down meaningfully.
        validators=[MinValueValidator(3), MaxValueValidator(20)],
    )
    lockout_minutes = models.PositiveSmallIntegerField(
        _("minutes an account stays locked"),
        default=15,
        # At most a day: longer only lets a stranger lock a colleague out for good.
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    sms_price_cents = models.PositiveSmallIntegerField(
        _("price per SMS (cents)"),
        default=default_sms_price_cents,
        validators=[MaxValueValidator(1000)],
        help_text=_("What each SMS sent as a second factor costs, in the SMS cost report."),
    )
    allowed_ip_ranges = models.TextField(
        _("allowed IP ranges"),
        blank=True,
        help_text=_(
            "One address or CIDR range per line (IPv4 or IPv6). Empty: every address is allowed."
        ),
    )
    # Whether this environment may store BSNs at all (AVG art. 87 and the UAVG: only with a legal
    # ground, such as the employer's payroll duties). Employee screens read both fields.
    bsn_allowed = models.BooleanField(
        _("BSN may be stored"),
        default=False,
        help_text=_("Only where a legal ground allows this environment to process the BSN."),
    )
    bsn_legal_ground = models.TextField(
        _("legal ground for storing the BSN"),
        blank=True,
        help_text=_("Mandatory when the BSN may be stored; shown to functional admins."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("environment")
        verbose_name_plural = _("environments")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            parse_ranges(self.allowed_ip_ranges)
        except ValidationError as error:
            raise ValidationError({"allowed_ip_ranges": error.messages}) from None
        self.bsn_legal_ground = self.bsn_legal_ground.strip()
        if self.bsn_allowed and not self.bsn_legal_ground:
            raise ValidationError(
                {
                    "bsn_legal_ground": _(
                        "Name the legal ground that allows this environment to store the BSN."
                    )
                }
            )


# The KvK number (Chamber of Commerce, Handelsregister) has eight digits and no check digit, so
# its format is all we can check (python-stdnum has no nl.kvk module).
KVK_NUMBER = RegexValidator(
    r"^[0-9]{8}\Z", _("A Chamber of Commerce (KvK) number has exactly 8 digits.")
)
# The loonheffingennummer: the RSIN/fiscal number (9 digits), "L" and a two-digit sequence.
PAYROLL_TAX_NUMBER = RegexValidator(
    r"^[0-9]{9}L[0-9]{2}\Z",
    _("A payroll tax number has 9 digits, the letter L and 2 digits, e.g. 123456789L01."),
)


def normalise_kvk_number(value: str) -> str:
    """KvK numbers are often written with spaces or dots ("1234 5678")."""
    return re.sub(r"[\s.]", "", value or "")


def normalise_payroll_tax_number(value: str) -> str:
    return re.sub(r"[\s.]", "", value or "").upper()


class Employer(TenantOwned):
    """An employer (werkgever / klant) inside a tenant."""

    name = models.CharField(_("name"), max_length=200)
    # The KvK number; the column keeps its first name.
    registration_number = models.CharField(
        _("Chamber of Commerce number"), max_length=8, blank=True, validators=[KVK_NUMBER]
    )
    payroll_tax_number = models.CharField(
        _("payroll tax number"),
        max_length=12,
        blank=True,
        validators=[PAYROLL_TAX_NUMBER],
        help_text=_("Loonheffingennummer, e.g. 123456789L01."),
    )
    # Own-risk bearer (eigenrisicodrager): the employer carries the Sickness Benefits Act (ZW)
    # or WGA risk itself. Retention keeps those files longer (5 and 10 years).
    own_risk_zw = models.BooleanField(
        _("own-risk bearer for the Sickness Benefits Act (ZW)"), default=False
    )
    own_risk_wga = models.BooleanField(_("own-risk bearer for the WGA"), default=False)
    full_time_hours = models.DecimalField(
        _("full-time hours per week"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("40"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("60"))],
        help_text=_("An employee's part-time factor is their contract hours divided by these."),
    )

    class Meta(TenantOwned.Meta):
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], name="employer_name_unique_in_tenant"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Department(TenantOwned):
    """A department (afdeling) in an employer's tree.

    `path` holds the chain of ancestor ids ("/1/4/9/"), so a subtree is one prefix match.
    """

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="departments")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("name"), max_length=200)
    path = models.CharField(max_length=1000, editable=False, db_index=True)
    # A closed department is no longer offered in forms; it stays for history (employees that
    # worked there, role scopes, audit records). Closing needs no current employees.
    closed_on = models.DateField(_("closed on"), null=True, blank=True, editable=False)

    class Meta(TenantOwned.Meta):
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # The path needs our own id, so a new department is saved once more after its insert.
        super().save(*args, **kwargs)
        prefix = self.parent.path if self.parent_id else "/"
        path = f"{prefix}{self.pk}/"
        if path != self.path:
            self.path = path
            type(self).unscoped.filter(pk=self.pk).update(path=path)

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None


class ProviderKind(models.TextChoices):
    ARBODIENST = "arbodienst", _("Occupational health service")
    VERZEKERAAR = "verzekeraar", _("Insurer")


class ServiceProvider(TenantOwned):
    """An arbodienst or insurer working in this tenant; its contracts decide whom its users see."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ProviderKind.choices)

    class Meta(TenantOwned.Meta):
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class ServiceContract(TenantOwned):
    """An arbodienst serving, or an insurer insuring, an employer from one date to another."""

    provider = models.ForeignKey(
        ServiceProvider, on_delete=models.PROTECT, related_name="contracts"
    )
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="contracts")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["provider__name", "employer__name", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"Contract {self.key}"

    def clean(self) -> None:
        if (
            self.ends_on is not None
            and self.starts_on is not None
            and self.ends_on < self.starts_on
        ):
            raise ValidationError(
                {
                    "ends_on": _("A contract cannot end before it starts (%(date)s).")
                    % {"date": date_format(self.starts_on)}
                }
            )

    def is_active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Role(TenantOwned):
    """A role defined in a tenant, placed in exactly one domain (or none yet: blocked later).

    Its permissions must stay within the domain's ceiling (domains/permissions.py).
    """

    name = models.CharField(_("name"), max_length=100)
    domain = models.CharField(_("domain"), max_length=20, choices=Domain.choices, blank=True)
    permissions = ArrayField(
        models.CharField(max_length=40, choices=Perm.choices), default=list, blank=True
    )
    only_assigned = models.BooleanField(
        _("only assigned employees"),
        default=False,
        help_text=_(
            "Users with this role see only the employees assigned to them (case managers)."
        ),
    )
    reference_key = models.CharField(max_length=40, blank=True, editable=False)
    # An archived role is assigned to nobody new; its current holders keep it (services.py,
    # archive_role, says why).
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)

    class Meta(TenantOwned.Meta):
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["domain", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="role_name_unique_in_tenant"),
            models.UniqueConstraint(
                fields=["tenant", "reference_key"],
                condition=~models.Q(reference_key=""),
                name="one_reference_role_per_key",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        beyond = permissions_beyond_ceiling(self.domain, self.permissions)
        if beyond:
            labels = ", ".join(str(Perm(perm).label) for perm in beyond)
            domain = Domain(self.domain).label if self.domain else _("no domain")
            raise ValidationError(
                {
                    "permissions": _(
                        "These permissions exceed the ceiling of the domain %(domain)s: %(perms)s."
                    )
                    % {"domain": domain, "perms": labels}
                }
            )

    @property
    def is_reference(self) -> bool:
        return bool(self.reference_key)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def permission_labels(self) -> list[str]:
        """The role's permissions by name, in catalogue order."""
        held = set(self.permissions)
        return [str(perm.label) for perm in Perm if perm in held]

    @property
    def has_medical_permissions(self) -> bool:
        return bool(MEDICAL_PERMISSIONS & set(self.permissions))


class AssignmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval by a second admin")
    AWAITING_BIG = "awaiting_big", _("Awaiting the BIG-register check")
    REJECTED = "rejected", _("Rejected")


class RoleAssignment(TenantOwned):
    """A user holding a role, within a scope.

    Werkgever roles are scoped to employers and/or departments (a department includes its
    subtree). Arbodienst, verzekeraar and bedrijfsarts roles work for a service provider and see
    the employers of its current contracts, optionally narrowed to some employers.
    Roles with medical permissions start awaiting a second admin's approval (four-eyes rule).
    """

    user = models.ForeignKey(
        "auth2fa.User", on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    provider = models.ForeignKey(
        ServiceProvider, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments"
    )
    employers = models.ManyToManyField(Employer, blank=True, related_name="+")
    departments = models.ManyToManyField(Department, blank=True, related_name="+")
    status = models.CharField(
        max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ACTIVE
    )
    requested_by = models.ForeignKey(
        "auth2fa.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        "auth2fa.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_assigned_once_per_user")
        ]

    def __str__(self) -> str:
        return f"Role assignment {self.key}"


class BigCheckStatus(models.TextChoices):
    PENDING = "pending", _("Not checked yet")
    VERIFIED = "verified", _("Found in the BIG register")
    NOT_FOUND = "not_found", _("Not found in the BIG register as a doctor")
    NAME_MISMATCH = (
        "name_mismatch",
        _("The BIG register lists this number under another name than this user's"),
    )
    UNREACHABLE = "unreachable", _("The BIG register could not be reached; will retry")


class BigRegistration(TenantOwned):
    """A company doctor's BIG number and the outcome of its lookup in the BIG register."""

    user = models.OneToOneField(
        "auth2fa.User", on_delete=models.CASCADE, related_name="big_registration"
    )
    big_number = models.CharField(_("BIG number"), max_length=11)
    status = models.CharField(
        max_length=20, choices=BigCheckStatus.choices, default=BigCheckStatus.PENDING
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("BIG registration")

    def __str__(self) -> str:
        return f"BIG registration {self.key}"
