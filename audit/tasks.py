"""Background writing of the audit trail.

drain_outbox moves outbox rows (application database) into the audit store (its own database)
and deletes them only after the store committed. It runs when a request or a commit wakes it
(through Redis) and every few seconds from beat (AUDIT_DRAIN_SECONDS), so a lost wake-up, a
Redis that lost its data or a worker killed mid-batch delays events by seconds and loses none:
the rows stay in the outbox until a drain has stored them.
"""

from __future__ import annotations

from celery import shared_task
from django.db import connection, transaction

from audit.chain import write_events
from audit.models import OutboxEvent

DRAIN_BATCH = 1000
# The drain holds its rows locked (FOR UPDATE SKIP LOCKED) in a transaction of the application
# database while it writes them to the audit store; that session is idle meanwhile. If the worker
# dies without its connection closing (a host gone, a network cut), PostgreSQL ends the session
# after this long and the rows are free for the next drain: the lease on a batch.
LEASE_SECONDS = 30


@shared_task(ignore_result=True)
def drain_outbox() -> int:
    """Ship outbox rows in batches; each batch is deleted only after the audit store has it.

    Concurrent drains take disjoint batches (SKIP LOCKED). A drain killed after the audit store
    committed but before its delete leaves the rows to the next drain, which finds their event
    ids already stored and skips them (audit/chain.py): no duplicates, nothing lost."""
    shipped = 0
    while True:
        with transaction.atomic():
            if len(connection.atomic_blocks) == 1:  # our own transaction, not a caller's
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SET LOCAL idle_in_transaction_session_timeout = '{LEASE_SECONDS}s'"
                    )
            batch = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "payload")[:DRAIN_BATCH]
            )
            if not batch:
                return shipped
            write_events([payload for _pk, payload in batch])  # commits in the audit store
            OutboxEvent.objects.filter(pk__in=[pk for pk, _payload in batch]).delete()
            shipped += len(batch)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def store_events(events: list[dict]) -> int:
    """Messages queued by the version before the outbox-first write path (events carried in
    the message itself): kept so that those still in Redis at an upgrade are stored."""
    return write_events(events)


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
