"""Truncation and a cut-off tail are detected: each tenant's chain is checked against a signed
checkpoint kept in the main database, which only ever moves forward.

Tampering is done as an attacker with the audit store's superuser would: behind the
application's back, with the append-only trigger switched off.
"""

from __future__ import annotations

import threading
import uuid
from io import StringIO
from types import SimpleNamespace

import psycopg
import pytest
from django.core.management import call_command
from django.db import connections

from audit import events
from audit.chain import (
    ADVANCE_CHECKPOINT,
    GENESIS,
    advance_checkpoint,
    chain_hash,
    checkpoint_of,
    checkpoint_signature,
    record_as_event,
    write_events,
)
from audit.models import AuditEvent, ChainCheckpoint
from audit.router import AUDIT_DB

RECORDS = AuditEvent.objects.using(AUDIT_DB)


def write(tenant_key, count: int) -> None:
    tenant = SimpleNamespace(key=tenant_key) if tenant_key else None
    write_events([events.build_event(f"cp.{n}", "R", tenant=tenant) for n in range(count)])


@pytest.fixture
def tenants() -> list[uuid.UUID]:
    keys = [uuid.uuid4(), uuid.uuid4()]
    for key in keys:
        write(key, 3)
        write(key, 2)  # a second batch: the checkpoint moves on to record 5
    return keys


def behind_the_apps_back(*statements: tuple[str, list]) -> None:
    with connections[AUDIT_DB].cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def run_verify(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_the_writer_keeps_a_signed_checkpoint_per_chain(tenants):
    for key in tenants:
        checkpoint = checkpoint_of(key)
        last = RECORDS.filter(tenant_key=key).order_by("-sequence").first()
        assert (checkpoint.sequence, checkpoint.hash) == (5, last.hash)
        assert checkpoint.signature == checkpoint_signature(key, 5, last.hash)


def test_an_untouched_store_passes(tenants):
    code, out = run_verify()
    assert code == 0, out
    assert "BROKEN" not in out and "all intact" in out


def test_a_truncated_store_is_detected(tenants):
    behind_the_apps_back(("TRUNCATE audit_auditevent", []))
    code, out = run_verify()
    assert code == 1
    for key in tenants:
        assert (
            f"BROKEN chain of tenant {key}: the chain is missing: no records, the checkpoint is "
            "at record 5" in out
        )
    assert "2 broken" in out


def test_a_chain_cut_short_is_detected(tenants):
    cut, whole = tenants
    behind_the_apps_back(
        ("DELETE FROM audit_auditevent WHERE tenant_key = %s AND sequence > 3", [cut])
    )
    code, out = run_verify()
    assert code == 1
    assert (
        f"BROKEN chain of tenant {cut}: the chain ends at record 3, the checkpoint is at record 5"
        in out
    )
    assert str(whole) not in out


def test_an_edited_record_is_detected(tenants):
    behind_the_apps_back(
        (
            "UPDATE audit_auditevent SET outcome = 'failure'"
            " WHERE tenant_key = %s AND sequence = 5",
            [tenants[0]],
        )
    )
    code, out = run_verify()
    assert code == 1 and f"BROKEN chain of tenant {tenants[0]}: record 5: content changed" in out


def test_a_rewritten_chain_with_fresh_hashes_is_detected_at_the_checkpoint(tenants):
    """An attacker who recomputes every hash makes a chain that is whole in itself: only the
    checkpoint, outside their reach, shows it is not the chain that was written."""
    key = tenants[0]
    statements, prev_hash = [], GENESIS
    for record in RECORDS.filter(tenant_key=key).order_by("sequence"):
        record.outcome = "failure"
        digest = chain_hash(prev_hash, record_as_event(record))
        statements.append(
            (
                "UPDATE audit_auditevent SET outcome = 'failure', prev_hash = %s, hash = %s"
                " WHERE id = %s",
                [prev_hash, digest, record.pk],
            )
        )
        prev_hash = digest
    behind_the_apps_back(*statements)
    code, out = run_verify()
    assert code == 1
    assert f"BROKEN chain of tenant {key}: record 5 has a different hash than the checkpoint" in out
    assert "content changed" not in out


def test_a_checkpoint_changed_without_its_signature_is_detected(tenants):
    ChainCheckpoint.objects.filter(tenant_key=tenants[1]).update(hash="f" * 64)
    code, out = run_verify()
    assert code == 1
    assert f"BROKEN chain of tenant {tenants[1]}: the checkpoint's signature does not verify" in out


def test_a_chain_that_lost_its_records_does_not_move_its_checkpoint_when_it_regrows(tenants):
    key = tenants[0]
    behind_the_apps_back(("DELETE FROM audit_auditevent WHERE tenant_key = %s", [key]))
    write(key, 8)  # the chain starts again at 1 and grows past the checkpoint's record 5
    checkpoint = checkpoint_of(key)
    assert checkpoint.sequence == 5
    code, out = run_verify()
    assert code == 1 and f"BROKEN chain of tenant {key}: record 5 has a different hash" in out


def test_a_missing_checkpoint_is_reported_and_signed_once_on_request(tenants):
    ChainCheckpoint.objects.filter(tenant_key=tenants[0]).delete()
    code, out = run_verify()
    assert code == 1 and f"BROKEN chain of tenant {tenants[0]}: no checkpoint" in out
    code, out = run_verify("--sign-missing-checkpoints")
    assert code == 0 and f"Signed a checkpoint for the chain of tenant {tenants[0]}" in out
    assert checkpoint_of(tenants[0]).sequence == 5


def test_the_chain_without_a_tenant_has_one_checkpoint():
    write(None, 2)
    write(None, 2)
    assert ChainCheckpoint.objects.filter(tenant_key__isnull=True).count() == 1
    assert checkpoint_of(None).sequence == 4
    assert run_verify()[0] == 0


def test_a_checkpoint_never_moves_backwards():
    key = uuid.uuid4()
    advance_checkpoint(key, 10, "a" * 64)
    advance_checkpoint(key, 7, "b" * 64)  # a slower writer, finishing last
    checkpoint = checkpoint_of(key)
    assert (checkpoint.sequence, checkpoint.hash) == (10, "a" * 64)
    advance_checkpoint(key, 11, "c" * 64)
    assert checkpoint_of(key).sequence == 11


@pytest.mark.django_db(databases=["default", "audit"], transaction=True)
def test_two_writers_racing_keep_the_higher_checkpoint():
    """The first writer's upsert (record 10) is uncommitted when the second (record 7) arrives:
    the second waits for the row, then finds 10 and leaves it."""
    # Django's own parameters: host and port, or an embedded server's socket in OPTIONS.
    params = connections["default"].get_connection_params()
    key = uuid.uuid4()
    advance_checkpoint(key, 1, "0" * 64)
    ahead = psycopg.connect(**params)
    behind = psycopg.connect(**params, autocommit=True)
    try:
        ahead.execute(
            ADVANCE_CHECKPOINT, [key, 10, "a" * 64, checkpoint_signature(key, 10, "a" * 64)]
        )
        waiting = threading.Thread(
            target=behind.execute,
            args=(ADVANCE_CHECKPOINT, [key, 7, "b" * 64, checkpoint_signature(key, 7, "b" * 64)]),
        )
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # blocked on the first writer's row
        ahead.commit()
        waiting.join(10)
        assert not waiting.is_alive()
    finally:
        ahead.close()
        behind.close()
    checkpoint = checkpoint_of(key)
    assert (checkpoint.sequence, checkpoint.hash) == (10, "a" * 64)
