"""An employee import: the uploaded file (sealed), its preview and, once confirmed, its result."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.encryption import SealedBytes, SealedText
from core.models import TenantOwned


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    CHECKING = "checking", _("Checking")
    PREVIEWED = "previewed", _("Previewed")
    COMMITTING = "committing", _("Importing")
    COMMITTED = "committed", _("Imported")
    FAILED = "failed", _("Refused")


RUNNING = {ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.COMMITTING}
MARKER = 2  # where an outcome has its marker (see EmployeeImport.outcomes)


def in_new_department(outcome: list[Any]) -> bool:
    """Whether a row of the preview is placed in a department the import would add."""
    return len(outcome) > MARKER


class EmployeeImport(TenantOwned):
    """One uploaded file. The file stays sealed until the import is confirmed, so the commit
    writes exactly the file that was previewed (its hash is checked again)."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name_sealed = models.BinaryField(null=True, editable=False)
    file_name = SealedText("file_name_sealed")
    content_sealed = models.BinaryField(null=True, editable=False)
    content = SealedBytes("content_sealed")
    file_hash = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    # Progress of the background work (checking, then importing), for the progress bar.
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    # Why the file was refused as a whole, or why the last commit wrote nothing (no cell values).
    message = models.CharField(max_length=500, blank=True)
    new_count = models.PositiveIntegerField(default=0)
    update_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    # Refused rows with their reasons per column (sealed: a reason may quote a cell).
    refusals_sealed = models.BinaryField(null=True, editable=False)
    refusals_json = SealedText("refusals_sealed")
    # Every row's outcome as [row number, "new" | "update" | "unchanged" | "refused"], with a
    # third element "new-department" for a row placed in a department the import would add.
    outcomes_sealed = models.BinaryField(null=True, editable=False)
    outcomes_json = SealedText("outcomes_sealed")
    committed_at = models.DateTimeField(null=True, blank=True)
    skipped_refused = models.BooleanField(default=False)
    # Rows whose key, or personnel number for its employer, the file holds more than once (row
    # numbers only): the commit refuses them without reading the file twice.
    duplicate_rows = models.JSONField(default=list, blank=True)
    # Departments the file names that do not exist yet and that the uploader may add, as
    # [employer name, "Productie/Inpak"] (sealed: names are the customer's); added on commit
    # only if the person chose so (add_departments), else their rows are refused.
    missing_departments_sealed = models.BinaryField(null=True, editable=False)
    missing_departments_json = SealedText("missing_departments_sealed")
    add_departments = models.BooleanField(default=False)

    class Meta(TenantOwned.Meta):
        verbose_name = _("employee import")
        verbose_name_plural = _("employee imports")
        ordering = ["-created_at"]
        constraints = [
            # The same file is imported once (a second confirmation changes nothing).
            models.UniqueConstraint(
                fields=["tenant", "file_hash"],
                condition=models.Q(status="committed"),
                name="one_commit_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"Employee import {self.key}"

    @property
    def refusals(self) -> list[dict[str, Any]]:
        return json.loads(self.refusals_json or "[]")

    @property
    def outcomes(self) -> list[list[Any]]:
        return json.loads(self.outcomes_json or "[]")

    @property
    def missing_departments(self) -> list[list[str]]:
        return json.loads(self.missing_departments_json or "[]")

    def rows_in_new_departments(self) -> Counter[str]:
        """Per outcome (new, update), the rows placed in a department the import would add."""
        return Counter(outcome[1] for outcome in self.outcomes if in_new_department(outcome))

    @property
    def committed(self) -> bool:
        return self.status == ImportStatus.COMMITTED

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, int(100 * self.rows_done / self.rows_total))

    def rows_per_second(self, now: datetime) -> int:
        if self.started_at is None or not self.rows_done:
            return 0
        seconds = max((now - self.started_at).total_seconds(), 0.001)
        return int(self.rows_done / seconds)
