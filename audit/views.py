"""Audit exports. Functional admins have no screen to browse the trail; an auditor requests an
export, a second person approves it, and only the requester downloads it, for a limited time."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import services
from audit.events import record_event, record_read
from audit.forms import ExportRequestForm
from audit.models import Action, AuditExport, ExportStatus
from core.accounts import AccountRequest, AccountType


def _require_export_role(request: AccountRequest) -> None:
    if request.user.account_type not in services.APPROVERS:
        raise PermissionDenied


def _exports(request: AccountRequest) -> QuerySet[AuditExport]:
    return AuditExport.objects.filter(tenant_id=request.user.tenant_id).select_related(
        "requested_by", "decided_by"
    )


def export_list(request: AccountRequest) -> HttpResponse:
    _require_export_role(request)
    exports = list(_exports(request))
    form = None
    if request.user.account_type == AccountType.AUDITOR:
        form = ExportRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                export = services.request_export(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Your request waits for a second person's approval."))
                return redirect("audit:export_detail", key=export.key)
    elif request.method == "POST":
        raise PermissionDenied
    return render(request, "audit/export_list.html", {"exports": exports, "form": form})


def export_detail(request: AccountRequest, key: UUID) -> HttpResponse:
    _require_export_role(request)
    export = get_object_or_404(_exports(request), key=key)
    record_read("audit_export.view", obj=export)
    return render(
        request,
        "audit/export_detail.html",
        {
            "export": export,
            "may_decide": export.status == ExportStatus.REQUESTED
            and export.requested_by_id != request.user.pk,
            "may_download": export.status == ExportStatus.READY
            and export.requested_by_id == request.user.pk
            and export.expires_at > timezone.now(),
        },
    )


@require_POST
def export_decide(request: AccountRequest, key: UUID) -> HttpResponse:
    _require_export_role(request)
    export = get_object_or_404(_exports(request), key=key)
    try:
        services.decide_export(
            export=export, by=request.user, approve=request.POST.get("decision") == "approve"
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("audit:export_detail", key=export.key)


def export_download(request: AccountRequest, key: UUID, extension: str) -> HttpResponseBase:
    """Streams the file from disk (constant memory). Only the requester, only while valid."""
    _require_export_role(request)
    export = get_object_or_404(_exports(request), key=key)
    if export.requested_by_id != request.user.pk or extension not in ("csv", "json"):
        raise PermissionDenied
    if export.status != ExportStatus.READY or export.expires_at <= timezone.now():
        return render(request, "audit/export_gone.html", {"export": export}, status=410)
    record_event(
        "audit_export.download", Action.EXECUTE, obj=export, result_count=export.rows_total
    )
    response = FileResponse(
        services.export_path(export, extension).open("rb"),
        as_attachment=True,
        filename=f"audittrail-{export.period_start}-{export.period_end}.{extension}",
        content_type="text/csv" if extension == "csv" else "application/json",
    )
    response["Cache-Control"] = "no-store"
    return response
