"""The audit trail's records live in the "audit" database, and nothing else does.

Two aliases reach that database. "audit" is the application's connection: in production a role
with INSERT and SELECT on the records only (README "Audit trail"). "audit_owner" is the owner of
the tables, used only by `manage.py migrate --database audit_owner`; it is configured
(AUDIT_MIGRATE_DATABASE_URL) where migrations run, never in the web or worker processes. Where
no owner alias is configured outside production (development and tests, one role for
everything), the "audit" alias migrates the records itself.

Everything else of the audit app (the outbox, exports, the chain checkpoints) lives in the
application's "default" database.
"""

from django.conf import settings

AUDIT_DB = "audit"
AUDIT_OWNER_DB = "audit_owner"
AUDIT_MODELS = {"auditevent"}


def _is_audit_record(app_label: str, model_name: str | None) -> bool:
    return app_label == "audit" and (model_name or "").lower() in AUDIT_MODELS


def migrating_alias() -> str:
    """The alias that creates and changes the audit store's tables."""
    if AUDIT_OWNER_DB in settings.DATABASES or getattr(settings, "PRODUCTION", False):
        return AUDIT_OWNER_DB
    return AUDIT_DB


class AuditRouter:
    def db_for_read(self, model, **hints):
        return AUDIT_DB if _is_audit_record(model._meta.app_label, model._meta.model_name) else None

    def db_for_write(self, model, **hints):
        return self.db_for_read(model, **hints)

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db in (AUDIT_DB, AUDIT_OWNER_DB):
            return db == migrating_alias() and _is_audit_record(app_label, model_name)
        return not _is_audit_record(app_label, model_name)
