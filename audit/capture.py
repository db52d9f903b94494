"""Capturing changes to personal data and access settings as audit events, with django-auditlog.

auditlog watches the registered models and computes what changed (its receivers and
model_instance_diff). AUDITLOG_LOGENTRY_MODEL points it at ChangeCapture (audit/models.py), a
LogEntry that is never stored: its manager turns each captured change into an outbox event that
keeps only the names of the changed fields, in the same transaction as the change.
"""

from __future__ import annotations

from auditlog.registry import auditlog
from django.db import models
from django.db.models.signals import pre_save

from domains.encryption import SealedBytes

# Fields whose change is noise, or recorded by an event of its own (logins, 2FA throttling).
NOT_TRACKED = [
    "last_login", "throttling_failure_timestamp", "throttling_failure_count", "last_t",
    "last_used_at",
]  # fmt: skip
# Per model: a second factor's one-time code and its expiry change at every SMS (the sending is
# an event of its own), a key's counter at every use.
NOT_TRACKED_OF = {
    "auth2fa.smsdevice": ["token", "valid_until"],
    "auth2fa.securitykey": ["sign_count", "credential_data"],
}
# auditlog's action numbers (LogEntry.Action) -> ours; audit.models imports this module, so the
# numbers are spelled out here: CREATE 0, UPDATE 1, DELETE 2, ACCESS 3.
ACTIONS = {0: ("C", "create"), 1: ("U", "update"), 2: ("D", "delete"), 3: ("R", "view")}


def _subject_key(instance):
    """The key of the employee whose data the row is about (the NEN 7513 "client")."""
    from employees.models import Employee

    if isinstance(instance, Employee):
        return instance.key
    employee_id = getattr(instance, "employee_id", None) or getattr(
        instance, "content_object_id", None
    )
    if employee_id is None and getattr(instance, "case_id", None):
        from cases.models import AbsenceCase

        employee_id = (
            AbsenceCase.unscoped.filter(pk=instance.case_id)
            .values_list("employee_id", flat=True)
            .first()
        )
    if employee_id is None:
        return None
    return Employee.unscoped.filter(pk=employee_id).values_list("key", flat=True).first()


def _tenant_of(instance):
    from domains.models import Tenant

    if isinstance(instance, Tenant):
        return instance
    if getattr(instance, "tenant_id", None) is None and getattr(instance, "user_id", None):
        return instance.user.tenant  # a second factor or recovery code: its owner's tenant
    return None  # build_event takes the tenant from the object itself


class ChangeCaptureManager(models.Manager):
    """Where auditlog would insert a LogEntry, we record an audit event instead."""

    def log_create(self, instance, force_log: bool = False, **kwargs):
        from audit.events import build_event, record_change

        action, verb = ACTIONS[kwargs["action"]]
        names = set(kwargs.get("changes") or {}) | _changed_sealed_columns(instance)
        fields = sorted(name.removesuffix("_sealed") for name in names if name not in NOT_TRACKED)
        if action == "U" and not fields:
            return None
        record_change(
            build_event(
                f"{instance._meta.label_lower}.{verb}",
                action,
                obj=instance,
                subject=_subject_key(instance),
                changed_fields=fields if action == "U" else [],
                tenant=_tenant_of(instance),
            )  # fmt: skip
        )
        return None  # nothing stored here, so auditlog sends no post_log

    def log_m2m_changes(self, changed_queryset, instance, operation, field_name, **kwargs):
        from audit.events import build_event, record_change

        record_change(
            build_event(
                f"{instance._meta.label_lower}.update",
                "U",
                obj=instance,
                changed_fields=[field_name],
                tenant=_tenant_of(instance),
            )  # fmt: skip
        )
        return None


def sealed_columns(model) -> list[str]:
    """The encrypted columns of a model (behind its SealedBytes/SealedText attributes)."""
    return [attr.column for attr in vars(model).values() if isinstance(attr, SealedBytes)]


def _remember_sealed(sender, instance, raw=False, **kwargs) -> None:
    # auditlog cannot compare these (bytes); remember the old ciphertexts to compare ourselves.
    columns = sealed_columns(sender)
    old = None
    if instance.pk is not None and not raw:
        old = sender._base_manager.filter(pk=instance.pk).values(*columns).first()
    instance._audit_old_sealed = old


def _changed_sealed_columns(instance) -> set[str]:
    old = getattr(instance, "_audit_old_sealed", None)
    if old is None:
        return set()
    return {
        column
        for column, value in old.items()
        if _bytes(value) != _bytes(getattr(instance, column))
    }


def _bytes(value) -> bytes | None:
    return bytes(value) if value is not None else None


def tracked_models() -> list[tuple]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from audit.models import AuditExport
    from auth2fa.models import RecoveryCode, SecurityKey, SMSDevice, User
    from cases import models as cases
    from domains import models as domains
    from employees.models import Employee, EmployeeUserObjectPermission

    return [
        (domains.Tenant, ()), (domains.Employer, ()), (domains.Department, ()),
        (domains.ServiceProvider, ()), (domains.ServiceContract, ()), (domains.Role, ()),
        (domains.RoleAssignment, ("employers", "departments")), (domains.BigRegistration, ()),
        (Employee, ()), (EmployeeUserObjectPermission, ()),
        (cases.AbsenceCase, ()), (cases.AbsencePeriod, ()), (cases.IncapacityChange, ()),
        (cases.CaseCorrection, ()), (cases.CaseNote, ()), (cases.CaseDocument, ()),
        (cases.MedicalNote, ()), (cases.MedicalDocument, ()), (cases.Milestone, ()),
        (User, ()), (RecoveryCode, ()), (TOTPDevice, ()), (SMSDevice, ()), (SecurityKey, ()),
        (AuditExport, ()),
    ]  # fmt: skip


def connect() -> None:
    for model, m2m_fields in tracked_models():
        sealed = sealed_columns(model)
        if sealed:
            # Connected before auditlog's own receivers, which run in order of connection.
            pre_save.connect(
                _remember_sealed, sender=model, dispatch_uid=f"audit-sealed-{model._meta.label}"
            )
        if not auditlog.contains(model):
            auditlog.register(
                model,
                exclude_fields=[
                    *NOT_TRACKED,
                    *sealed,
                    *NOT_TRACKED_OF.get(model._meta.label_lower, []),
                ],
                m2m_fields=set(m2m_fields),
                serialize_data=False,
            )
