"""Background writing of the audit trail.

store_events acknowledges late (after the write), so a worker killed mid-batch leaves the
message to be delivered again; the write is idempotent, so that makes no duplicates.
drain_outbox moves outbox rows into the audit store; it runs after each commit that wrote
some and periodically (beat), which also catches up after Redis was down.
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from audit.chain import write_events
from audit.models import OutboxEvent

DRAIN_BATCH = 1000


@shared_task(acks_late=True, reject_on_worker_lost=True)
def store_events(events: list[dict]) -> int:
    return write_events(events)


@shared_task
def drain_outbox() -> int:
    """Ship outbox rows in batches; each batch is deleted only after the audit store has it."""
    shipped = 0
    while True:
        with transaction.atomic():
            batch = list(
                OutboxEvent.objects.select_for_update(skip_locked=True).order_by("pk")[:DRAIN_BATCH]
            )
            if not batch:
                return shipped
            write_events([row.payload for row in batch])
            OutboxEvent.objects.filter(pk__in=[row.pk for row in batch]).delete()
            shipped += len(batch)


@shared_task
def build_export(export_pk: int) -> None:
    from audit.models import AuditExport, ExportStatus
    from audit.services import build_export_files
    from core.tenancy import all_tenants

    with all_tenants():
        export = AuditExport.objects.select_related("tenant").get(pk=export_pk)
        try:
            build_export_files(export)
        except Exception:
            AuditExport.objects.filter(pk=export_pk).update(status=ExportStatus.FAILED)
            raise


@shared_task
def remove_expired_exports() -> int:
    from audit.services import remove_expired_exports as remove
    from core.tenancy import all_tenants

    with all_tenants():
        return remove()
