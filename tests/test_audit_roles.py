"""The audit store's own database role: the application connects with INSERT and SELECT only.

As the superuser, each test creates a login role and gives it exactly what audit migration 0003
grants the application's role; connected as that role, UPDATE, DELETE and TRUNCATE are refused,
and so is every way round the append-only trigger (switching it off, dropping it, replacing its
function, replication mode), while INSERT and SELECT, and the writer itself, work.
"""

from __future__ import annotations

import importlib
import secrets
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import psycopg
import pytest
from django.db import connections

from audit import events
from audit.chain import verify_chain, write_events
from audit.models import AuditEvent
from audit.router import AUDIT_DB

pytestmark = pytest.mark.django_db(databases=["default", "audit"], transaction=True)
grant_app_role = importlib.import_module("audit.migrations.0003_app_role").grant_app_role


@pytest.fixture
def app_role() -> Iterator[tuple[str, str]]:
    role = f"verzuim_audit_app_test_{uuid.uuid4().hex[:12]}"
    password = secrets.token_hex(16)
    with connections[AUDIT_DB].cursor() as cursor:
        cursor.execute(
            f"CREATE ROLE {role} LOGIN PASSWORD '{password}' NOSUPERUSER NOCREATEDB NOCREATEROLE"
        )
        grant_app_role(cursor, role)  # what the migration grants, and nothing more
    try:
        yield role, password
    finally:
        with connections[AUDIT_DB].cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")  # its privileges in this database
            cursor.execute(f"DROP ROLE {role}")


def connect_as(role: str, password: str) -> psycopg.Connection:
    # Django's own parameters (host and port, or the Unix socket of an embedded server in
    # OPTIONS), with the test role as the user.
    params = connections[AUDIT_DB].get_connection_params()
    params.update(user=role, password=password, autocommit=True)
    return psycopg.connect(**params)


def stored_event(tenant_key: uuid.UUID) -> None:
    tenant = SimpleNamespace(key=tenant_key)
    write_events([events.build_event(f"role.test.{n}", "R", tenant=tenant) for n in range(3)])


REFUSED = {
    "update": "UPDATE audit_auditevent SET outcome = 'failure'",
    "delete": "DELETE FROM audit_auditevent",
    "truncate": "TRUNCATE audit_auditevent",
    "disable trigger": "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_no_update_or_delete",
    "disable all triggers": "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
    "drop trigger": "DROP TRIGGER audit_no_truncate ON audit_auditevent",
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ BEGIN RETURN NULL; "
        "END; $$ LANGUAGE plpgsql"
    ),
    "replication mode skips triggers": "SET session_replication_role = replica",
    "drop the table": "DROP TABLE audit_auditevent",
    # PostgreSQL only warns that nothing was granted; the UPDATE after it shows it.
    "grant itself more": (
        "GRANT UPDATE, DELETE ON audit_auditevent TO CURRENT_USER; "
        "UPDATE audit_auditevent SET outcome = 'failure'"
    ),
    "rename the table away": "ALTER TABLE audit_auditevent RENAME TO audit_old",
}


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_the_app_role_cannot_change_remove_or_unguard_records(app_role, statement):
    stored_event(uuid.uuid4())
    before = AuditEvent.objects.using(AUDIT_DB).count()
    with connect_as(*app_role) as connection, pytest.raises(psycopg.errors.InsufficientPrivilege):
        connection.execute(statement)
    assert AuditEvent.objects.using(AUDIT_DB).count() == before


def test_the_app_role_can_insert_and_select(app_role):
    tenant_key = uuid.uuid4()
    stored_event(tenant_key)
    with connect_as(*app_role) as connection:
        count = connection.execute(
            "SELECT count(*) FROM audit_auditevent WHERE tenant_key = %s", [tenant_key]
        ).fetchone()
        assert count == (3,)
        connection.execute(
            "INSERT INTO audit_auditevent (event_id, tenant_key, sequence, occurred_at,"
            " recorded_at, action, event_type, outcome, actor_account_type, actor_domain,"
            " actor_roles, object_type, changed_fields, client_ip, request_id, prev_hash, hash)"
            " VALUES (%s, %s, 99, now(), now(), 'R', 'role.test', 'success', '', '', '', '',"
            " '{}', '', '', %s, %s)",
            [uuid.uuid4(), uuid.uuid4(), "0" * 64, "1" * 64],
        )


def test_the_writer_works_as_the_app_role(app_role):
    """write_events (advisory lock, COPY, the id sequence) needs nothing beyond the grants."""
    role, password = app_role
    connection = connections[AUDIT_DB]
    saved = {
        "USER": connection.settings_dict["USER"],
        "PASSWORD": connection.settings_dict["PASSWORD"],
    }
    tenant_key = uuid.uuid4()
    connection.close()
    connection.settings_dict.update(USER=role, PASSWORD=password)
    try:
        stored_event(tenant_key)
        stored_event(tenant_key)
        assert verify_chain(tenant_key) is None
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (role,)
        assert AuditEvent.objects.using(AUDIT_DB).filter(tenant_key=tenant_key).count() == 6
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def test_the_migration_refuses_a_superuser_or_owner_as_the_app_role():
    with connections[AUDIT_DB].cursor() as cursor:
        cursor.execute("SELECT current_user")
        (superuser,) = cursor.fetchone()
        with pytest.raises(ValueError, match="superuser or"):
            grant_app_role(cursor, superuser)
        with pytest.raises(ValueError, match="does not exist"):
            grant_app_role(cursor, f"nobody_{uuid.uuid4().hex[:8]}")
