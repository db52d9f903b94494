"""Recording audit events.

- Changes: `record_change` writes the event to the outbox in the current transaction, so the
  change and its event commit (or roll back) together; after the commit Celery ships it.
- Views of personal data: `record_read` collects the event on the request; AuditMiddleware hands
  the request's events to Celery before the response is sent. If the broker cannot take them they
  go to the outbox synchronously; if that fails too the page answers 503 rather than show
  unaudited data (AuditUnavailable).

An event holds the NEN 7513 fields with pseudonymous keys only; see audit/models.py.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import DatabaseError, router, transaction
from django.utils import timezone

from audit.models import Action, OutboxEvent, Outcome
from core.actors import actor_facts

logger = logging.getLogger(__name__)


class AuditUnavailable(Exception):
    """Neither the broker nor the outbox could take an event."""


@dataclass
class RequestAudit:
    """Who is acting in the current request, and the read events it collected."""

    user: object = None
    client_ip: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    reads: list[dict] = field(default_factory=list)


_current: ContextVar[RequestAudit | None] = ContextVar("verzuim_request_audit", default=None)


def begin_request(audit: RequestAudit):
    return _current.set(audit)


def end_request(token) -> None:
    _current.reset(token)


def current() -> RequestAudit | None:
    return _current.get()


def _actor_fields(user) -> dict:
    facts = actor_facts(user)
    if facts is None:
        return {"actor_key": None, "actor_account_type": "", "actor_domain": "", "actor_roles": ""}
    return {
        "actor_key": facts.key,
        "actor_account_type": facts.account_type,
        "actor_domain": facts.domain,
        "actor_roles": ", ".join(facts.roles)[:300],
    }


def _key(value) -> str | None:
    return str(value) if value is not None else None


def build_event(
    event_type: str,
    action: str,
    *,
    outcome: str = Outcome.SUCCESS,
    obj=None,
    subject=None,
    changed_fields=(),
    result_count: int | None = None,
    tenant=None,
    actor=None,
    on_behalf_of=None,
    object_type: str = "",
    object_key=None,
) -> dict:
    """An event dict for the current actor (or `actor`), about `obj` and its `subject` employee.

    Without an `obj` (no row at hand, as for a refused URL), `object_type` and `object_key` say
    what was asked for."""
    request_audit = current()
    user = actor if actor is not None else (request_audit.user if request_audit else None)
    tenant_key = None
    if tenant is not None:
        tenant_key = tenant.key
    elif obj is not None and hasattr(obj, "tenant_id"):
        tenant_key = _tenant_key(obj)
    elif user is not None and getattr(user, "is_authenticated", False):
        tenant_key = _tenant_key(user)
    return {
        "event_id": str(uuid.uuid4()),
        "occurred_at": timezone.now().isoformat(),
        "tenant_key": _key(tenant_key),
        "action": action,
        "event_type": event_type,
        "outcome": outcome,
        **_actor_fields(user),
        "on_behalf_of": _key(on_behalf_of),
        "object_type": obj._meta.label_lower if obj is not None else object_type,
        "object_key": _object_key(obj) if obj is not None else _key(object_key),
        "subject_key": _key(getattr(subject, "key", subject)),
        "changed_fields": sorted(changed_fields),
        "result_count": result_count,
        "client_ip": request_audit.client_ip if request_audit else "",
        "request_id": request_audit.request_id if request_audit else "",
    }


def _object_key(obj) -> str | None:
    """Our models' public `key` is a UUID. Anything else called `key` is not taken: django-otp's
    TOTPDevice.key, for one, is the device's secret."""
    key = getattr(obj, "key", None) if obj is not None else None
    return str(key) if isinstance(key, uuid.UUID) else None


_tenant_keys: dict[int, str] = {}


