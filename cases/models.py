"""Absence cases (verzuimdossiers): sick spells, incapacity, the Poortwachter milestones, and
notes and documents — general ones, and medical ones that only the company doctor can open.

An employer may record only what the AP allows (policy rules "De zieke werknemer"): expected
duration, contact details while sick, work accident, liable third party, whether a safety-net
rule applies (not which). Nothing about the nature or cause of the illness; the free-text fields
here are prescanned for medical terms (cases/prescan.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.poortwachter import RULES_BY_KIND, Responsible
from core.encryption import SealedBytes, SealedText
from core.models import TenantOwned
from employees.models import Employee


class CaseType(models.TextChoices):
    SICKNESS = "sickness", _("Sickness")
    # Pregnancy-related absence is a case of its own, kept out of the absence figures.
    PREGNANCY = "pregnancy", _("Pregnancy-related")


class ExpectedDuration(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    DAYS = "days", _("A few days")
    WEEKS = "weeks", _("One to six weeks")
    MONTHS = "months", _("Six weeks to three months")
    LONG = "long", _("Longer than three months")


class DurationClass(models.TextChoices):
    SHORT = "short", _("Short (1–14 days)")
    MEDIUM = "medium", _("Medium (15–91 days)")
    LONG = "long", _("Long (92–365 days)")
    EXTRA_LONG = "extra_long", _("Extra long (366 days or more)")


DURATION_CLASS_DAYS = {
    DurationClass.SHORT: (1, 14),
    DurationClass.MEDIUM: (15, 91),
    DurationClass.LONG: (92, 365),
    DurationClass.EXTRA_LONG: (366, None),
}


class AbsenceCase(TenantOwned):
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="absence_cases")
    case_type = models.CharField(
        _("kind of absence"), max_length=20, choices=CaseType.choices, default=CaseType.SICKNESS
    )
    first_sick_day = models.DateField(_("first sick day"))
    recovered_on = models.DateField(_("recovered on"), null=True, blank=True)
    expected_duration = models.CharField(
        _("expected duration"),
        max_length=20,
        choices=ExpectedDuration.choices,
        default=ExpectedDuration.UNKNOWN,
    )
    work_accident = models.BooleanField(_("work accident"), default=False)
    third_party_liable = models.BooleanField(_("a liable third party is involved"), default=False)
    safety_net = models.BooleanField(
        _("a safety-net (vangnet) rule applies"),
        default=False,
        help_text=_("Only whether one applies; never which one (that would reveal medical data)."),
    )
    contact_phone = models.CharField(_("phone number while sick"), max_length=30, blank=True)
    contact_address = models.CharField(
        _("address while sick, if different"), max_length=200, blank=True
    )
    remarks = models.TextField(_("remarks"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        verbose_name = _("absence case")
        verbose_name_plural = _("absence cases")
        ordering = ["-first_sick_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recovered_on__isnull=True)
                | models.Q(recovered_on__gt=models.F("first_sick_day")),
                name="recovery_after_first_sick_day",
            ),
            models.UniqueConstraint(
                fields=["employee"],
                condition=models.Q(recovered_on__isnull=True),
                name="one_open_case_per_employee",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "recovered_on", "first_sick_day"], name="case_open_first_day"
            )
        ]

    def __str__(self) -> str:
        return f"Absence case {self.key}"

    def audit_subject_key(self) -> Any:
        return Employee.unscoped.filter(pk=self.employee_id).values_list("key", flat=True).first()

    @property
    def is_open(self) -> bool:
        return self.recovered_on is None

    @property
    def counts_in_absence_figures(self) -> bool:
        return self.case_type != CaseType.PREGNANCY

    def duration_days(self, today=None) -> int:
        """Calendar days from the first sick day to recovery (or today), both counted."""
        end = self.recovered_on or ((today or timezone.localdate()) + timedelta(days=1))
        return (end - self.first_sick_day).days

    def period_bounds(self) -> list[tuple]:
        return [(period.starts_on, period.ends_on) for period in self.periods.all()]


class AboutTheCaseEmployee:
    """A row of a case: for the audit trail, its data is about the case's employee."""

    case_id: int

    def audit_subject_key(self) -> Any:
        return (
            AbsenceCase.unscoped.filter(pk=self.case_id)
            .values_list("employee__key", flat=True)
            .first()
        )


