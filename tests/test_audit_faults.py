"""Fault tests of the audit write path against real services: PostgreSQL, a redis-server started
here on a free port of its own (killed and restarted empty as a failover without its data would
leave it), and real Celery prefork workers started and SIGKILLed here.

What they prove (README "What the audit trail guarantees"): a page's events are in PostgreSQL
before the response leaves, so a worker killed mid-write together with a Redis that lost its data
loses no event and doubles none; an audit database that is down only delays events; a main
database that cannot take the events gets a 503 without the page. Each prints its counts.

They need the redis-server binary; without it they skip locally and fail in CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connections
from django.urls import reverse
from kombu import pools

from audit import events
from audit.chain import checkpoint_of, checkpoint_problem, verify_chain
from audit.models import AuditEvent, OutboxEvent
from audit.router import AUDIT_DB
from tests.conftest import verified_login
from verzuim.celery import app

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(databases=["default", "audit"], transaction=True)


# --- the services ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, without persistence: a restart comes back empty."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """Gone without saving anything (SIGKILL), as a failed node or a lost container."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def unacknowledged(self) -> int:
        """Messages a worker took and has not acknowledged (kombu's Redis transport keeps them
        in this hash until the ack, or gives them back after the visibility timeout)."""
        return redis.Redis.from_url(self.url).hlen("unacked")


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: CI must run the audit fault tests")
        pytest.skip("the audit fault tests start a redis-server of their own")
    server = PrivateRedis(tmp_path)
    server.start()
    original = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url=server.url, task_always_eager=False)  # this process wakes it too
    reset_connections()
    yield server
    server.kill()
    app.conf.update(**original)
    reset_connections()


def reset_connections() -> None:
    # Celery and kombu keep connection and producer pools; drop them so the new URL is used.
    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


def database_url(alias: str) -> str:
    config = connections[alias].settings_dict
    host = config["HOST"] or config.get("OPTIONS", {}).get("host", "")
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    if host.startswith("/"):
        return f"postgresql://{config['USER']}{password}@/{config['NAME']}?host={host}"
    return (
        f"postgresql://{config['USER']}{password}@{host}:{config['PORT'] or 5432}/{config['NAME']}"
    )


def start_worker(broker: str, tmp_path: Path, *, beat: bool) -> subprocess.Popen:
    """A prefork worker (one pool process), as in production; with `beat` it also runs the
    periodic drain, every second here. The visibility timeout stays at its default (300 s): no
    test relies on Redis giving a message back."""
    env = {
        **os.environ,
        "VERZUIM_ENV": "test",
        "DATABASE_URL": database_url("default"),
        "AUDIT_DATABASE_URL": database_url(AUDIT_DB),
        "REDIS_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "AUDIT_DRAIN_SECONDS": "1",
    }
    env.pop("CELERY_VISIBILITY_TIMEOUT", None)
    # Under pytest-xdist the settings give each test process a Redis database of its own; the
    # worker is no test process and must use the private Redis' database as given.
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [
        sys.executable, "-m", "celery", "-A", "verzuim", "worker", "-c", "1", "-l", "WARNING",
        "--without-heartbeat", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    if beat:
        command += ["-B", "-s", str(tmp_path / f"beat-{time.monotonic_ns()}")]
    log = (tmp_path / "worker.log").open("ab")
    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
    )


