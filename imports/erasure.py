"""Erasing import files, for the retention app above (it decides what and when; a person
confirmed it). An import file names many people, so it is dated and deleted as a whole, and
when one employee is deleted every kept file that names them is shredded: its sealed content,
outcomes and refusals go, the row stays with its counts as the record of the import."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext

from imports.models import RUNNING, EmployeeImport, ImportStatus
from imports.parsing import FileRefused, raw_rows


def import_files_uploaded_before(tenant_id: int, moment: datetime) -> QuerySet[EmployeeImport]:
    """The tenant's import files uploaded before `moment` that still hold their content (the
    ones being checked or written are left alone)."""
    return (
        EmployeeImport.objects.filter(tenant_id=tenant_id, created_at__lt=moment)
        .exclude(status__in=RUNNING)
        .exclude(content_sealed__isnull=True)
    )


def delete_import_files(queryset: QuerySet[EmployeeImport]) -> int:
    """Delete these import files (their rows, with the sealed file and outcomes in them)."""
    deleted, _per_model = queryset.exclude(status__in=RUNNING).delete()
    return deleted


def shred_files_naming(tenant_id: int, needles: Iterable[tuple[str, ...]]) -> int:
    """Shred every kept import file of the tenant whose content holds all the strings of one of
    `needles` (e.g. a personnel number and a surname): content, outcomes and refusals removed,
    the file name replaced. Returns how many files were shredded."""
    wanted = [tuple(n.casefold() for n in needle if n) for needle in needles]
    wanted = [needle for needle in wanted if needle]
    if not wanted:
        return 0
    shredded = 0
    kept = EmployeeImport.objects.filter(tenant_id=tenant_id, content_sealed__isnull=False)
    for employee_import in kept.exclude(status__in=RUNNING).order_by("pk"):
        text = _file_text(employee_import) + (employee_import.refusals_json or "").casefold()
        if not any(all(part in text for part in needle) for needle in wanted):
            continue
        employee_import.content_sealed = None
        employee_import.refusals_sealed = None
        employee_import.outcomes_sealed = None
        employee_import.file_name = gettext("removed under the retention rules")
        if employee_import.status == ImportStatus.PREVIEWED:
            employee_import.status = ImportStatus.FAILED
        employee_import.message = gettext("The file was removed under the retention rules.")
        employee_import.save()
        shredded += 1
    return shredded


def _file_text(employee_import: EmployeeImport) -> str:
    """Every cell of the file as one lowercase text (a workbook is unzipped first); a file that
    cannot be read as a table is searched as raw text."""
    data = employee_import.content or b""
    try:
        rows = raw_rows(data, employee_import.file_name or "")
        return "\n".join("\t".join(str(v) for v in row if v is not None) for row in rows).casefold()
    except FileRefused:
        return data.decode("utf-8", "replace").casefold()
