"""Import pages: upload (with the template), preview and confirm, the refused-rows report."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext

from audit.codes import Action
from audit.events import record_event, record_read
from auth2fa.http import AuthenticatedRequest
from core.exports import csv_response, table_response
from core.forms import show_errors
from domains.access import permission_required
from domains.permissions import Perm
from employees.exports import columns
from imports import services
from imports.forms import ConfirmForm, UploadForm
from imports.models import EmployeeImport, in_new_department
from imports.parsing import FileRefused

PREVIEW_REFUSALS_SHOWN = 200
PREVIEW_ROWS_SHOWN = 200
HISTORY_SHOWN = 200


def _own_import(request: AuthenticatedRequest, key: UUID) -> EmployeeImport:
    """An import is seen by the person who uploaded it (another's, or another tenant's: 404)."""
    return get_object_or_404(
        EmployeeImport.objects.filter(tenant_id=request.user.tenant_id, uploaded_by=request.user),
        key=key,
    )


@permission_required(Perm.EMPLOYEE_IMPORT)
def upload(request: AuthenticatedRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            employee_import = services.start_import(
                by=request.user, file_name=upload_file.name, data=upload_file.read()
            )
        except FileRefused as error:
            show_errors(request, error, form)
        else:
            return redirect("imports:preview", key=employee_import.key)
    return render(request, "imports/upload.html", {"form": form})


def _template(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    """The import template: the employee export with no rows."""
    header = columns(with_bsn=request.user.tenant.bsn_allowed)
    return table_response(kind, "werknemers-sjabloon", header, [], sheet_title=gettext("Employees"))


@permission_required(Perm.EMPLOYEE_IMPORT)
def template_csv(request: AuthenticatedRequest) -> HttpResponse:
    return _template(request, "csv")


@permission_required(Perm.EMPLOYEE_IMPORT)
def template_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    return _template(request, "xlsx")


@permission_required(Perm.EMPLOYEE_IMPORT)
def preview(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """The import's page: its progress while it is checked or written in the background, then
    what it would do (or did); on POST the person confirms the preview."""
    employee_import = _own_import(request, key)
    missing_departments = employee_import.missing_departments
    form = ConfirmForm(
        request.POST or None,
        initial={"file_hash": employee_import.file_hash},
        missing_departments=bool(missing_departments),
        refused=bool(employee_import.refused_count),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.request_commit(
                employee_import=employee_import,
                by=request.user,
                file_hash_seen=form.cleaned_data["file_hash"],
                skip_refused=form.cleaned_data.get("skip_refused", False),
                add_departments=form.cleaned_data.get("add_departments", False),
            )
        except ValidationError as error:
            show_errors(request, error)
        return redirect("imports:preview", key=employee_import.key)
    record_read("employee.import.preview", obj=employee_import)
    refusals = employee_import.refusals if not employee_import.running else []
    reasons = {refusal["row"]: refusal["reasons"] for refusal in refusals}
    labels = {"new": gettext("new"), "update": gettext("update"),
              "unchanged": gettext("unchanged"), "refused": gettext("refused")}  # fmt: skip
    new_department = gettext("in a department to be added")
    rows = [
        {
            "number": outcome[0],
            "status": labels[outcome[1]]
            + (f" ({new_department})" if in_new_department(outcome) else ""),
            "reasons": reasons.get(outcome[0], []),
        }
        for outcome in employee_import.outcomes[:PREVIEW_ROWS_SHOWN]
    ]
    return render(
        request,
        "imports/preview.html",
        {
            "employee_import": employee_import,
            "form": form,
            "missing_departments": missing_departments,
            "rows_in_new_departments": sum(employee_import.rows_in_new_departments().values()),
            "rows": rows,
            "more_rows": max(0, len(employee_import.outcomes) - PREVIEW_ROWS_SHOWN),
            "refusals": refusals[:PREVIEW_REFUSALS_SHOWN],
            "more_refusals": max(0, len(refusals) - PREVIEW_REFUSALS_SHOWN),
            "progress_text": _progress_text(employee_import),
        },
    )


def _progress_text(employee_import: EmployeeImport) -> str:
    return gettext("%(percent)s%% · %(speed)s rows per second") % {
        "percent": employee_import.progress_percent,
        "speed": employee_import.rows_per_second(timezone.now()),
    }


@permission_required(Perm.EMPLOYEE_IMPORT)
def progress(request: AuthenticatedRequest, key: UUID) -> JsonResponse:
    """What the progress bar polls (static/js/app.js): counts only, no cell values."""
    employee_import = _own_import(request, key)
    return JsonResponse(
        {
            "percent": employee_import.progress_percent,
            "text": _progress_text(employee_import),
            "done": not employee_import.running,
        }
    )


@permission_required(Perm.EMPLOYEE_IMPORT)
def history(request: AuthenticatedRequest) -> HttpResponse:
    """The tenant's imports: who, when, the file name, the counts per outcome."""
    imports = list(
        EmployeeImport.objects.filter(tenant_id=request.user.tenant_id)
        .select_related("uploaded_by")
        .order_by("-created_at")[:HISTORY_SHOWN]
    )
    record_event("employee.import.history", Action.READ, result_count=len(imports))
    return render(request, "imports/history.html", {"imports": imports})


@permission_required(Perm.EMPLOYEE_IMPORT)
def refused_report(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """The refused rows with every reason, one line per reason (row number, column, reason)."""
    employee_import = _own_import(request, key)
    rows = [
        [refusal["row"], column, reason]
        for refusal in employee_import.refusals
        for column, reason in refusal["reasons"]
    ]
    record_event("employee.import.report", Action.READ, obj=employee_import, result_count=len(rows))
    header = [gettext("Row"), gettext("Column"), gettext("Reason")]
    return csv_response(f"import-geweigerd-{employee_import.key}.csv", header, rows)
