"""The audit trail (NEN 7513): who did or saw what, when, in which role, with which outcome —
never the data itself.

- AuditEvent: the record, in the separate append-only "audit" database, chained per tenant by
  hashes so that a changed, removed or inserted record is detected (audit_verify).
- OutboxEvent: an event waiting to be written, in the application's database, committed in the
  same transaction as the change it describes (transactional outbox).
- AuditExport: an auditor's request for an export, approved by a second person.
- ChainCheckpoint: per tenant, the last record of its chain the writer stored (sequence and
  hash), signed, in the application's database: out of reach of the audit store's roles, so a
  truncated store or a chain cut short is detected (audit_verify).

Why not django-auditlog's LogEntry as the record: it stores field values (changes,
serialized_data) and str(object), which may be personal data; it has foreign keys to users and
content types, which cannot point into a separate database; and it is written synchronously in
the request's own transaction. We use auditlog for what fits: its registry of tracked models and
its change detection (audit/capture.py), keeping only the names of changed fields.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from auditlog.models import AbstractLogEntry
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.capture import ChangeCaptureManager
from audit.codes import EVENT_FIELDS, Action, Outcome
from core.models import TenantOwned

__all__ = ["EVENT_FIELDS", "Action", "Outcome"]  # the vocabulary, named here as well


class AuditEvent(models.Model):
    """One audit record. Pseudonymous keys only: no names, BSN, dates of birth, texts or values."""

    event_id = models.UUIDField(unique=True)
    tenant_key = models.UUIDField(null=True)
    sequence = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=1, choices=Action.choices)
    event_type = models.CharField(max_length=60)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    actor_key = models.UUIDField(null=True)
    actor_account_type = models.CharField(max_length=20, blank=True)
    actor_domain = models.CharField(max_length=20, blank=True)
    actor_roles = models.CharField(max_length=300, blank=True)
    on_behalf_of = models.UUIDField(null=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_key = models.UUIDField(null=True)
    subject_key = models.UUIDField(null=True)  # the employee ("client") whose data it concerns
    changed_fields = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    result_count = models.IntegerField(null=True)
    client_ip = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "sequence"], name="one_record_per_place_in_chain"
            )
        ]
        indexes = [
            models.Index(fields=["tenant_key", "occurred_at"], name="audit_tenant_time"),
            models.Index(fields=["subject_key", "occurred_at"], name="audit_subject_time"),
            models.Index(fields=["actor_key", "occurred_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"Audit event {self.event_id}"


class ChainCheckpoint(models.Model):
    """How far a tenant's chain in the audit store reached, as its writer last saw it: the
    sequence and hash of a record, with an HMAC over them (settings.AUDIT_CHECKPOINT_KEY). Lives
    in the "default" database (audit/router.py); only ever moves forward (audit/chain.py). Holds
    no personal data: a pseudonymous tenant key, a number and two digests."""

    tenant_key = models.UUIDField(null=True)  # None: the chain of events without a tenant
    sequence = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key"], name="one_checkpoint_per_chain", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"Checkpoint of chain {self.tenant_key}"


class ChangeCapture(AbstractLogEntry):
    """django-auditlog's LogEntry as the base of our change records (AUDITLOG_LOGENTRY_MODEL),
    never stored: its manager records an audit event with the changed field names instead
    (audit/capture.py). Unmanaged: it has no table."""

    objects = ChangeCaptureManager()

    class Meta:
        managed = False

    def __str__(self) -> str:
        return "Change capture"


class JSONText(models.Field):
    """JSON kept as its text. The outbox is written far more often than it is read (every page
    of personal data, 200,000 events in an import of 100,000 employees) and read once, by the
    drain: jsonb would parse and re-encode every event on the way in, which took longer than
    storing it (bench/imports.py)."""

    # What the field takes and gives, for django-stubs' type checks.
    _pyi_private_set_type: dict[str, Any]
    _pyi_private_get_type: dict[str, Any]

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def get_prep_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"))


class OutboxEvent(models.Model):
    """An event not yet in the audit store. Lives in the application database, so it commits or
    rolls back together with the change it describes; Celery ships it and then deletes it."""

    event_id = models.UUIDField(unique=True)
    payload = JSONText()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Outbox event {self.event_id}"


class ExportReason(models.TextChoices):
    AUDIT = "audit", _("Audit")
    SECURITY_INCIDENT = "security_incident", _("Security incident")


class ExportStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    REJECTED = "rejected", _("Rejected")
    BUILDING = "building", _("Being built")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Failed")


class AuditExport(TenantOwned):
    """An auditor's request for an export of the audit trail of their tenant."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=20, choices=ExportReason.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    employee_key = models.UUIDField(_("only this employee (unique key)"), null=True, blank=True)
    user_key = models.UUIDField(_("only this user (key)"), null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ExportStatus.choices, default=ExportStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.IntegerField(default=0)
    rows_done = models.IntegerField(default=0)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    file_token = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta(TenantOwned.Meta):
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Audit export {self.key}"

    @property
    def progress_percent(self) -> int:
        if self.status == ExportStatus.READY:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
