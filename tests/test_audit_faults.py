"""Fault tests against the real Redis and a real Celery worker: no audit event is lost or doubled
when the broker goes away in the middle of a burst, or when a worker is killed mid-batch.

They need REDIS_URL (CI sets it); without it they skip locally and fail in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connections
from kombu import pools

from audit import events
from audit.models import AuditEvent, OutboxEvent
from audit.router import AUDIT_DB
from audit.tasks import drain_outbox
from verzuim.celery import app

ROOT = Path(__file__).resolve().parent.parent
DEAD_BROKER = "redis://127.0.0.1:1/0"
pytestmark = pytest.mark.django_db(databases=["default", "audit"], transaction=True)


@pytest.fixture
def broker_url():
    if not settings.REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("REDIS_URL is not set: CI must run the fault tests against Redis")
        pytest.skip("the audit fault tests need a Redis server (REDIS_URL)")
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    url = f"{base}/3"  # a database of its own, emptied here
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


def database_url(alias: str) -> str:
    config = connections[alias].settings_dict
    host = config["HOST"] or config.get("OPTIONS", {}).get("host", "")
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    if host.startswith("/"):
        return f"postgresql://{config['USER']}{password}@/{config['NAME']}?host={host}"
    return (
        f"postgresql://{config['USER']}{password}@{host}:{config['PORT'] or 5432}/{config['NAME']}"
    )


def start_worker(broker: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "VERZUIM_ENV": "test",
        "DATABASE_URL": database_url("default"),
        "AUDIT_DATABASE_URL": database_url(AUDIT_DB),
        "REDIS_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": "3",  # an unacknowledged message comes back after 3 s
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",  # and workers look for such messages every second
    }
    # The prefork pool, as in production: its event loop is what restores unacknowledged
    # messages after the visibility timeout (the solo pool has none).
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "verzuim", "worker", "-c", "1", "-l", "WARNING",
         "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def stop_worker(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Signal the worker and its pool process together (they share a process group)."""
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    worker.wait(20)


def reset_connections() -> None:
    # Celery and kombu keep connection and producer pools; drop them so the new URL is used.
    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


def use_broker(url: str) -> None:
    """Point this process's Celery at a broker (or a dead port), as a Redis outage would."""
    app.conf.update(broker_url=url, task_always_eager=False)
    reset_connections()
    events._broker_unavailable_until = 0.0  # a restored broker is tried at once


def stored(event_ids: list[str]) -> int:
    return AuditEvent.objects.using(AUDIT_DB).filter(event_id__in=event_ids).count()


def wait_for(event_ids: list[str], seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        count = stored(event_ids)
        if count >= len(event_ids):
            return count
        time.sleep(0.25)
    return stored(event_ids)


def burst(tenant, batches: int, size: int) -> list[str]:
    ids = []
    for _ in range(batches):
        batch = [events.build_event("fault.test", "R", tenant=tenant) for _ in range(size)]
        events.publish(batch)  # what AuditMiddleware does with a request's events
        ids += [event["event_id"] for event in batch]
    return ids


@pytest.fixture
def restore_celery():
    original = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    yield
    app.conf.update(**original)
    reset_connections()


def test_redis_going_away_in_a_burst_loses_and_doubles_nothing(
    world, broker_url, restore_celery, capsys
):
    worker = start_worker(broker_url)
    try:
        use_broker(broker_url)
        before = burst(world.tenant, batches=40, size=25)
        use_broker(DEAD_BROKER)  # Redis is gone: the events go to the outbox, synchronously
        during = burst(world.tenant, batches=40, size=25)
        in_outbox = OutboxEvent.objects.filter(event_id__in=during).count()
        use_broker(broker_url)  # Redis is back
        after = burst(world.tenant, batches=40, size=25)
        drain_outbox.delay()  # what beat does every minute
        everything = before + during + after
        arrived = wait_for(everything)
    finally:
        stop_worker(worker)
    with capsys.disabled():
        print(f"\n[fault: redis down] sent {len(everything)}, via the outbox {in_outbox}, "
              f"stored {arrived}, left in the outbox {OutboxEvent.objects.count()}")  # fmt: skip
    assert in_outbox == len(during)
    assert arrived == len(everything)
    assert OutboxEvent.objects.count() == 0
    assert (
        AuditEvent.objects.using(AUDIT_DB)
        .filter(event_id__in=everything)
        .values("event_id")
        .distinct()
        .count()
        == arrived
    )


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(
    world, broker_url, restore_celery, capsys
):
    use_broker(broker_url)
    sent = burst(world.tenant, batches=40, size=250)  # queued before any worker runs
    first = start_worker(broker_url)
    try:
        deadline = time.monotonic() + 60
        while stored(sent) < 2000 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop_worker(first, signal.SIGKILL)  # no goodbye: its unacknowledged message stays out
        at_kill = stored(sent)
        second = start_worker(broker_url)
        try:
            arrived = wait_for(sent, seconds=90)
        finally:
            stop_worker(second)
    finally:
        if first.poll() is None:
            stop_worker(first, signal.SIGKILL)
    with capsys.disabled():
        print(
            f"\n[fault: worker killed] sent {len(sent)}, stored when killed {at_kill}, "
            f"stored in the end {arrived}"
        )
    assert 0 < at_kill < len(sent)
    assert arrived == len(sent)
    assert (
        AuditEvent.objects.using(AUDIT_DB)
        .filter(event_id__in=sent)
        .values("event_id")
        .distinct()
        .count()
        == arrived
    )
