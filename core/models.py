"""The tenant-owned base model, and the tenants' wrapped data-encryption keys."""

from __future__ import annotations

import uuid

from django.db import models

from core.tenancy import TenantScopedManager

# The tenant model, by its label: tenants (environments) belong to the organisation layer above.
TENANT_MODEL = "domains.Tenant"


class TenantOwned(models.Model):
    """Base of every row that belongs to a tenant: carries the tenant, queried only in scope."""

    tenant = models.ForeignKey(TENANT_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    # Django's internal lookups (related objects, deletion, saving) only; code uses `objects`.
    unscoped = models.Manager()
    objects = TenantScopedManager()

    class Meta:
        abstract = True
        base_manager_name = "unscoped"
        default_manager_name = "objects"


class TenantDataKey(models.Model):
    """A tenant's data-encryption key, stored only wrapped (encrypted) by a master key.

    Several versions may exist; ciphertexts name the version that sealed them. Rotating the
    master key re-wraps these rows; the data keys themselves, and so every ciphertext, stay.
    """

    tenant = models.ForeignKey(TENANT_MODEL, on_delete=models.PROTECT, related_name="data_keys")
    version = models.PositiveIntegerField()
    master_key_id = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table it had when it lived in the domains app.
        db_table = "domains_tenantdatakey"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "version"], name="one_data_key_per_version")
        ]

    def __str__(self) -> str:
        return f"Data key v{self.version} of tenant {self.tenant_id}"
