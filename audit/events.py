"""Recording audit events.

- Changes: `record_change` writes the event to the outbox in the current transaction, so the
  change and its event commit (or roll back) together; after the commit Celery ships it.
- Views of personal data: `record_read` collects the event on the request; before the response
  is sent AuditMiddleware stores the request's events in the outbox, in the application database,
  with one INSERT (`store_in_outbox`). If the database cannot take them the page answers 503
  rather than show unaudited data (AuditUnavailable).
- Either way the outbox (PostgreSQL) holds the only copy until the audit store committed the
  event; Redis only carries a wake-up for the worker that moves the rows (audit/tasks.py), and
  beat drains every few seconds as well, so losing Redis or its data loses no event.

An event holds the NEN 7513 fields with pseudonymous keys only; see audit/models.py.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import Action, OutboxEvent, Outcome
from core.actors import actor_facts
from core.copying import CopyData

logger = logging.getLogger(__name__)


class AuditUnavailable(Exception):
    """The outbox (the application database) could not take the events."""


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
    """Store the event with the change: an outbox row in the current transaction. The worker is
    woken after the commit; a rollback takes the row with it."""
    store_in_outbox([event])


def _field_list(fields: list[str] | None) -> str:
    return json.dumps(sorted(fields), separators=(",", ":")) if fields else "[]"


class ChangeEvents:
    """The change events of one bulk write (an import), which bypasses change capture: stored
    with `store()` in one COPY into the outbox, in the same transaction as the rows they
    describe.

    Every event of a kind (object type and action) shares its actor, tenant, type and time, so
    its JSON is written once with placeholders and only the keys and changed fields are filled
    in per row: building and encoding a dict per event cost more, at 100,000 employees, than
    checking their rows (bench/imports.py)."""

    _PLACEHOLDER = "@@{}@@"
    _FILLED = ("event_id", "object_key", "subject_key", "changed_fields")

    def __init__(self, *, tenant, actor) -> None:
        self.tenant = tenant
        self.actor = actor
        self.occurred_at = timezone.now()
        self._templates: dict[tuple[str, str], list[str]] = {}
        self._rows: list[tuple[str, str, object]] = []  # event_id, payload, created_at

    def __len__(self) -> int:
        return len(self._rows)

    def _template(self, object_type: str, action: str) -> list[str]:
        """The event's JSON cut at its four placeholders (five parts)."""
        parts = self._templates.get((object_type, action))
        if parts is None:
            verb = "create" if action == Action.CREATE else "update"
            event = build_event(
                f"{object_type}.{verb}", action, tenant=self.tenant, actor=self.actor,
                object_type=object_type,
            )  # fmt: skip
            event["occurred_at"] = self.occurred_at.isoformat()
            event.update({name: self._PLACEHOLDER.format(name) for name in self._FILLED})
            text = json.dumps(event, separators=(",", ":"))
            # Cut at a NUL, which json.dumps never leaves unescaped in its output.
            for name in self._FILLED:
                text = text.replace(f'"{self._PLACEHOLDER.format(name)}"', "\x00", 1)
            parts = self._templates[(object_type, action)] = text.split("\x00")
        return parts

    def add(
        self,
        object_type: str,
        action: str,
        event_ids: list[str],
        keys: list[tuple[str, str, list[str] | None]],
    ) -> None:
        """Events of one kind: per object its key, its data subject's key and the names of the
        fields changed (None for a creation); `event_ids` one fresh UUID text each."""
        first, after_id, after_object, after_subject, last = self._template(object_type, action)
        now = self.occurred_at
        self._rows += [
            (
                event_id,
                f'{first}"{event_id}"{after_id}"{object_key}"{after_object}"{subject_key}"'
                f"{after_subject}{_field_list(fields)}{last}",
                now,
            )
            for event_id, (object_key, subject_key, fields) in zip(event_ids, keys, strict=True)
        ]

    def copy_data(self) -> CopyData:
        """The events in COPY's text format, taken out of this collection (no database access:
        a bulk writer may format them away from the connection); stored by `store_copied`."""
        data = CopyData.of(
            OutboxEvent._meta.db_table, ("event_id", "payload", "created_at"), self._rows
        )
        self._rows = []
        return data

    def store(self) -> None:
        """COPY the events into the outbox; the worker is woken after the commit."""
        store_copied(self.copy_data())


def store_copied(data: CopyData) -> None:
    """Change events formatted by ChangeEvents.copy_data: COPY them into the outbox, in the
    current transaction if one is open; the worker is woken after the commit."""
    if not data.text:
        return
    data.send()
    if not connection.in_atomic_block:
        wake_drainer()
    elif not _wake_scheduled():
        transaction.on_commit(wake_drainer)


def record_read(event_type: str, **fields) -> None:
    """Note that personal data is shown; stored before the response leaves (middleware)."""
    record_event(event_type, Action.READ, **fields)


