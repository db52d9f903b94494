"""The audit trail: a sink every layer hands events to; it imports only the core."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from audit import signals  # noqa: F401 - connects the auth-signal receivers
        from audit.capture import track
        from audit.models import AuditExport

        track(AuditExport)
