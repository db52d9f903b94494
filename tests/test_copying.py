"""Bulk writes: core.copying writes COPY's text format by hand, and audit.events.ChangeEvents
fills pre-encoded event JSON; both must give exactly what the slow, general way gives."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils.safestring import mark_safe

from audit.codes import Action
from audit.events import ChangeEvents, build_event
from audit.models import OutboxEvent
from core.copying import CopyData, copy_line, new_keys

pytestmark = pytest.mark.django_db

AWKWARD_TEXTS = [
    "plain", "", "tab\there", "new\nline", "carriage\rreturn", "back\\slash", "\\N", "\\x00",
    "quote ' and \" both", "Vriës Ørsted 😀", "semi;colon,comma", " spaces ", "\\t literally",
]  # fmt: skip


def round_trip(rows: list[tuple]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE copied (t text, n numeric, b boolean, d date, ts timestamptz,"
            " u uuid, i bigint, raw bytea, pos int) ON COMMIT DROP"
        )
        CopyData.of("copied", ["t", "n", "b", "d", "ts", "u", "i", "raw", "pos"], rows).send()
        cursor.execute("SELECT t, n, b, d, ts, u, i, raw FROM copied ORDER BY pos")
        return [(t, n, b, d, ts, u, i, bytes(raw) if raw is not None else None)
                for t, n, b, d, ts, u, i, raw in cursor.fetchall()]  # fmt: skip


def test_every_value_comes_back_exactly_as_written():
    moment = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
    rows = [
        (text, Decimal("32.5"), True, date(2026, 1, 31), moment, uuid.uuid4(), 2**40,
         b"\x00\\\t\n\xff", position)
        for position, text in enumerate(AWKWARD_TEXTS)
    ]  # fmt: skip
    rows.append((None, None, None, None, None, None, None, None, len(rows)))
    rows.append((mark_safe("safe <b>"), Decimal("1E+1"), False, date(1, 1, 1), moment,
                 uuid.UUID(int=0), -5, b"", len(rows)))  # fmt: skip
    back = round_trip(rows)
    assert back == [row[:-1] for row in rows]


def test_a_value_of_an_unknown_type_is_a_loud_error_not_a_guess():
    with pytest.raises(TypeError):
        copy_line([object()])
    assert copy_line([Action.CREATE]) == f"{Action.CREATE.value}\n"  # a text enum is text


def test_new_keys_are_distinct_version_4_uuids_as_text():
    keys = new_keys(2000)
    assert len(set(keys)) == 2000
    for key in keys[:200]:
        parsed = uuid.UUID(key)
        assert str(parsed) == key
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_change_events_hold_what_build_event_would_hold(world):
    OutboxEvent.objects.all().delete()
    events = ChangeEvents(tenant=world.tenant, actor=world.hr)
    created, updated = str(uuid.uuid4()), str(uuid.uuid4())
    ids = new_keys(2)
    events.add("employees.employee", Action.CREATE, ids[:1], [(created, created, None)])
    events.add(
        "employees.employee", Action.UPDATE, ids[1:], [(updated, updated, ["surname", "email"])]
    )
    assert len(events) == 2
    events.store()
    stored = {row.event_id: row.payload for row in OutboxEvent.objects.all()}
    assert set(stored) == {uuid.UUID(key) for key in ids}
    for event_id, object_key, action, fields in [
        (ids[0], created, Action.CREATE, []),
        (ids[1], updated, Action.UPDATE, ["email", "surname"]),
    ]:
        verb = "create" if action == Action.CREATE else "update"
        expected = build_event(
            f"employees.employee.{verb}", action, tenant=world.tenant, actor=world.hr,
            object_type="employees.employee", object_key=object_key, subject=object_key,
            changed_fields=fields,
        )  # fmt: skip
        payload = stored[uuid.UUID(event_id)]
        assert payload.pop("occurred_at")
        expected.pop("occurred_at")
        expected["event_id"] = event_id
        assert payload == json.loads(json.dumps(expected))
