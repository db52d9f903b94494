"""The audit trail's records live in the "audit" database, and nothing else does."""

AUDIT_DB = "audit"
AUDIT_MODELS = {"auditevent"}


def _is_audit_record(app_label: str, model_name: str | None) -> bool:
    return app_label == "audit" and (model_name or "").lower() in AUDIT_MODELS


class AuditRouter:
    def db_for_read(self, model, **hints):
        return AUDIT_DB if _is_audit_record(model._meta.app_label, model._meta.model_name) else None

    def db_for_write(self, model, **hints):
        return self.db_for_read(model, **hints)

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == AUDIT_DB:
            return _is_audit_record(app_label, model_name)
        return not _is_audit_record(app_label, model_name)
