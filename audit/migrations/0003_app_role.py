"""The application's role in the audit store gets INSERT and SELECT on the records (and USAGE on
their id sequence), and nothing else; the trigger function no longer consults a setting.

The role is settings.AUDIT_APP_ROLE (by default the user of AUDIT_DATABASE_URL when migrations
run as another role, the owner: AUDIT_MIGRATE_DATABASE_URL). Without one (development, tests: a
single role does everything) there is nothing to grant. The migration refuses a role that is a
superuser, owns the table or is a member of its owner: such a role could switch the trigger off.
"""

import re

from django.conf import settings
from django.db import migrations

STRICT_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def grant_app_role(cursor, role: str) -> None:
    """INSERT and SELECT on the audit records for `role`, everything else revoked."""
    if not ROLE_NAME.fullmatch(role):
        raise ValueError(f"AUDIT_APP_ROLE {role!r} is not a plain PostgreSQL role name.")
    cursor.execute(
        "SELECT r.rolsuper, pg_has_role(r.oid, t.tableowner, 'MEMBER')"
        " FROM pg_roles r, pg_tables t"
        " WHERE r.rolname = %s AND t.schemaname = current_schema() AND t.tablename = %s",
        [role, "audit_auditevent"],
    )
    found = cursor.fetchone()
    if found is None:
        raise ValueError(f"The audit application role {role!r} does not exist (AUDIT_APP_ROLE).")
    superuser, owner = found
    if superuser or owner:
        raise ValueError(
            f"The audit application role {role!r} is a superuser or (a member of) the owner of "
            "the audit table: it could switch the append-only trigger off. Use a role of its own."
        )
    cursor.execute("SELECT pg_get_serial_sequence('audit_auditevent', 'id')")
    sequence = cursor.fetchone()[0]  # already quoted and qualified by PostgreSQL
    quoted = f'"{role}"'
    cursor.execute(f"REVOKE ALL ON TABLE audit_auditevent FROM PUBLIC, {quoted}")
    cursor.execute(f"GRANT SELECT, INSERT ON TABLE audit_auditevent TO {quoted}")
    cursor.execute(f"REVOKE ALL ON SEQUENCE {sequence} FROM PUBLIC, {quoted}")
    cursor.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {quoted}")


def grant(apps, schema_editor):
    role = getattr(settings, "AUDIT_APP_ROLE", "")
    if role:
        with schema_editor.connection.cursor() as cursor:
            grant_app_role(cursor, role)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [
        migrations.RunSQL(STRICT_FUNCTION, migrations.RunSQL.noop, hints={"model_name": "auditevent"}),
        migrations.RunPython(grant, migrations.RunPython.noop, hints={"model_name": "auditevent"}),
    ]