class AbsencePeriod(AboutTheCaseEmployee, TenantOwned):
    """One sick spell. A case has several when an absence continued it (merge within 28 days).

    The table also holds the case's `employee_id` and `case_type`, for the absence figures
    (reports/figures.py): no model fields, the database keeps them with triggers (cases migration
    0008), as it does the covering index on the spell's days the figures find a period's spells
    by."""

    case = models.ForeignKey(AbsenceCase, on_delete=models.CASCADE, related_name="periods")
    starts_on = models.DateField(_("first sick day"))
    ends_on = models.DateField(_("last sick day"), null=True, blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["starts_on"]

    def __str__(self) -> str:
        return f"Absence period {self.key}"


class IncapacityChange(AboutTheCaseEmployee, TenantOwned):
    """From `starts_on` the employee is this percentage unfit for work (partial recovery).

    The table also holds the days each change applies (`applies_from`, `applies_until`) for the
    absence figures: no model fields, the database keeps them with triggers (cases migration
    0008)."""

    case = models.ForeignKey(
        AbsenceCase, on_delete=models.CASCADE, related_name="incapacity_changes"
    )
    starts_on = models.DateField(_("from"))
    percentage = models.PositiveSmallIntegerField(
        _("incapacity %"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta(TenantOwned.Meta):
        ordering = ["starts_on", "pk"]

    def __str__(self) -> str:
        return f"Incapacity change {self.key}"


class CaseCorrection(AboutTheCaseEmployee, TenantOwned):
    """A correction of a case's dates: who, when, why, and which fields (never their values)."""

    case = models.ForeignKey(AbsenceCase, on_delete=models.CASCADE, related_name="corrections")
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    corrected_at = models.DateTimeField(auto_now_add=True)
    fields = models.CharField(max_length=200)
    reason = models.TextField(_("reason"))

    class Meta(TenantOwned.Meta):
        ordering = ["-corrected_at"]

    def __str__(self) -> str:
        return f"Case correction {self.key}"


class CaseDocument(AboutTheCaseEmployee, TenantOwned):
    """A general document (agreements, plan of action, the doctor's advice on limitations)."""

    case = models.ForeignKey(AbsenceCase, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content_sealed = models.BinaryField(editable=False)
    content = SealedBytes("content_sealed")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"Case document {self.key}"


class CaseNote(AboutTheCaseEmployee, TenantOwned):
    """A general note, readable according to the domain rules. Prescanned for medical terms."""

    case = models.ForeignKey(AbsenceCase, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(_("note"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Case note {self.key}"


class Milestone(AboutTheCaseEmployee, TenantOwned):
    """One legal step of the Poortwachter timeline for a case (rules: cases/poortwachter.py)."""

    case = models.ForeignKey(AbsenceCase, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=40)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    document = models.ForeignKey(
        CaseDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta(TenantOwned.Meta):
        ordering = ["due_on", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"], name="one_milestone_of_a_kind_per_case"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "done_on", "due_on"], name="milestone_open_due"),
            # A case's open steps by due date: the case list's "overdue" fact per row and the
            # work list's steps of the visible cases, one short range each, not a filter over
            # every step the case ever had.
            models.Index(
                fields=["case", "due_on"],
                condition=models.Q(done_on__isnull=True),
                name="milestone_open_by_case",
            ),
        ]

    def __str__(self) -> str:
        return f"Milestone {self.key}"

    @property
    def rule(self):
        return RULES_BY_KIND[self.kind]

    @property
    def label(self):
        return self.rule.label

    @property
    def responsible_label(self):
        return Responsible(self.rule.responsible).label

    def state(self, today=None) -> str:
        if self.done_on:
            return "done"
        if self.due_on is None:
            return "not_reached"
        return "overdue" if self.due_on < (today or timezone.localdate()) else "open"


class MedicalNote(AboutTheCaseEmployee, TenantOwned):
    """A note in the medical file: sealed at rest, opened only by the company doctor after a
    fresh second factor. Kept apart from CaseNote so no general list can ever include it."""

    case = models.ForeignKey(AbsenceCase, on_delete=models.CASCADE, related_name="medical_notes")
    text_sealed = models.BinaryField(editable=False)
    text = SealedText("text_sealed")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Medical note {self.key}"


class MedicalDocument(AboutTheCaseEmployee, TenantOwned):
    """A document in the medical file. Its title and file name are sealed too: they can say as
    much as the content ("MRI knie.pdf")."""

    case = models.ForeignKey(
        AbsenceCase, on_delete=models.CASCADE, related_name="medical_documents"
    )
    title_sealed = models.BinaryField(editable=False)
    title = SealedText("title_sealed")
    file_name_sealed = models.BinaryField(editable=False)
    file_name = SealedText("file_name_sealed")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content_sealed = models.BinaryField(editable=False)
    content = SealedBytes("content_sealed")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta(TenantOwned.Meta):
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"Medical document {self.key}"
