"""Audit exports: requested by an auditor, approved by a second person, built by Celery."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.chain import record_as_event
from audit.events import record_event
from audit.models import EVENT_FIELDS, Action, AuditEvent, AuditExport, ExportStatus, Outcome
from audit.router import AUDIT_DB
from core.accounts import Account, AccountType, independent_of
from core.exports import SafeCsvWriter

APPROVERS = {AccountType.AUDITOR, AccountType.FUNCTIONAL_ADMIN}
PROGRESS_EVERY = 2000


def export_path(export: AuditExport, extension: str) -> Path:
    return Path(settings.AUDIT_EXPORT_DIR) / f"{export.file_token}.{extension}"


@transaction.atomic
def request_export(*, by: Account, **fields: Any) -> AuditExport:
    if by.account_type != AccountType.AUDITOR:
        raise PermissionDenied
    if fields["period_end"] < fields["period_start"]:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    # The account model lives in a layer above this one; any Account is an instance of it.
    export = AuditExport.objects.create(tenant_id=by.tenant_id, requested_by=by, **fields)  # type: ignore[misc]
    record_event("audit_export.request", Action.CREATE, obj=export, actor=by)
    return export


@transaction.atomic
def decide_export(*, export: AuditExport, by: Account, approve: bool) -> AuditExport:
    """A second person with approval rights (an auditor or functional admin, never the
    requester) approves or rejects; an approved export is built in the background."""
    export = AuditExport.objects.select_for_update().get(pk=export.pk)
    if by.account_type not in APPROVERS or by.tenant_id != export.tenant_id:
        raise PermissionDenied
    if export.requested_by_id == by.pk:
        raise ValidationError(_("Someone else must approve your request."))
    if not by.is_active or by.awaiting_approval:
        raise PermissionDenied
    if approve and not independent_of(by, export.requested_by):
        raise ValidationError(
            _(
                "An account the requester created or approved cannot approve the request: "
                "the second person must be independent."
            )
        )
    if export.status != ExportStatus.REQUESTED:
        raise ValidationError(_("This request has already been decided."))
    export.decided_by, export.decided_at = by, timezone.now()  # type: ignore[assignment]  # as above
    export.status = ExportStatus.BUILDING if approve else ExportStatus.REJECTED
    export.save(update_fields=["decided_by", "decided_at", "status"])
    record_event(
        "audit_export.decide", Action.EXECUTE, obj=export, actor=by,
        outcome=Outcome.SUCCESS if approve else Outcome.DENIED,
    )  # fmt: skip
    if approve:
        from audit.tasks import build_export

        transaction.on_commit(lambda: build_export.delay(export.pk))
    return export


def matching_records(export: AuditExport):
    records = AuditEvent.objects.using(AUDIT_DB).filter(
        tenant_key=export.tenant.key,
        occurred_at__date__gte=export.period_start,
        occurred_at__date__lte=export.period_end,
    )
    if export.employee_key:
        records = records.filter(subject_key=export.employee_key)
    if export.user_key:
        records = records.filter(actor_key=export.user_key)
    return records.order_by("sequence")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def build_export_files(export: AuditExport) -> None:
    """Write the CSV and JSON files, streaming from the database with constant memory."""
    records = matching_records(export)
    export.rows_total, export.rows_done = records.count(), 0
    export.save(update_fields=["rows_total", "rows_done"])
    Path(settings.AUDIT_EXPORT_DIR).mkdir(parents=True, exist_ok=True)
    columns = ["sequence", *EVENT_FIELDS, "hash"]
    with (
        export_path(export, "csv").open("w", newline="", encoding="utf-8") as csv_file,
        export_path(export, "json").open("w", encoding="utf-8") as json_file,
    ):
        writer = SafeCsvWriter(csv_file, delimiter=",")
        writer.writerow(columns)
        json_file.write("[\n")
        for number, record in enumerate(records.iterator(chunk_size=PROGRESS_EVERY), start=1):
            row = {"sequence": record.sequence, **record_as_event(record), "hash": record.hash}
            writer.writerow([_cell(row[column]) for column in columns])
            json_file.write(("" if number == 1 else ",\n") + json.dumps(row, default=_cell))
            if number % PROGRESS_EVERY == 0:
                AuditExport.objects.filter(pk=export.pk).update(rows_done=number)
        json_file.write("\n]\n")
    now = timezone.now()
    export.rows_done, export.status = export.rows_total, ExportStatus.READY
    export.ready_at, export.expires_at = now, now + timedelta(hours=settings.AUDIT_EXPORT_HOURS)
    export.save(update_fields=["rows_done", "status", "ready_at", "expires_at"])
    record_event("audit_export.build", Action.EXECUTE, obj=export, result_count=export.rows_total)


def remove_expired_exports() -> int:
    removed = 0
    for export in AuditExport.objects.filter(
        status=ExportStatus.READY, expires_at__lt=timezone.now()
    ):
        for extension in ("csv", "json"):
            export_path(export, extension).unlink(missing_ok=True)
        removed += 1
    return removed
