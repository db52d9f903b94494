"""Tenancy (environments, employers, departments), tenant data keys, and the four domains."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from verzuim.tenancy import TenantScopedManager


class Tenant(models.Model):
    """An environment (omgeving): one customer installation. The root of all tenant data."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("environment")
        verbose_name_plural = _("environments")

    def __str__(self) -> str:
        return self.name


class TenantOwned(models.Model):
    """Base of every row that belongs to a tenant: carries the tenant, queried only in scope."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    # Django's internal lookups (related objects, deletion, saving) only; code uses `objects`.
    unscoped = models.Manager()
    objects = TenantScopedManager()

    class Meta:
        abstract = True
        base_manager_name = "unscoped"
        default_manager_name = "objects"


class Employer(TenantOwned):
    """An employer (werkgever / klant) inside a tenant."""

    name = models.CharField(_("name"), max_length=200)
    registration_number = models.CharField(
        _("Chamber of Commerce number"), max_length=8, blank=True
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


class TenantDataKey(models.Model):
    """A tenant's data-encryption key, stored only wrapped (encrypted) by a master key.

    Several versions may exist; ciphertexts name the version that sealed them. Rotating the
    master key re-wraps these rows; the data keys themselves, and so every ciphertext, stay.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="data_keys")
    version = models.PositiveIntegerField()
    master_key_id = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="one_data_key_per_version")
        ]

    def __str__(self) -> str:
        return f"Data key v{self.version} of tenant {self.tenant_id}"


class Domain(models.TextChoices):
    """The four domains: each a ceiling on what any role placed in it may do."""

    WERKGEVER = "werkgever", _("Employer")
    ARBODIENST = "arbodienst", _("Occupational health service")
    VERZEKERAAR = "verzekeraar", _("Insurer")
    BEDRIJFSARTS = "bedrijfsarts", _("Company doctor")


class Role(TenantOwned):
    """A role defined in a tenant, placed in exactly one domain (or none yet: blocked later)."""

    name = models.CharField(_("name"), max_length=100)
    domain = models.CharField(_("domain"), max_length=20, choices=Domain.choices, blank=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["domain", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="role_name_unique_in_tenant")
        ]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(TenantOwned):
    """A user holding a role."""

    user = models.ForeignKey(
        "auth2fa.User", on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")

    class Meta(TenantOwned.Meta):
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_assigned_once_per_user")
        ]

    def __str__(self) -> str:
        return f"Role assignment {self.key}"
