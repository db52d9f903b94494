"""Retention terms per tenant and data category (sources: ../shared/reference/retention.md).

The AVG sets no fixed terms; they come from the AP policy rules "De zieke werknemer" (absence
data at most 2 years after employment ends), the ERD-ZW regulation (5 years), vendor practice
for the WGA file (10 years) and art. 7:454 lid 3 BW for the medical file (20 years since
1 January 2020, counted from the file's last change). A tenant may change a term within what
the law allows (LEGAL_MINIMUM_YEARS, LEGAL_MAXIMUM_YEARS); a row exists only for a term a
functional admin saved, the defaults apply otherwise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import AbsenceCase
from core.models import TenantOwned
from employees.models import Employee


class Category(models.TextChoices):
    ABSENCE = "absence", _("Absence and re-integration data")
    MASTER_DATA = "master_data", _("Employee master data")
    ERD_ZW = "erd_zw", _("Own-risk bearer Sickness Benefits Act (ERD-ZW) data")
    WGA = "wga", _("WGA data")
    MEDICAL = "medical", _("Medical file")
    SIGN_IN = "sign_in", _("SMS and sign-in records naming the person")


class StartEvent(models.TextChoices):
    EMPLOYMENT_END = "employment_end", _("End of employment")
    RECOVERY = "recovery", _("Recovery (end of the last case)")
    LAST_CHANGE = "last_change", _("Last change to the file")


@dataclass(frozen=True)
class Term:
    category: str
    years: int
    start_event: str

    @property
    def category_label(self) -> str:
        return str(Category(self.category).label)

    @property
    def start_event_label(self) -> str:
        return str(StartEvent(self.start_event).label)


# The legal defaults. ERD-ZW and WGA count from the end of the case as the design card says
# (sources differ: VerzuimSignaal counts from the end of employment; a tenant may choose that).
DEFAULT_TERMS: dict[str, Term] = {
    Category.ABSENCE: Term(Category.ABSENCE, 2, StartEvent.EMPLOYMENT_END),
    Category.MASTER_DATA: Term(Category.MASTER_DATA, 2, StartEvent.EMPLOYMENT_END),
    Category.ERD_ZW: Term(Category.ERD_ZW, 5, StartEvent.RECOVERY),
    Category.WGA: Term(Category.WGA, 10, StartEvent.RECOVERY),
    Category.MEDICAL: Term(Category.MEDICAL, 20, StartEvent.LAST_CHANGE),
    Category.SIGN_IN: Term(Category.SIGN_IN, 2, StartEvent.EMPLOYMENT_END),
}
# The start events that make sense per category: the medical file's term runs from its last
# change by law (since 2020); master data and sign-in records exist as long as the employment.
ALLOWED_START_EVENTS: dict[str, tuple[str, ...]] = {
    Category.ABSENCE: (StartEvent.EMPLOYMENT_END, StartEvent.RECOVERY),
    Category.MASTER_DATA: (StartEvent.EMPLOYMENT_END,),
    Category.ERD_ZW: (StartEvent.RECOVERY, StartEvent.EMPLOYMENT_END),
    Category.WGA: (StartEvent.RECOVERY, StartEvent.EMPLOYMENT_END),
    Category.MEDICAL: (StartEvent.LAST_CHANGE,),
    Category.SIGN_IN: (StartEvent.EMPLOYMENT_END,),
}
# Statutory obligations to keep at least this long (ERD-ZW regulation art. 3 lid 2; art. 7:454
# lid 3 BW), and the AP's maximum for absence data (longer only under a hold).
LEGAL_MINIMUM_YEARS: dict[str, int] = {Category.ERD_ZW: 5, Category.MEDICAL: 20}
LEGAL_MAXIMUM_YEARS: dict[str, int] = {Category.ABSENCE: 2}
MAX_YEARS = 100


class RetentionTerm(TenantOwned):
    """A tenant's own term for one category (absent: the default applies)."""

    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    years = models.PositiveSmallIntegerField(
        _("years"), validators=[MinValueValidator(1), MaxValueValidator(MAX_YEARS)]
    )
    start_event = models.CharField(_("counted from"), max_length=20, choices=StartEvent.choices)

    class Meta(TenantOwned.Meta):
        verbose_name = _("retention term")
        verbose_name_plural = _("retention terms")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "category"], name="one_retention_term_per_category"
            )
        ]

    def __str__(self) -> str:
        return f"Retention term {self.key}"

    @property
    def term(self) -> Term:
        return Term(self.category, self.years, self.start_event)


class HoldReason(models.TextChoices):
    """Why data is kept past its term: the AP allows it while a dispute is not settled."""

    BENEFIT_DISPUTE = "benefit_dispute", _("Dispute about a benefit")
    LABOUR_CONFLICT = "labour_conflict", _("Labour conflict")
    WAGE_SANCTION = "wage_sanction", _("Wage sanction (loonsanctie) procedure")


class LegalHold(TenantOwned):
    """A hold on an employee's data (or on one case) that suspends its deletion until its end
    date or until lifted. Kept for the record after it ends (it names no personal data)."""

    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="legal_holds", verbose_name=_("employee")
    )
    case = models.ForeignKey(
        AbsenceCase,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
        verbose_name=_("absence case"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=HoldReason.choices)
    ends_on = models.DateField(_("until"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, editable=False)

    class Meta(TenantOwned.Meta):
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["tenant", "ends_on"], name="legal_hold_ends_on")]

    def __str__(self) -> str:
        return f"Legal hold {self.key}"

    def audit_subject_key(self) -> uuid.UUID | None:
        return Employee.unscoped.filter(pk=self.employee_id).values_list("key", flat=True).first()

    def is_active(self, today: date | None = None) -> bool:
        """Suspends deletion today: not lifted, and its end date not passed."""
        return self.lifted_at is None and self.ends_on >= (today or timezone.localdate())

    @staticmethod
    def active_condition(today: date | None = None) -> Q:
        return Q(lifted_at__isnull=True, ends_on__gte=today or timezone.localdate())


class RetentionDue(TenantOwned):
    """What the nightly scan found for one employee and category: when the term started, the
    date the data becomes deletable (empty while that is not known yet: still employed, a case
    still open) and whether a legal hold suspends it. Written only by retention/scan.py; it
    marks, it never deletes."""

    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    years = models.PositiveSmallIntegerField(_("years"))
    start_event = models.CharField(_("counted from"), max_length=20, choices=StartEvent.choices)
    started_on = models.DateField(null=True)
    deletable_on = models.DateField(_("deletable from"), null=True)
    on_hold = models.BooleanField(default=False)
    scanned_at = models.DateTimeField()

    class Meta(TenantOwned.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "category"], name="one_retention_result_per_category"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "category", "deletable_on"], name="retention_due"),
        ]

    def __str__(self) -> str:
        return f"Retention result {self.key}"