def _tenant_key(owner) -> str:
    """The key of the tenant a row (or user) belongs to; read once per tenant and process."""
    tenant_id = owner.tenant_id
    if tenant_id not in _tenant_keys:
        # The tenant model through the row's own foreign key: this sink imports no app.
        tenant_model = owner._meta.get_field("tenant").related_model
        _tenant_keys[tenant_id] = str(
            tenant_model.objects.values_list("key", flat=True).get(pk=tenant_id)
        )
    return _tenant_keys[tenant_id]


def record_change(event: dict) -> None:
    """Store the event with the change: an outbox row in the current transaction. One drain
    after the commit ships all of the transaction's rows, however many changes it made."""
    OutboxEvent.objects.create(event_id=event["event_id"], payload=event)
    if not _shipping_scheduled():
        transaction.on_commit(ship_outbox_soon)


def record_changes(events: list[dict]) -> None:
    """record_change for the many changes of one bulk write (an import): the rows the bulk
    statements bypassed change capture for, in one COPY into the outbox, in the same
    transaction as the change (a multi-row INSERT cost more in binding its parameters than the
    import spent on checking the rows)."""
    if not events:
        return
    table = OutboxEvent._meta.db_table
    columns = ", ".join(
        str(field.column)
        for field in OutboxEvent._meta.concrete_fields
        if field.name in ("event_id", "payload", "created_at")
    )
    now = timezone.now()
    connection = transaction.get_connection(router.db_for_write(OutboxEvent))
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN"  # our own names
        ) as copy,
    ):
        for event in events:
            copy.write_row((event["event_id"], json.dumps(event), now))
    if not _shipping_scheduled():
        transaction.on_commit(ship_outbox_soon)


def _shipping_scheduled() -> bool:
    # Django keeps the callbacks of the open transaction as (savepoints, callable, robust); a
    # rollback drops ours with the rows it would ship, so asking it is always right.
    pending = transaction.get_connection().run_on_commit
    return any(callback is ship_outbox_soon for _savepoints, callback, _robust in pending)


def record_read(event_type: str, **fields) -> None:
    """Note that personal data is shown; handed over before the response leaves (middleware)."""
    record_event(event_type, Action.READ, **fields)


def record_event(event_type: str, action: str, **fields) -> None:
    """Any other event in a request (logins, 2FA, exports): handed over like a read."""
    event = build_event(event_type, action, **fields)
    request_audit = current()
    if request_audit is not None:
        request_audit.reads.append(event)
    else:
        publish([event])


# After the broker failed once, pages go straight to the outbox for a few seconds instead of each
# waiting for its own connection attempt to fail (a circuit breaker).
BROKER_RETRY_AFTER_SECONDS = 5.0
_broker_unavailable_until = 0.0


def publish(events: list[dict]) -> None:
    """Hand events to Celery now; else to the outbox; else raise AuditUnavailable."""
    global _broker_unavailable_until
    if not events:
        return
    from audit.tasks import store_events

    if time.monotonic() >= _broker_unavailable_until:
        try:
            # argsrepr: Celery would otherwise render the whole batch into its message headers.
            store_events.apply_async(args=[events], retry=False, argsrepr=f"[{len(events)} events]")
            return
        except Exception:  # noqa: BLE001 - any broker (or eager writer) failure: fall back
            _broker_unavailable_until = time.monotonic() + BROKER_RETRY_AFTER_SECONDS
            logger.warning(
                "audit: the broker did not take %d events; using the outbox", len(events)
            )
    try:
        with transaction.atomic():
            OutboxEvent.objects.bulk_create(
                [OutboxEvent(event_id=event["event_id"], payload=event) for event in events],
                ignore_conflicts=True,
            )
    except DatabaseError as error:
        raise AuditUnavailable from error


def ship_outbox_soon() -> None:
    """After a commit: ask Celery to drain the outbox. If the broker is down, the periodic
    drain picks the rows up later; nothing is lost either way."""
    from audit.tasks import drain_outbox

    try:
        drain_outbox.apply_async(retry=False)
    except Exception:  # noqa: BLE001
        logger.warning("audit: the broker is unavailable; the outbox is drained later")
