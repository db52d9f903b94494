"""The cases app: absence cases, the Poortwachter timeline, notes and the medical file."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Absence cases")

    def ready(self) -> None:
        from audit.capture import track
        from cases import models

        for model in (
            models.AbsenceCase, models.AbsencePeriod, models.IncapacityChange,
            models.CaseCorrection, models.CaseNote, models.CaseDocument, models.MedicalNote,
            models.MedicalDocument, models.Milestone,
        ):  # fmt: skip
            track(model)
