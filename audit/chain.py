"""The hash chain of a tenant's audit records, and its one writer.

Each record's hash covers its content and the previous record's hash, so changing, removing or
inserting a record breaks the chain from that point (audit_verify finds it). Records of one
tenant are written by one writer at a time (a PostgreSQL advisory lock per tenant), which makes
the sequence numbers gapless. Writing is idempotent: an event id already stored is skipped, so a
redelivered Celery message or a re-drained outbox row never makes a duplicate.

After the audit store committed, the writer advances the tenant's checkpoint in the default
database (sequence and hash of the chain's new last record, signed with AUDIT_CHECKPOINT_KEY),
never backwards: a conditional upsert keeps the higher sequence when two writers race. A chain
that no longer holds its checkpoint's record (truncated, cut short, rewritten) does not move the
checkpoint, so the evidence stays for audit_verify (chain_problems) however the chain regrows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections import defaultdict
from datetime import UTC, datetime

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.models import EVENT_FIELDS, AuditEvent, ChainCheckpoint
from audit.router import AUDIT_DB

GENESIS = "0" * 64
LOCK_NAMESPACE = 7513  # NEN 7513
logger = logging.getLogger(__name__)


def _iso(value) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(event: dict) -> bytes:
    """The event's content as stable bytes: the same for a payload and for its stored record."""
    content = {}
    for name in EVENT_FIELDS:
        value = event.get(name)
        if name == "occurred_at":
            value = _iso(value)
        elif name == "changed_fields":
            value = list(value or [])
        elif value is not None and name != "result_count":
            value = str(value)
        content[name] = value
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def chain_hash(prev_hash: str, event: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + b"|" + canonical(event)).hexdigest()


def record_as_event(record: AuditEvent) -> dict:
    return {name: getattr(record, name) for name in EVENT_FIELDS}


def _chain_name(tenant_key) -> str:
    return str(uuid.UUID(str(tenant_key))) if tenant_key else "-"


def _checkpoint_key() -> bytes:
    if settings.AUDIT_CHECKPOINT_KEY:
        return settings.AUDIT_CHECKPOINT_KEY.encode()
    # Development and tests: derived from SECRET_KEY (production requires a key of its own).
    return hmac.new(
        settings.SECRET_KEY.encode(), b"verzuim.audit.checkpoint", hashlib.sha256
    ).digest()


def checkpoint_signature(tenant_key, sequence: int, digest: str) -> str:
    message = f"{_chain_name(tenant_key)}|{sequence}|{digest}".encode()
    return hmac.new(_checkpoint_key(), message, hashlib.sha256).hexdigest()


def _chain(tenant_key):
    records = AuditEvent.objects.using(AUDIT_DB)
    return (
        records.filter(tenant_key=tenant_key)
        if tenant_key
        else records.filter(tenant_key__isnull=True)
    )


def checkpoint_of(tenant_key) -> ChainCheckpoint | None:
    checkpoints = ChainCheckpoint.objects.using(DEFAULT_DB_ALIAS)
    if tenant_key:
        return checkpoints.filter(tenant_key=tenant_key).first()
    return checkpoints.filter(tenant_key__isnull=True).first()


def write_events(events: list[dict]) -> int:
    """Append events to their tenants' chains; returns how many were new."""
    by_tenant: dict[str | None, list[dict]] = defaultdict(list)
    for event in events:
        by_tenant[event.get("tenant_key")].append(event)
    written = 0
    # Always in the same order, so two writers never wait for each other's checkpoint rows the
    # other way round (no deadlock inside a caller's transaction, such as drain_outbox's).
    for tenant_key in sorted(by_tenant, key=_chain_name):
        count, head, continuous = _append(tenant_key, by_tenant[tenant_key])
        written += count
        if head is None:
            continue
        if continuous:
            advance_checkpoint(tenant_key, *head)
        else:
            logger.error(
                "audit: the chain of tenant %s no longer holds its checkpoint's record; the "
                "checkpoint is not moved (run audit_verify)",
                _chain_name(tenant_key),
            )
    return written


ADVANCE_CHECKPOINT = """
INSERT INTO audit_chaincheckpoint AS checkpoint (tenant_key, sequence, hash, signature, updated_at)
VALUES (%s, %s, %s, %s, now())
ON CONFLICT (tenant_key) DO UPDATE
    SET sequence = EXCLUDED.sequence, hash = EXCLUDED.hash, signature = EXCLUDED.signature,
        updated_at = now()
    WHERE checkpoint.sequence < EXCLUDED.sequence
"""


def advance_checkpoint(tenant_key, sequence: int, digest: str) -> None:
    """Move the tenant's checkpoint to (sequence, digest), only ever forward: of two writers
    racing, the one with the higher sequence wins whatever the order of their commits."""
    key = uuid.UUID(str(tenant_key)) if tenant_key else None
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            ADVANCE_CHECKPOINT,
            [key, sequence, digest, checkpoint_signature(tenant_key, sequence, digest)],
        )


def _holds(tenant_key, checkpoint: ChainCheckpoint | None) -> bool:
    """Whether the chain still has the checkpoint's record, unchanged (or has no checkpoint)."""
    if checkpoint is None:
        return True
    return _chain(tenant_key).filter(sequence=checkpoint.sequence, hash=checkpoint.hash).exists()


