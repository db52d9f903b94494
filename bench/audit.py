"""Benchmark: the cost of auditing a personal-data page, and the audit writer's throughput.

Loads one employee page N times through the whole middleware stack (Django's test client) in
three ways, in one run:
  off      - no audit events at all;
  ours     - our audit trail: the request's events INSERTed into the outbox (one statement,
             committed) before the response; a thread wakes the worker through Redis;
  auditlog - the peer: django-auditlog's synchronous access logging (a LogEntry row written in
             the request), run in a subprocess that uses auditlog's own LogEntry model.
Each approach is measured interleaved with "off" in its own process (request by request in
turn), so the ratios are not skewed by whatever else the machine does between the two runs.
Then the write itself, one page's events, without the page: the outbox INSERT against the Celery
publish over Redis that the previous version made on every page. Last, the hash-chained writer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/audit.py

Targets (issues 5 and 16): ours <= 1.02 x off at the median and below auditlog's ratio in the
same run; the writer >= 5,000 events/s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verzuim.settings")
os.environ.setdefault("VERZUIM_ENV", "test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # "ours" hands events to the real broker
PEER = "--peer" in sys.argv
if PEER:
    os.environ["AUDITLOG_LOGENTRY_MODEL"] = "auditlog.LogEntry"

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

REQUESTS, WARMUP, WRITER_EVENTS, WRITER_BATCH, WRITES = 400, 40, 50_000, 1_000, 2_000


def interleaved(client: Client, url: str, audit) -> tuple[list[float], list[float]]:
    """Audit off and on, request by request in turn, so drift hits both alike. `audit(on)`
    switches it."""
    for number in range(WARMUP):
        audit(number % 2 == 0)
        assert client.get(url).status_code == 200
    results: dict[bool, list[float]] = {False: [], True: []}
    for number in range(2 * REQUESTS):
        on = number % 2 == 0
        audit(on)
        started = time.perf_counter()
        response = client.get(url)
        results[on].append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    audit(True)
    return sorted(results[False]), sorted(results[True])


def our_switch():
    import employees.views
    from audit import events

    real_store, real_read = events.store_in_outbox, employees.views.record_read

    def audit(on: bool) -> None:
        events.store_in_outbox = real_store if on else (lambda batch, **kwargs: None)
        employees.views.record_read = real_read if on else (lambda *a, **k: None)

    return audit


def logged_in_client(email: str) -> Client:
    from django_otp import DEVICE_ID_SESSION_KEY

    from auth2fa.models import AuthenticatorApp, User

    user = User.objects.get(email=email)
    device = AuthenticatorApp.objects.get_or_create(
        user=user, name="bench", defaults={"confirmed": True}
    )[0]
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def build() -> str:
    from datetime import date

    from auditlog.context import disable_auditlog

    from auth2fa.models import User
    from domains.models import Employer, Tenant
    from domains.services import ensure_reference_roles
    from employees.models import Employee
    from tests.conftest import grant

    with disable_auditlog():
        tenant = Tenant.objects.create(name="Bench")
        employer = Employer.objects.create(tenant=tenant, name="Bench BV")
        employee = Employee.objects.create(
            tenant=tenant, employer=employer, personnel_number="1", surname="Bench",
            birth_date=date(1980, 1, 1), employment_start=date(2010, 1, 1),
        )  # fmt: skip
        hr = User.objects.create_user("bench@bench.test", None, tenant=tenant)
        roles = {role.reference_key: role for role in ensure_reference_roles(tenant)}
        grant(hr, roles["hr"], employers=[employer])
    return f"/employees/{employee.key}/"


def peer(url: str) -> None:
    """In the subprocess: auditlog's synchronous access log instead of our trail, interleaved
    with no audit at all."""
    from auditlog.models import LogEntry
    from auditlog.signals import accessed

    import employees.views
    from audit import events
    from core.tenancy import all_tenants

    with connections["default"].schema_editor() as editor:  # its table exists only here
        editor.create_model(LogEntry)

    def access_log(event_type, *, obj=None, **fields):
        if obj is not None:
            accessed.send(sender=type(obj), instance=obj)  # auditlog writes a row, synchronously

    def audit(on: bool) -> None:
        employees.views.record_read = access_log if on else (lambda *a, **k: None)

    events.store_in_outbox = lambda batch, **kwargs: None  # nothing of ours in this process
    with all_tenants():
        client = logged_in_client("bench@bench.test")
    off, measured = interleaved(client, url, audit)
    rows = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    print(json.dumps({"off": off, "timings": measured, "rows": rows}))


def write_costs(tenant) -> dict[str, list[float]]:
    """One page's event written WRITES times each way, in turn (microseconds, sorted):
    - "insert in the request's transaction": what a page does now, the outbox INSERT inside the
      transaction the request commits anyway (its session save); the commit is not timed, as the
      page pays it with or without audit;
    - "insert committed alone": the same INSERT in autocommit, its own commit and WAL flush;
    - "publish to Redis": the Celery message a page sent before this change."""
    from django.db import transaction

    from audit import events
    from audit.tasks import store_events

    costs: dict[str, list[float]] = {
        "insert in the request's transaction": [],
        "insert committed alone": [],
        "publish to Redis": [],
    }
    ways = list(costs)
    for number in range(3 * (WRITES + 30)):
        way = ways[number % 3]
        batch = [events.build_event("bench.write", "R", tenant=tenant)]
        if way == ways[0]:
            with transaction.atomic():
                started = time.perf_counter()
                events.store_in_outbox(batch, savepoint=False)
                took = time.perf_counter() - started
        else:
            started = time.perf_counter()
            if way == ways[1]:
                events.store_in_outbox(batch)
            else:
                store_events.apply_async(args=[batch], retry=False, argsrepr="[1 events]")
            took = time.perf_counter() - started
        if number >= 90:  # warm-up
            costs[way].append(took * 1_000_000)
    return {way: sorted(values) for way, values in costs.items()}


def writer_throughput(tenant) -> float:
    from audit.chain import write_events
    from audit.events import build_event

    batches = [
        [build_event("bench.write", "R", tenant=tenant) for _ in range(WRITER_BATCH)]
        for _ in range(WRITER_EVENTS // WRITER_BATCH)
    ]
    started = time.perf_counter()
    for batch in batches:
        write_events(batch)
    return WRITER_EVENTS / (time.perf_counter() - started)


def summary(label: str, measured: list[float], base: float | None) -> str:
    median = statistics.median(measured)
    p95 = measured[int(len(measured) * 0.95) - 1]
    ratio = f"{median / base:.3f}" if base else "1.000"
    return f"{label:<46} {median:>9.2f} {p95:>9.2f} {ratio:>14}"


def main() -> None:
    import redis
    from django.conf import settings

    from core.tenancy import all_tenants
    from domains.models import Tenant

    if not settings.REDIS_URL:
        sys.exit("This benchmark needs REDIS_URL: the previous write path published to Redis.")
    names = {}
    for alias in ("default", "audit"):
        names[alias] = connections[alias].creation.create_test_db(
            verbosity=0, autoclobber=True, keepdb=False
        )
    queue = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queued_before = queue.llen("celery")
    try:
        with all_tenants():
            url = build()
            client = logged_in_client("bench@bench.test")
            off, ours = interleaved(client, url, our_switch())
            time.sleep(0.5)  # the last wake-up leaves its thread
            woken = queue.llen("celery") - queued_before

            env = {
                **os.environ,
                "DATABASE_URL": _url("default"),
                "AUDIT_DATABASE_URL": _url("audit"),
            }
            output = subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--peer", url],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            peer_result = json.loads(output.strip().splitlines()[-1])
            tenant = Tenant.objects.get(name="Bench")
            costs = write_costs(tenant)
            throughput = writer_throughput(tenant)
    finally:
        queue.delete("celery")
        for alias, name in names.items():
            connections[alias].creation.destroy_test_db(name, verbosity=0)

    print(
        f"employee page, {REQUESTS} requests each after {WARMUP} warm-up (Django test client, "
        "whole stack; each approach interleaved with 'off' in its own process)"
    )
    print(f"{'approach':<46} {'median ms':>9} {'p95 ms':>9} {'median / off':>14}")
    base = statistics.median(off)
    print(summary("off (no audit), our process", off, None))
    print(summary(f"ours (outbox INSERT; {woken} wake-ups sent)", ours, base))
    peer_base = statistics.median(peer_result["off"])
    print(summary("off (no audit), auditlog's process", peer_result["off"], None))
    print(
        summary(
            f"auditlog sync access log ({peer_result['rows']} rows)",
            peer_result["timings"],
            peer_base,
        )
    )
    print(f"one page's event, {WRITES} times each way, in turn (microseconds):")
    for way, values in costs.items():
        p95 = values[int(len(values) * 0.95) - 1]
        print(f"  {way:<40} median {statistics.median(values):>7.0f}   p95 {p95:>7.0f}")
    print(
        f"writer: {WRITER_EVENTS:,} events in batches of {WRITER_BATCH:,}: "
        f"{throughput:,.0f} events/s"
    )


def _url(alias: str) -> str:
    config = connections[alias].settings_dict
    host = config["HOST"] or config.get("OPTIONS", {}).get("host", "")
    if host.startswith("/"):
        return f"postgresql://{config['USER']}@/{config['NAME']}?host={host}"
    return f"postgresql://{config['USER']}@{host}:{config['PORT'] or 5432}/{config['NAME']}"


if __name__ == "__main__":
    if PEER:
        peer(sys.argv[-1])
    else:
        main()
