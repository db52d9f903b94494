"""The retention app: how long each category of personal data is kept, and holds on deletion."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Retention")

    def ready(self) -> None:
        from audit.capture import track
        from retention import models

        for model in (models.RetentionTerm, models.LegalHold):
            track(model)
