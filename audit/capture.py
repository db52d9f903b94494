"""Capturing changes to personal data and access settings as audit events, with django-auditlog.

auditlog watches the registered models and computes what changed (its receivers and
model_instance_diff). AUDITLOG_LOGENTRY_MODEL points it at ChangeCapture (audit/models.py), a
LogEntry that is never stored: its manager turns each captured change into an outbox event that
keeps only the names of the changed fields, in the same transaction as the change.

The audit trail is a sink: it imports no app. Each app registers its own models with `track()`
from its AppConfig.ready(). A tracked model tells whose data a row is about (the NEN 7513
"client") through an `audit_subject_key()` method; rows without one name no client.
"""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.db import models
from django.db.models.signals import pre_save

from audit.codes import AUDITLOG_ACTIONS, Action
from core.encryption import SealedBytes

# Fields whose change is noise, or recorded by an event of its own (logins, 2FA throttling).
NOT_TRACKED = [
    "last_login", "throttling_failure_timestamp", "throttling_failure_count", "last_t",
    "last_used_at",
]  # fmt: skip
# The tenant model, by label: a change to a tenant is in that tenant's own chain.
TENANT_LABEL = "domains.tenant"


def _subject_key(instance: Any) -> Any:
    """The key of the employee whose data the row is about (the NEN 7513 "client")."""
    subject_key = getattr(instance, "audit_subject_key", None)
    return subject_key() if subject_key is not None else None


def _tenant_of(instance: Any) -> Any:
    if instance._meta.label_lower == TENANT_LABEL:
        return instance
    if getattr(instance, "tenant_id", None) is None and getattr(instance, "user_id", None):
        return instance.user.tenant  # a second factor or recovery code: its owner's tenant
    return None  # build_event takes the tenant from the object itself


class ChangeCaptureManager(models.Manager):
    """Where auditlog would insert a LogEntry, we record an audit event instead."""

    def log_create(self, instance: Any, force_log: bool = False, **kwargs: Any) -> None:
        from audit.events import build_event, record_change  # events imports the models

        action, verb = AUDITLOG_ACTIONS[kwargs["action"]]
        names = set(kwargs.get("changes") or {}) | _changed_sealed_columns(instance)
        fields = sorted(name.removesuffix("_sealed") for name in names if name not in NOT_TRACKED)
        if action == Action.UPDATE and not fields:
            return
        record_change(
            build_event(
                f"{instance._meta.label_lower}.{verb}",
                action,
                obj=instance,
                subject=_subject_key(instance),
                changed_fields=fields if action == Action.UPDATE else [],
                tenant=_tenant_of(instance),
            )  # fmt: skip
        )
        return  # nothing stored here, so auditlog sends no post_log

    def log_m2m_changes(
        self, changed_queryset: Any, instance: Any, operation: Any, field_name: str, **kwargs: Any
    ) -> None:
        from audit.events import build_event, record_change  # events imports the models

        record_change(
            build_event(
                f"{instance._meta.label_lower}.update",
                Action.UPDATE,
                obj=instance,
                changed_fields=[field_name],
                tenant=_tenant_of(instance),
            )  # fmt: skip
        )


def sealed_columns(model: type[models.Model]) -> list[str]:
    """The encrypted columns of a model (behind its SealedBytes/SealedText attributes)."""
    return [attr.column for attr in vars(model).values() if isinstance(attr, SealedBytes)]


def _remember_sealed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    # auditlog cannot compare these (bytes); remember the old ciphertexts to compare ourselves.
    columns = sealed_columns(sender)
    old = None
    if instance.pk is not None and not raw:
        old = sender._base_manager.filter(pk=instance.pk).values(*columns).first()
    instance._audit_old_sealed = old


def _changed_sealed_columns(instance: Any) -> set[str]:
    old = getattr(instance, "_audit_old_sealed", None)
    if old is None:
        return set()
    return {
        column
        for column, value in old.items()
        if _bytes(value) != _bytes(getattr(instance, column))
    }


def _bytes(value: Any) -> bytes | None:
    return bytes(value) if value is not None else None


def track(
    model: type[models.Model], *, m2m_fields: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> None:
    """Record every change of `model` (called by the model's own app, in its ready()).

    `exclude`: fields whose change is noise or recorded by an event of its own (a one-time code,
    a key's counter). Sealed (encrypted) columns are compared by their ciphertext."""
    sealed = sealed_columns(model)
    if sealed:
        # Connected before auditlog's own receivers, which run in order of connection.
        pre_save.connect(
            _remember_sealed, sender=model, dispatch_uid=f"audit-sealed-{model._meta.label}"
        )
    if not auditlog.contains(model):
        auditlog.register(
            model,
            exclude_fields=[*NOT_TRACKED, *sealed, *exclude],
            m2m_fields=set(m2m_fields),
            serialize_data=False,
        )