def stop_worker(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Signal the worker and its pool process together (they share a process group)."""
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    try:
        worker.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(5)


# --- what is stored --------------------------------------------------------------------------


def stored(event_ids: list[str]) -> int:
    return AuditEvent.objects.using(AUDIT_DB).filter(event_id__in=event_ids).count()


def distinct_stored(event_ids: list[str]) -> int:
    return (
        AuditEvent.objects.using(AUDIT_DB)
        .filter(event_id__in=event_ids)
        .values("event_id")
        .distinct()
        .count()
    )


def wait_for(event_ids: list[str], seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stored(event_ids) >= len(event_ids) and not OutboxEvent.objects.exists():
            break
        time.sleep(0.1)
    return stored(event_ids)


def assert_whole(world, event_ids: list[str]) -> None:
    assert stored(event_ids) == len(event_ids)  # nothing lost
    assert distinct_stored(event_ids) == len(event_ids)  # nothing doubled
    assert not OutboxEvent.objects.exists()
    assert verify_chain(world.tenant.key) is None
    assert checkpoint_problem(world.tenant.key, checkpoint_of(world.tenant.key)) is None


def page_views(client, world, count: int) -> tuple[list[str], list[int]]:
    """`count` employee pages through the whole middleware stack: the ids of the events each
    page recorded, and the status codes."""
    url = reverse("employees:detail", kwargs={"key": world.employee.key})
    ids, statuses = [], []
    for _ in range(count):
        response = client.get(url)
        statuses.append(response.status_code)
        ids += [event["event_id"] for event in response.wsgi_request.audit.reads]
    return ids, statuses


def backlog(world, size: int) -> list[str]:
    """A large backlog in the outbox, stored as requests store theirs (one INSERT a batch)."""
    ids = []
    for _ in range(size // 1000):
        batch = [events.build_event("fault.test", "R", tenant=world.tenant) for _ in range(1000)]
        events.store_in_outbox(batch)
        ids += [event["event_id"] for event in batch]
    return ids


# --- the faults ------------------------------------------------------------------------------


def test_a_worker_killed_mid_write_and_redis_wiped_lose_and_double_nothing(
    client, world, private_redis, tmp_path, capsys
):
    verified_login(client, world.hr)
    pages, statuses = page_views(client, world, 40)  # no worker yet: wake-ups wait in Redis
    sent = pages + backlog(world, 16_000)
    first = start_worker(private_redis.url, tmp_path, beat=False)
    try:
        deadline = time.monotonic() + 60
        while stored(sent) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        unacknowledged_at_kill = private_redis.unacknowledged()
        # No goodbye: its message (acks_late) stays unacknowledged, its batch uncommitted.
        stop_worker(first, signal.SIGKILL)
    finally:
        if first.poll() is None:
            stop_worker(first, signal.SIGKILL)
    at_kill = stored(sent)
    private_redis.kill()  # and Redis goes down without saving: every message is gone
    while_down, down_statuses = page_views(client, world, 20)
    private_redis.start()
    unacknowledged_after_restart = private_redis.unacknowledged()
    after, after_statuses = page_views(client, world, 20)
    sent += while_down + after
    second = start_worker(private_redis.url, tmp_path, beat=True)
    started = time.monotonic()
    try:
        arrived = wait_for(sent, seconds=60)
        took = time.monotonic() - started
    finally:
        stop_worker(second)
    with capsys.disabled():
        print(
            f"\n[fault: worker SIGKILLed mid-write + Redis wiped] sent {len(sent)}, stored when "
            f"killed {at_kill}, unacknowledged messages at the kill {unacknowledged_at_kill} and "
            f"after Redis' restart {unacknowledged_after_restart}, pages served while "
            f"Redis was down {down_statuses.count(200)}/{len(down_statuses)}, stored in the end "
            f"{arrived}, distinct {distinct_stored(sent)}, left in the outbox "
            f"{OutboxEvent.objects.count()}, {took:.1f} s after the second worker started"
        )
    assert set(statuses + down_statuses + after_statuses) == {200}
    assert 0 < at_kill < len(sent)
    assert unacknowledged_at_kill >= 1 and unacknowledged_after_restart == 0
    assert_whole(world, sent)


def test_redis_going_away_only_delays_events_and_wake_ups_resume_when_it_is_back(
    client, world, private_redis, tmp_path, capsys
):
    verified_login(client, world.hr)
    worker = start_worker(private_redis.url, tmp_path, beat=False)  # wake-ups are all it gets
    try:
        before, _ = page_views(client, world, 10)
        assert wait_for(before, seconds=30) == len(before)
        private_redis.kill()
        during, down_statuses = page_views(client, world, 30)
        waiting = OutboxEvent.objects.filter(event_id__in=during).count()
        private_redis.start()
        back = time.monotonic()
        after: list[str] = []
        while time.monotonic() - back < 20 and stored(before + during + after) < len(
            before + during + after
        ):
            ids, _ = page_views(client, world, 1)  # pages go on; one of them wakes the drain
            after += ids
            time.sleep(0.05)
        sent = before + during + after
        arrived = wait_for(sent, seconds=10)
        took = time.monotonic() - back
    finally:
        stop_worker(worker)
    with capsys.disabled():
        print(
            f"\n[fault: Redis down] pages served while down {down_statuses.count(200)}/"
            f"{len(down_statuses)}, their events waiting in the outbox {waiting}, sent "
            f"{len(sent)}, stored {arrived}, all stored {took:.1f} s after Redis was back "
            "(no beat: wake-ups only)"
        )
    assert set(down_statuses) == {200}
    assert waiting == len(during)
    assert_whole(world, sent)


def test_the_audit_database_down_for_a_while_delays_events_and_serves_pages(
    client, world, private_redis, tmp_path, capsys
):
    verified_login(client, world.hr)
    audit_name = connections[AUDIT_DB].settings_dict["NAME"]
    worker = start_worker(private_redis.url, tmp_path, beat=True)
    try:
        before, _ = page_views(client, world, 10)
        assert wait_for(before, seconds=30) == len(before)
        with connections["default"].cursor() as cursor:
            # The audit server is out of reach: no new connections, existing ones cut.
            cursor.execute(f'ALTER DATABASE "{audit_name}" ALLOW_CONNECTIONS false')
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [audit_name],
            )
        connections[AUDIT_DB].close()
        try:
            during, down_statuses = page_views(client, world, 30)
            time.sleep(2.5)  # several periodic drains fail meanwhile
            waiting = OutboxEvent.objects.filter(event_id__in=during).count()
        finally:
            with connections["default"].cursor() as cursor:
                cursor.execute(f'ALTER DATABASE "{audit_name}" ALLOW_CONNECTIONS true')
        back = time.monotonic()
        sent = before + during
        arrived = wait_for(sent, seconds=30)
        took = time.monotonic() - back
    finally:
        stop_worker(worker)
    with capsys.disabled():
        print(
            f"\n[fault: audit database down] pages served while down {down_statuses.count(200)}/"
            f"{len(down_statuses)}, events waiting in the outbox {waiting}, sent {len(sent)}, "
            f"stored {arrived}, distinct {distinct_stored(sent)}, all stored {took:.1f} s after "
            "it was back"
        )
    assert set(down_statuses) == {200}
    assert waiting == len(during)
    assert_whole(world, sent)


REFUSE_OUTBOX_ROWS = """
CREATE FUNCTION audit_fault_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100';
END $$;
CREATE TRIGGER audit_fault_disk_full BEFORE INSERT ON audit_outboxevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_fault_disk_full();
"""
ACCEPT_OUTBOX_ROWS = """
DROP TRIGGER audit_fault_disk_full ON audit_outboxevent;
DROP FUNCTION audit_fault_disk_full();
"""


def test_a_main_database_that_cannot_take_the_events_gets_a_503_without_the_page(
    client, world, private_redis, capsys
):
    verified_login(client, world.hr)
    url = reverse("employees:detail", kwargs={"key": world.employee.key})
    with connections["default"].cursor() as cursor:
        cursor.execute(REFUSE_OUTBOX_ROWS)  # the database refuses the rows, as a full disk does
    try:
        responses = [client.get(url) for _ in range(20)]
    finally:
        with connections["default"].cursor() as cursor:
            cursor.execute(ACCEPT_OUTBOX_ROWS)
    refused_ids = [e["event_id"] for r in responses for e in r.wsgi_request.audit.reads]
    with_content = [r for r in responses if world.employee.surname in r.content.decode()]
    recorded = stored(refused_ids) + OutboxEvent.objects.filter(event_id__in=refused_ids).count()
    served_after = client.get(url).status_code
    with capsys.disabled():
        print(
            f"\n[fault: main database refuses the events] pages {len(responses)}, answered 503 "
            f"{sum(r.status_code == 503 for r in responses)}, with the page's content "
            f"{len(with_content)}, records of refused pages {recorded}; once it takes them again: "
            f"{served_after}"
        )
    assert {r.status_code for r in responses} == {503}
    assert with_content == []
    assert recorded == 0  # a page nobody saw is not recorded as seen
    assert served_after == 200
