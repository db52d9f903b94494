"""Detail pages answer every access question about their object in one query: pinned counts.

A page that asked the access rule once per permission (as the case page once did, six times)
or a form that queried per row would show here as a higher count. The counts include the
request's own fixed cost: session, user, second factor, tenant, the user's role assignments
(one query for every access answer of the request) and the session save. The employee page
adds the employee with its access answer, its case managers, the candidates, its cases and its
dated hours. The page's audit events cost one INSERT into the outbox, in the request's own
transaction (inside the test's transaction that one is a savepoint: two statements, where
production sends BEGIN and COMMIT). The worker moves them to the audit store, not the page.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import verified_login

PAGES = [
    # (persona, url name, object, queries)
    ("hr", "employees:detail", "employee", 16),
    ("hr", "cases:detail", "case", 19),
    ("bedrijfsarts", "cases:detail", "case", 19),
    ("bedrijfsarts", "cases:medical", "case", 14),
]


@pytest.mark.parametrize(("persona", "name", "obj", "expected"), PAGES)
def test_a_detail_page_costs_a_fixed_number_of_queries(client, world, persona, name, obj, expected):
    verified_login(client, getattr(world, persona))
    url = reverse(name, kwargs={"key": getattr(world, obj).key})
    client.get(url)  # warm the per-process caches (permission ids, tenant keys)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(queries) == expected, "\n".join(q["sql"][:120] for q in queries.captured_queries)
