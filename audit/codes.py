"""The audit trail's vocabulary: actions, outcomes and the fields of a record (NEN 7513).

Kept apart from the models so change capture (which the models' manager uses) can name them.
"""

from __future__ import annotations

from auditlog.models import AbstractLogEntry
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    CREATE = "C", _("Create")
    READ = "R", _("Read")
    UPDATE = "U", _("Update")
    DELETE = "D", _("Delete")
    EXECUTE = "E", _("Execute")


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    FAILURE = "failure", _("Failure")
    DENIED = "denied", _("Denied")


# The fields of an event, in the order they are hashed and exported.
EVENT_FIELDS = [
    "event_id", "occurred_at", "tenant_key", "action", "event_type", "outcome", "actor_key",
    "actor_account_type", "actor_domain", "actor_roles", "on_behalf_of", "object_type",
    "object_key", "subject_key", "changed_fields", "result_count", "client_ip", "request_id",
]  # fmt: skip

# django-auditlog's actions -> ours: (action code, verb in the event type).
AUDITLOG_ACTIONS = {
    AbstractLogEntry.Action.CREATE: (Action.CREATE, "create"),
    AbstractLogEntry.Action.UPDATE: (Action.UPDATE, "update"),
    AbstractLogEntry.Action.DELETE: (Action.DELETE, "delete"),
    AbstractLogEntry.Action.ACCESS: (Action.READ, "view"),
}
