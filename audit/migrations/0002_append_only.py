"""The audit table takes INSERT and SELECT only: a trigger refuses UPDATE, DELETE and TRUNCATE
for every role (the owner and superusers included), and PUBLIC gets no other privileges.

The function consults no setting: nothing a connection can set lifts it (migration 0003 replaces
the earlier version that did). Only the owner can switch the trigger off, and the application's
role is not the owner (0003 grants it INSERT and SELECT only)."""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditevent FROM PUBLIC;
"""
ALLOW = """
DROP TRIGGER IF EXISTS audit_no_update_or_delete ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunSQL(FORBID, ALLOW, hints={"model_name": "auditevent"})]