def record_event(event_type: str, action: str, **fields) -> None:
    """Any other event in a request (logins, 2FA, exports): stored like a read. Outside a
    request (a command, a task) it goes to the outbox at once, in the caller's transaction if
    one is open."""
    event = build_event(event_type, action, **fields)
    request_audit = current()
    if request_audit is not None:
        request_audit.reads.append(event)
    else:
        store_in_outbox([event])


_OUTBOX_ROW = "(%s::uuid, %s, now())"


def store_in_outbox(events: list[dict], *, savepoint: bool = True) -> None:
    """Make events durable in the application database: one multi-row INSERT into the outbox,
    in the current transaction if one is open (a change and its event commit together; a
    request's reads commit with the request, audit/middleware.py), else committed at once. The
    worker is woken after the commit. Raises AuditUnavailable when the database does not take
    them.

    A plain INSERT with literal rows, not the ORM's bulk_create: this runs on every page of
    personal data, and its cost is the audit overhead of that page (bench/audit.py)."""
    if not events:
        return
    statement = (
        f"INSERT INTO {OutboxEvent._meta.db_table} (event_id, payload, created_at) "  # noqa: S608
        f"VALUES {', '.join([_OUTBOX_ROW] * len(events))} ON CONFLICT (event_id) DO NOTHING"
    )
    params: list[str] = []
    for event in events:
        params += [event["event_id"], json.dumps(event, separators=(",", ":"))]
    try:
        # In a transaction, a savepoint: a refused insert then leaves the caller's transaction
        # usable for its error handling; the request's transaction (savepoint=False) rolls back
        # as a whole instead. Outside a transaction the insert commits at once.
        inner = transaction.atomic() if savepoint and connection.in_atomic_block else nullcontext()
        with inner, connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError as error:
        raise AuditUnavailable from error
    if connection.in_atomic_block:
        if not _wake_scheduled():
            transaction.on_commit(wake_drainer)
    else:
        wake_drainer()


def _wake_scheduled() -> bool:
    # Django keeps the callbacks of the open transaction as (savepoints, callable, robust); a
    # rollback drops ours with the rows it would ship, so asking it is always right.
    pending = transaction.get_connection().run_on_commit
    return any(callback is wake_drainer for _savepoints, callback, _robust in pending)


# The wake-up is a convenience, not the delivery guarantee (beat drains every few seconds). It is
# sent from a thread of the process, never from the request: a page does not wait for Redis, not
# even when Redis is down or unreachable (a connection attempt may take seconds). The thread sends
# at most one wake-up per WAKE_EVERY_SECONDS, however many pages asked meanwhile, and retries
# every BROKER_RETRY_AFTER_SECONDS while the broker does not take it.
WAKE_EVERY_SECONDS = 0.5
BROKER_RETRY_AFTER_SECONDS = 1.0
# A wake-up still queued after this long is dropped: a periodic drain has run in the meantime.
WAKE_EXPIRES_SECONDS = 60


class _Waker:
    def __init__(self) -> None:
        self.wanted = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.lock = threading.Lock()

    def wake(self) -> None:
        if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
            with self.lock:  # first use in this process (or after a fork): start its thread
                if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                    self.wanted = threading.Event()
                    self.pid = os.getpid()
                    self.thread = threading.Thread(target=self._run, name="audit-wake", daemon=True)
                    self.thread.start()
        self.wanted.set()

    def _run(self) -> None:
        from audit.tasks import drain_outbox

        failing = False
        while True:
            self.wanted.wait()
            self.wanted.clear()
            if drain_outbox.app.conf.task_always_eager:
                continue  # no broker any more (a test switched back): never drain in this thread
            try:
                drain_outbox.apply_async(retry=False, expires=WAKE_EXPIRES_SECONDS)
            except Exception:  # noqa: BLE001 - any broker failure: try again in a moment
                if not failing:  # once per outage, not once a second
                    logger.warning("audit: the broker does not take wake-ups; events wait")
                failing = True
                self.wanted.set()
                time.sleep(BROKER_RETRY_AFTER_SECONDS)
            else:
                if failing:
                    logger.warning("audit: the broker takes wake-ups again")
                failing = False
                time.sleep(WAKE_EVERY_SECONDS)


_waker = _Waker()


def wake_drainer() -> None:
    """Ask a worker to move the outbox into the audit store soon. Never raises and never waits
    for the broker. Without a broker (tasks in-process) the drain runs here and now; if the audit
    store is unavailable then, the rows wait in the outbox for the next drain."""
    from audit.tasks import drain_outbox

    if not drain_outbox.app.conf.task_always_eager:
        _waker.wake()
        return
    try:
        drain_outbox.apply_async()
    except Exception:  # noqa: BLE001 - the audit store is down: the rows wait in the outbox
        logger.warning("audit: the outbox drain failed; its rows wait for the next one")
