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

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


def analyze(*models: Any, using: str = DEFAULT_DB_ALIAS) -> None:
    """ANALYZE the tables of these models now."""
    connection = connections[using]
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