def _append(tenant_key: str | None, items: list[dict]) -> tuple[int, tuple[int, str] | None, bool]:
    """Append under the tenant's lock: (how many were new, the chain's last record as
    (sequence, hash) or None when empty, whether the chain still holds its checkpoint)."""
    records = AuditEvent.objects.using(AUDIT_DB)
    with transaction.atomic(using=AUDIT_DB):
        with connections[AUDIT_DB].cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_NAMESPACE, str(tenant_key)]
            )
        ids = [event["event_id"] for event in items]
        known = {
            str(pk) for pk in records.filter(event_id__in=ids).values_list("event_id", flat=True)
        }
        sequence, prev_hash = _chain(tenant_key).order_by("-sequence").values_list(
            "sequence", "hash"
        ).first() or (0, GENESIS)
        continuous = _holds(tenant_key, checkpoint_of(tenant_key))
        new = []
        for event in sorted(items, key=lambda e: (e["occurred_at"], e["event_id"])):
            if event["event_id"] in known:
                continue
            known.add(event["event_id"])
            sequence += 1
            digest = chain_hash(prev_hash, event)
            new.append((event, sequence, prev_hash, digest))
            prev_hash = digest
        _copy_in(new)
    return len(new), (sequence, prev_hash) if sequence else None, continuous


COPY_COLUMNS = [*EVENT_FIELDS, "sequence", "prev_hash", "hash", "recorded_at"]


def _copy_in(rows: list[tuple[dict, int, str, str]]) -> None:
    """Insert with PostgreSQL's COPY: an append-only bulk write, several times faster than
    INSERT with one parameter per value."""
    if not rows:
        return
    recorded_at = datetime.now(UTC)
    statement = f"COPY audit_auditevent ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    occurred, changed = EVENT_FIELDS.index("occurred_at"), EVENT_FIELDS.index("changed_fields")
    with connections[AUDIT_DB].cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for event, sequence, prev_hash, digest in rows:
            values = [event.get(name) for name in EVENT_FIELDS]
            values[occurred] = datetime.fromisoformat(_iso(event["occurred_at"]))
            values[changed] = list(event.get("changed_fields") or [])
            copy.write_row([*values, sequence, prev_hash, digest, recorded_at])


def verify_chain(tenant_key) -> tuple[int, str] | None:
    """The first broken record of a chain as (sequence, what is wrong); None if it is whole."""
    chain = _chain(tenant_key)
    expected_sequence, prev_hash = 1, GENESIS
    for record in chain.order_by("sequence", "pk").iterator(chunk_size=5000):
        if record.sequence != expected_sequence:
            if record.sequence > expected_sequence:
                return expected_sequence, "missing (removed)"
            return record.sequence, "out of order or inserted"
        if record.prev_hash != prev_hash:
            return record.sequence, "does not follow the previous record (inserted or reordered)"
        if chain_hash(prev_hash, record_as_event(record)) != record.hash:
            return record.sequence, "content changed"
        expected_sequence, prev_hash = expected_sequence + 1, record.hash
    return None


def checkpoint_problem(tenant_key, checkpoint: ChainCheckpoint | None) -> str | None:
    """What is wrong between a chain in the audit store and its checkpoint; None if it holds
    the checkpoint's record. A chain may be ahead of its checkpoint (the writer advances it after
    the store committed), never behind it or different at that point."""
    if checkpoint is None:
        return "no checkpoint (written before checkpoints existed, or its row was removed)"
    expected = checkpoint_signature(tenant_key, checkpoint.sequence, checkpoint.hash)
    if not hmac.compare_digest(expected, checkpoint.signature):
        return "the checkpoint's signature does not verify (the checkpoint was changed)"
    last = _chain(tenant_key).order_by("-sequence").values_list("sequence", flat=True).first()
    if last is None:
        return (
            f"the chain is missing: no records, the checkpoint is at record "
            f"{checkpoint.sequence} (truncated or deleted)"
        )
    if last < checkpoint.sequence:
        return (
            f"the chain ends at record {last}, the checkpoint is at record "
            f"{checkpoint.sequence} (records removed from the end)"
        )
    stored = _chain(tenant_key).filter(sequence=checkpoint.sequence).values_list("hash", flat=True)
    if checkpoint.hash not in stored:
        return (
            f"record {checkpoint.sequence} has a different hash than the checkpoint "
            "(the chain was rewritten)"
        )
    return None


def sign_missing_checkpoint(tenant_key) -> bool:
    """Give an intact chain without a checkpoint one at its last record (after the upgrade that
    introduced checkpoints); False if the chain is broken, empty or has one already."""
    if checkpoint_of(tenant_key) is not None or verify_chain(tenant_key) is not None:
        return False
    head = _chain(tenant_key).order_by("-sequence").values_list("sequence", "hash").first()
    if head is None:
        return False
    advance_checkpoint(tenant_key, *head)
    return True


def all_chains() -> list:
    """The tenant keys of every chain in the store or with a checkpoint (None: no tenant)."""
    stored = set(AuditEvent.objects.using(AUDIT_DB).values_list("tenant_key", flat=True).distinct())
    checkpointed = set(
        ChainCheckpoint.objects.using(DEFAULT_DB_ALIAS).values_list("tenant_key", flat=True)
    )
    return sorted(stored | checkpointed, key=_chain_name)
