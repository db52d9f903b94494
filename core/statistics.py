"""The planner's statistics after bulk writes.

PostgreSQL plans each query from table statistics that autovacuum refreshes some time after
enough rows changed, and only for committed rows. After a bulk load (the demo seed, an import)
the statistics still describe the tables as they were, empty or much smaller, and a plan chosen
for a handful of rows (nested loops over sequential scans) can take seconds on thousands. Inside
a transaction, ANALYZE counts the rows the transaction itself wrote, so a seed that goes on
querying its own fresh rows gets plans for their real size; after a commit it spares the wait
for autovacuum. ANALYZE samples a bounded number of rows: cheap even on large tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction

LOCK_NOT_AVAILABLE = "55P03"


def planner_rows(model: Any, using: str = DEFAULT_DB_ALIAS) -> float:
    """How many rows the planner believes the model's table holds (pg_class.reltuples, as of
    the last ANALYZE; -1 when it was never analysed)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        (rows,) = cursor.fetchone()
    return float(rows)


def analyze(*models: Any, using: str = DEFAULT_DB_ALIAS, wait: bool = True) -> None:
    """ANALYZE the tables of these models now.

    `wait=False`, for a transaction that goes on locking rows (an import's commit): ANALYZE
    keeps a lock on its table until the transaction ends, and a second such transaction
    waiting for that lock while it holds rows the first one needs would deadlock both. So a
    table whose statistics someone else is refreshing is left as it is (they are an
    optimisation), instead of waited for."""
    connection = connections[using]
    for model in models:
        statement = f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}"
        if wait:
            with connection.cursor() as cursor:
                cursor.execute(statement)
            continue
        try:
            with _local_setting("lock_timeout", "10ms", using), connection.cursor() as cursor:
                cursor.execute(statement)
        except OperationalError as error:
            # The savepoint's rollback put lock_timeout back too.
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise


@contextmanager
def priced_for_index_lookups(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Within (one transaction, or a savepoint of the caller's): the planner prices a random
    page read as on solid-state storage (random_page_cost 1.1; PostgreSQL's default 4 is for
    spinning disks), so a thousand keys looked up through a unique index are not planned as a
    read of the whole table: 15 ms against 3 ms a batch when an import updates 100,000
    employees. The setting is put back on leaving (a rollback puts it back by itself)."""
    with _local_setting("random_page_cost", "1.1", using):
        yield


@contextmanager
def _local_setting(name: str, value: str, using: str) -> Iterator[None]:
    """A setting for the statements within only: set in a savepoint (or transaction) and put
    back on leaving; a rollback puts it back by itself."""
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting(%s), set_config(%s, %s, true)", [name, name, value]
            )
            (before, _now) = cursor.fetchone()
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, before])
