"""Absence cases (verzuimgevallen). For now only what negative registration needs to know: who
has a case, since when, until when. The absence-cases issue grows this model."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from domains.models import TenantOwned
from employees.models import Employee


class AbsenceCase(TenantOwned):
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="absence_cases")
    first_sick_day = models.DateField(_("first sick day"))
    recovered_on = models.DateField(_("recovered on"), null=True, blank=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("absence case")
        verbose_name_plural = _("absence cases")
        ordering = ["-first_sick_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recovered_on__isnull=True)
                | models.Q(recovered_on__gte=models.F("first_sick_day")),
                name="recovery_after_first_sick_day",
            )
        ]

    def __str__(self) -> str:
        return f"Absence case {self.key}"

    @property
    def is_open(self) -> bool:
        return self.recovered_on is None
