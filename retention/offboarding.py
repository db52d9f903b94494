"""Offboarding a customer (issue 14, deliverable 7): export the environment's data for the
customer, destroy its data keys (crypto-shredding: every sealed value, in the database, in a
backup or a copy, becomes unreadable), then delete its rows.

Two operators: one asks (`request_offboarding`), a second one approves and receives the
approval code (`approve_offboarding`), the first carries it out with that code and the
environment's name typed in full (`offboard`). The audit store keeps its pseudonymous records;
the environment's audit chain is left intact.

Which rows belong to the environment is found from the foreign keys, not from a list: every
table with a foreign key to the tenant, and every table with one to such a table, and so on
(m2m tables, second factors, password history, grants). They are deleted with one statement per
table inside one transaction; PostgreSQL's deferred foreign-key checks run at its end
(SET CONSTRAINTS ALL IMMEDIATE), so a row of another environment that still pointed at one of
them would roll everything back.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import connection, models, router, transaction
from django.utils import timezone

from audit.codes import Action
from audit.events import build_event, record_change
from core import encryption
from core.encryption import SealedBytes, SealedText
from core.exports import safe_cell
from core.models import TenantDataKey
from domains.models import Tenant
from retention.models import Offboarding

# Never exported: secrets, and the audit trail's own rows (handed out by the audit process).
NOT_EXPORTED = {"password", "bsn_index"}
NOT_EXPORTED_MODELS = {
    "core.tenantdatakey", "auth2fa.passwordhistory", "auth2fa.recoverycode",
    "auth2fa.authenticatorapp", "auth2fa.smsdevice", "auth2fa.securitykey", "otp_totp.totpdevice",
}  # fmt: skip
SKIPPED_APPS = {"auditlog"}  # models of the audit store are left by the router check


class OffboardingRefused(Exception):
    pass


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


@transaction.atomic
def request_offboarding(*, tenant: Tenant, operator: str) -> Offboarding:
    if not operator:
        raise OffboardingRefused("Name the operator (--operator).")
    return Offboarding.objects.create(
        tenant_id=tenant.pk, tenant_key=tenant.key, requested_by=operator
    )


@transaction.atomic
def approve_offboarding(*, offboarding: Offboarding, operator: str) -> str:
    """The second operator approves; returns the approval code (only its hash is kept)."""
    if offboarding.approved_at is not None or offboarding.completed_at is not None:
        raise OffboardingRefused("This offboarding has been approved already.")
    if not operator or operator == offboarding.requested_by:
        raise OffboardingRefused("A second operator, not the one who asked, must approve.")
    code = secrets.token_hex(10)
    offboarding.approved_by = operator
    offboarding.approved_at = timezone.now()
    offboarding.approval_code_hash = _hash(code)
    offboarding.save()
    return code


@dataclass
class Plan:
    """The tables of an environment, each with the SQL condition that selects its rows."""

    conditions: list[tuple[type[models.Model], str]]


def _tenant_tables() -> Plan:
    """Resolve, from the foreign keys, every model whose rows belong to a tenant: parents first."""
    tenant_table = Tenant._meta.db_table
    resolved: dict[type[models.Model], str] = {Tenant: f"{_q(tenant_table)}.id = %(tenant)s"}
    order: list[tuple[type[models.Model], str]] = []
    candidates = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label not in SKIPPED_APPS
        and not m._meta.proxy
        and m._meta.managed
        and router.db_for_write(m) == "default"
    ]
    changed = True
    while changed:
        changed = False
        for model in candidates:
            if model in resolved:
                continue
            fks = [
                f
                for f in model._meta.concrete_fields
                if f.is_relation and f.many_to_one or (f.is_relation and f.one_to_one)
            ]
            # The tenant's own foreign key first: it is the ownership (an SMS record's
            # employer is not).
            fks.sort(key=lambda f: 0 if f.related_model is Tenant else 1)
            for fk in fks:
                parent = fk.related_model
                if parent in resolved and parent is not model and not fk.null or (parent is Tenant):
                    parent_table = _q(parent._meta.db_table)
                    parent_pk = _q(str(parent._meta.pk.column))
                    # Names from the models, the tenant's id a bound parameter.
                    condition = (
                        f"{_q(model._meta.db_table)}.{_q(str(fk.column))} IN "  # noqa: S608
                        f"(SELECT {parent_table}.{parent_pk} FROM {parent_table} "
                        f"WHERE {resolved[parent]})"
                    )
                    resolved[model] = condition
                    order.append((model, condition))
                    changed = True
                    break
    return Plan(conditions=order)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _sealed_attributes(model: type[models.Model]) -> list[tuple[str, SealedBytes]]:
    found: list[tuple[str, SealedBytes]] = []
    for klass in model.__mro__:
        for name, value in vars(klass).items():
            if isinstance(value, SealedBytes) and name not in [n for n, _v in found]:
                found.append((name, value))
    return found


def export_environment(tenant: Tenant, target: Path) -> Path:
    """A zip for the customer: one CSV per table (sealed values opened, secrets left out) and
    each stored file (documents, import files) as a file of its own."""
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"export-{tenant.key}.zip"
    plan = _tenant_tables()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for model, condition in [(Tenant, f"{_q(Tenant._meta.db_table)}.id = %(tenant)s")] + list(
            plan.conditions
        ):
            if model._meta.label_lower in NOT_EXPORTED_MODELS:
                continue
            fields = [
                f
                for f in model._meta.concrete_fields
                if f.name not in NOT_EXPORTED and not isinstance(f, models.BinaryField)
            ]
            sealed = _sealed_attributes(model)
            header = [f.column for f in fields] + [name for name, _a in sealed]
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=";")
            writer.writerow(header)
            manager = getattr(model, "unscoped", model._default_manager)
            # The condition is built from model names only; the tenant id is an integer.
            where = condition % {"tenant": int(tenant.pk)}
            rows = manager.extra(where=[where]).order_by("pk")  # noqa: S610
            for row in rows.iterator():
                values = [safe_cell(getattr(row, f.attname)) for f in fields]
                for name, attribute in sealed:
                    try:
                        value = getattr(row, name)
                    except encryption.DecryptionError:
                        value = None
                    if isinstance(attribute, SealedText) or value is None:
                        values.append(safe_cell(value or ""))
                    else:
                        member = f"files/{model._meta.label_lower}/{row.pk}-{name}"
                        archive.writestr(member, value)
                        values.append(member)
                writer.writerow(values)
            archive.writestr(f"{model._meta.label_lower}.csv", buffer.getvalue().encode("utf-8"))
    return path


@transaction.atomic
def destroy_data_keys(tenant: Tenant) -> int:
    """Crypto-shredding: the environment's data keys go, and with them the means to open any
    sealed value of it, wherever a copy of the ciphertext is (backups included)."""
    deleted, _per_model = TenantDataKey.objects.filter(tenant_id=tenant.pk).delete()
    for cached in [k for k in encryption._data_keys if k[0] == tenant.pk]:
        encryption._data_keys.pop(cached, None)
    return deleted


@transaction.atomic
def delete_environment_rows(tenant: Tenant) -> dict[str, int]:
    """Delete every row of the environment, children first, the tenant row last."""
    counts: dict[str, int] = {}
    plan = _tenant_tables()
    with connection.cursor() as cursor:
        for model, condition in reversed(plan.conditions):
            cursor.execute(
                f"DELETE FROM {_q(model._meta.db_table)} WHERE {condition}",  # noqa: S608
                {"tenant": tenant.pk},
            )
            if cursor.rowcount:
                counts[model._meta.label_lower] = cursor.rowcount
        cursor.execute(f"DELETE FROM {_q(Tenant._meta.db_table)} WHERE id = %s", [tenant.pk])  # noqa: S608
        counts[Tenant._meta.label_lower] = cursor.rowcount
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys are checked now
    return counts


def offboard(
    *, offboarding: Offboarding, operator: str, approval_code: str, typed_name: str, export_to: Path
) -> tuple[Path, dict[str, int]]:
    """Carry out an approved offboarding: export, destroy the keys, delete the rows."""
    if offboarding.completed_at is not None:
        raise OffboardingRefused("This environment has been offboarded already.")
    if offboarding.approval_code_hash == "" or not secrets.compare_digest(
        offboarding.approval_code_hash, _hash(approval_code)
    ):
        raise OffboardingRefused("The approval code is not correct.")
    if operator != offboarding.requested_by:
        raise OffboardingRefused("The operator who asked for the offboarding carries it out.")
    tenant = Tenant.objects.get(pk=offboarding.tenant_id)
    if typed_name != tenant.name:
        raise OffboardingRefused("Type the environment's name exactly to confirm.")
    path = export_environment(tenant, export_to)
    destroy_data_keys(tenant)
    with transaction.atomic():
        record_change(
            build_event(
                "environment.offboard", Action.DELETE, tenant=tenant, object_type="domains.tenant",
                object_key=tenant.key,
            )
        )  # fmt: skip
        counts = delete_environment_rows(tenant)
        Offboarding.objects.filter(pk=offboarding.pk).update(
            completed_at=timezone.now(), rows_deleted=sum(counts.values())
        )
    return path, counts
