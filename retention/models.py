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
    # Not per employee: an uploaded file names many people (imports/models.py). It is listed
    # apart on the overview and is never in the scan's per-employee results.
    IMPORT_FILES = "import_files", _("Import files")


class StartEvent(models.TextChoices):
    EMPLOYMENT_END = "employment_end", _("End of employment")
    RECOVERY = "recovery", _("Recovery (end of the last case)")
    LAST_CHANGE = "last_change", _("Last change to the file")
    UPLOAD = "upload", _("Upload of the file")


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
    # No statutory term: an import file has served its purpose once written (AVG art. 5(1)(e),
    # no longer than necessary); a year leaves room to trace an import that went wrong.
    Category.IMPORT_FILES: Term(Category.IMPORT_FILES, 1, StartEvent.UPLOAD),
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
    Category.IMPORT_FILES: (StartEvent.UPLOAD,),
}
# Statutory obligations to keep at least this long (ERD-ZW regulation art. 3 lid 2; art. 7:454
# lid 3 BW), and the AP's maximum for absence data (longer only under a hold).
LEGAL_MINIMUM_YEARS: dict[str, int] = {Category.ERD_ZW: 5, Category.MEDICAL: 20}
LEGAL_MAXIMUM_YEARS: dict[str, int] = {Category.ABSENCE: 2}
# The categories the scan dates per employee (import files are dated per file).
EMPLOYEE_CATEGORIES = [c for c in Category.values if c != Category.IMPORT_FILES]
# Absence, ERD-ZW and WGA data are the same rows (the cases): they are deleted together.
CASE_CATEGORIES = (Category.ABSENCE, Category.ERD_ZW, Category.WGA)
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

    # A result derived from the employee, rewritten by the scan in bulk: no database-level
    # foreign-key check per row (those cost as much as the writing itself on 100,000 employees,
    # bench/retention.py); Django's cascade still removes it with its employee.
    tenant = models.ForeignKey(
        "domains.Tenant", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    employee = models.ForeignKey(
        Employee, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    years = models.PositiveSmallIntegerField(_("years"))
    start_event = models.CharField(_("counted from"), max_length=20, choices=StartEvent.choices)
    started_on = models.DateField(null=True)
    deletable_on = models.DateField(_("deletable from"), null=True)
    on_hold = models.BooleanField(default=False)
    scanned_at = models.DateTimeField()  # when stored; a result unchanged since keeps its time

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


class RetentionSettings(TenantOwned):
    """A tenant's settings for deletion: above how many employees a second person approves."""

    second_person_above = models.PositiveIntegerField(
        _("a second person approves a deletion of more than this many employees"), default=25
    )

    class Meta(TenantOwned.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="one_retention_settings_per_tenant")
        ]

    def __str__(self) -> str:
        return f"Retention settings {self.key}"


class DeletionStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting", _("Waiting for a second person")
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Deleting")
    DONE = "done", _("Deleted")
    REFUSED = "refused", _("Refused by the second person")


class DeletionRequest(TenantOwned):
    """A person's confirmed request to delete data past its term: the deletion report.

    It names no one: who asked (and approved), when, which categories, and counts. The employees
    it concerns are its items until each is done; a deleted employee's item loses its link.
    Progress lives here, so a run that crashed continues where its last batch ended."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True)
    status = models.CharField(max_length=10, choices=DeletionStatus.choices)
    categories = models.JSONField(default=list)
    # The summary the person confirmed.
    employees_planned = models.PositiveIntegerField(default=0)
    cases_planned = models.PositiveIntegerField(default=0)
    documents_planned = models.PositiveIntegerField(default=0)
    medical_files_planned = models.PositiveIntegerField(default=0)
    import_files = models.JSONField(default=list)  # keys of the import files to delete
    # Progress and outcome (counts per kind of row, filled in per batch).
    items_total = models.PositiveIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True)
    progress_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    employees_deleted = models.PositiveIntegerField(default=0)
    employees_skipped = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)

    class Meta(TenantOwned.Meta):
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Deletion request {self.key}"

    @property
    def running(self) -> bool:
        return self.status in (DeletionStatus.QUEUED, DeletionStatus.RUNNING)

    @property
    def progress_percent(self) -> int:
        if not self.items_total:
            return 100 if self.status == DeletionStatus.DONE else 0
        return min(100, int(100 * self.items_done / self.items_total))

    @property
    def category_labels(self) -> list[str]:
        return [str(Category(c).label) for c in self.categories if c in Category.values]


class ItemOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELETED = "deleted", _("Deleted")
    HELD = "held", _("Skipped: legal hold")
    NOT_DUE = "not_due", _("Skipped: no longer past its term")
    MEDICAL_REMAINS = "medical", _("Skipped: the medical file must be deleted first")


class DeletionItem(TenantOwned):
    """One employee of a request and the categories to delete of it. Marked done in the same
    transaction as its deletion, so a crash never deletes twice nor skips one."""

    request = models.ForeignKey(DeletionRequest, on_delete=models.CASCADE, related_name="items")
    employee = models.ForeignKey(Employee, on_delete=models.SET_NULL, null=True, related_name="+")
    categories = models.JSONField(default=list)
    outcome = models.CharField(
        max_length=10, choices=ItemOutcome.choices, default=ItemOutcome.PENDING
    )

    class Meta(TenantOwned.Meta):
        ordering = ["pk"]
        indexes = [models.Index(fields=["request", "outcome"], name="deletion_item_outcome")]

    def __str__(self) -> str:
        return f"Deletion item {self.key}"


class Offboarding(models.Model):
    """A leaving customer's environment: asked by one operator, approved by a second (who gets
    the approval code; only its hash is kept), carried out by the first. Not tenant-owned: it
    outlives the environment, as the record that its data was exported and destroyed."""

    tenant_id = models.BigIntegerField()
    tenant_key = models.UUIDField()
    requested_by = models.CharField(max_length=100)
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=100, blank=True)
    approved_at = models.DateTimeField(null=True)
    approval_code_hash = models.CharField(max_length=64, blank=True)
    completed_at = models.DateTimeField(null=True)
    rows_deleted = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Offboarding {self.pk}"
