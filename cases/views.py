"""Case pages. Every object is fetched through the scoped selectors (another tenant's case, or one
outside the user's scope, is a 404); the medical tab also needs a fresh second factor."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.events import record_read
from auth2fa.http import AuthenticatedRequest
from auth2fa.stepup import fresh_second_factor_required
from cases import selectors, services
from cases.forms import (
    CaseFilterForm,
    CorrectionForm,
    DocumentForm,
    MilestoneDoneForm,
    NoteForm,
    RecoveryForm,
    SickReportForm,
)
from cases.models import AbsenceCase, CaseDocument, MedicalDocument, Milestone
from core.forms import show_errors
from core.paging import CountingPaginator
from domains.access import permission_required
from domains.permissions import Perm
from employees.selectors import employees_visible_to

PAGE_SIZE = 25


def _case_and_access(
    request: AuthenticatedRequest, key: UUID, perm: str = Perm.CASE_VIEW
) -> tuple[AbsenceCase, frozenset[str]]:
    """The case if the user holds `perm` on it (else 404), and everything the user may do with
    it, in one query."""
    found = selectors.visible_case_with_access(request.user, key, perm)
    if found is None:
        raise Http404
    return found


def _case(request: AuthenticatedRequest, key: UUID, perm: str = Perm.CASE_VIEW) -> AbsenceCase:
    return _case_and_access(request, key, perm)[0]


@permission_required(Perm.CASE_VIEW)
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET or None, tenant=request.user.tenant)
    cases = selectors.with_list_facts(selectors.cases_visible_to(request.user))
    status = "open"
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        status = data["status"] or "open"
        if data["overdue"]:
            cases = cases.filter(Q(has_overdue=True))  # annotated by with_list_facts
        if data["department"]:
            cases = cases.filter(employee__department__path__startswith=data["department"].path)
        if data["duration"]:
            cases = selectors.filter_duration_class(cases, data["duration"])
        if data["case_type"]:
            cases = cases.filter(case_type=data["case_type"])
    if status == "open":
        cases = cases.filter(recovered_on__isnull=True)
    elif status == "closed":
        cases = cases.filter(recovered_on__isnull=False)
    page = CountingPaginator(cases.order_by("-first_sick_day", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    record_read("case.search" if form.is_bound else "case.list", result_count=page.paginator.count)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "cases/case_list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@permission_required(Perm.CASE_VIEW)
def worklist(request: AuthenticatedRequest) -> HttpResponse:
    today = timezone.localdate()
    milestones = list(selectors.worklist_for(request.user))
    record_read("worklist.view", result_count=len(milestones))
    return render(request, "cases/worklist.html", {"milestones": milestones, "today": today})


@permission_required(Perm.CASE_REPORT)
def report_sick(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    employee = get_object_or_404(employees_visible_to(request.user, Perm.CASE_REPORT), key=key)
    record_read("employee.view", obj=employee, subject=employee)
    form = SickReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.report_sick(employee=employee, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The sick report has been recorded."))
            return redirect("cases:detail", key=case.key)
    return render(request, "cases/report_sick.html", {"form": form, "employee": employee})


def _render_detail(
    request: AuthenticatedRequest,
    case: AbsenceCase,
    may: frozenset[str],
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    """The case page; a form that failed is passed in bound, so the user's input stays."""
    record_read("case.view", obj=case, subject=case.employee)
    today = timezone.localdate()
    milestones = list(case.milestones.all())
    may_manage = Perm.CASE_MANAGE in may
    may_read_notes = Perm.NOTE_VIEW in may
    context = {
        "case": case,
        "periods": case.periods.all(),
        "incapacity": case.incapacity_changes.all(),
        "corrections": case.corrections.select_related("corrected_by") if may_manage else [],
        "milestones": [(m, m.state(today)) for m in milestones],
        "may_report": Perm.CASE_REPORT in may,
        "may_manage": may_manage,
        "may_read_notes": may_read_notes,
        "may_write_notes": may_read_notes and Perm.NOTE_WRITE in may,
        "may_open_medical": Perm.MEDICAL_VIEW in may,
        "notes": case.notes.select_related("author") if may_read_notes else [],
        "documents": case.documents.select_related("uploaded_by") if may_read_notes else [],
        "note_form": NoteForm(),
        "document_form": DocumentForm(),
        "recovery_form": RecoveryForm(initial={"on": today}),
        "done_form": MilestoneDoneForm(case=case),
        **forms,
    }
    return render(request, "cases/case_detail.html", context, status=status)


@permission_required(Perm.CASE_VIEW)
def case_detail(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    return _render_detail(request, *_case_and_access(request, key))


@permission_required(Perm.CASE_REPORT)
@require_POST
def report_recovery(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    case, may = _case_and_access(request, key, Perm.CASE_REPORT)
    form = RecoveryForm(request.POST)
    if form.is_valid():
        try:
            services.report_recovery(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            full = form.cleaned_data["incapacity"] == 0
            messages.success(
                request,
                _("The recovery has been recorded.")
                if full
                else _("The partial recovery has been recorded."),
            )
            return redirect("cases:detail", key=case.key)
    return _render_detail(request, case, may, status=400, recovery_form=form)


@permission_required(Perm.CASE_MANAGE)
def correct_case(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    case = _case(request, key, Perm.CASE_MANAGE)
    record_read("case.view", obj=case, subject=case.employee)
    form = CorrectionForm(
        request.POST or None,
        initial={"first_sick_day": case.first_sick_day, "recovered_on": case.recovered_on},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.correct_case(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(
                request, _("The case has been corrected; the timeline follows the new dates.")
            )
            return redirect("cases:detail", key=case.key)
    return render(request, "cases/correct.html", {"form": form, "case": case})


@permission_required(Perm.CASE_MANAGE)
@require_POST
def complete_milestone(
    request: AuthenticatedRequest, key: UUID, milestone_key: UUID
) -> HttpResponse:
    case = _case(request, key, Perm.CASE_MANAGE)
    milestone = get_object_or_404(Milestone.objects.filter(case=case), key=milestone_key)
    form = MilestoneDoneForm(request.POST, case=case)
    if form.is_valid():
        try:
            services.complete_milestone(milestone=milestone, by=request.user, **form.cleaned_data)
            messages.success(request, _("The step has been marked as done."))
        except ValidationError as error:
            show_errors(request, error)
    else:
        show_errors(request, ValidationError(list(form.errors.values())))
    return redirect("cases:detail", key=case.key)


@permission_required(Perm.NOTE_WRITE)
@require_POST
def add_note(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    case, may = _case_and_access(request, key, Perm.NOTE_WRITE)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(case=case, by=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            form.add_error("text", error)
        else:
            messages.success(request, _("The note has been saved."))
            return redirect("cases:detail", key=case.key)
    return _render_detail(request, case, may, status=400, note_form=form)


@permission_required(Perm.NOTE_WRITE)
@require_POST
def add_document(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    case, may = _case_and_access(request, key, Perm.NOTE_WRITE)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_document(
                case=case,
                by=request.user,
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, _("The document has been uploaded."))
            return redirect("cases:detail", key=case.key)
    return _render_detail(request, case, may, status=400, document_form=form)


def _download(document, file_name: str) -> HttpResponse:
    response = HttpResponse(document.content, content_type=document.content_type)
    safe_name = "".join(ch for ch in file_name if ch.isalnum() or ch in "._- ")[:100] or "document"
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Cache-Control"] = "no-store"
    return response


@permission_required(Perm.NOTE_VIEW)
def download_document(request: AuthenticatedRequest, key: UUID, document_key: UUID) -> HttpResponse:
    case = _case(request, key, Perm.NOTE_VIEW)
    document = get_object_or_404(CaseDocument.objects.filter(case=case), key=document_key)
    record_read("case_document.download", obj=document, subject=case.employee)
    return _download(document, document.file_name)


@permission_required(Perm.MEDICAL_VIEW)
@fresh_second_factor_required
def medical_file(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """The medical tab: company doctor only, after a fresh second factor."""
    case, may = _case_and_access(request, key, Perm.MEDICAL_VIEW)
    record_read("medical_file.view", obj=case, subject=case.employee)
    may_write = Perm.MEDICAL_WRITE in may
    form = NoteForm(request.POST or None)
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        if form.is_valid():
            services.add_medical_note(case=case, by=request.user, text=form.cleaned_data["text"])
            messages.success(request, _("The medical note has been saved."))
            return redirect("cases:medical", key=case.key)
    response = render(
        request,
        "cases/medical_file.html",
        {
            "case": case,
            "notes": case.medical_notes.select_related("author"),
            "documents": case.medical_documents.select_related("uploaded_by"),
            "form": form,
            "document_form": DocumentForm(),
            "may_write": may_write,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@permission_required(Perm.MEDICAL_WRITE)
@fresh_second_factor_required
@require_POST
def add_medical_document(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    case = _case(request, key, Perm.MEDICAL_WRITE)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_medical_document(
                case=case,
                by=request.user,
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"],
            )
            messages.success(request, _("The document has been added to the medical file."))
        except ValidationError as error:
            show_errors(request, error)
    else:
        show_errors(request, ValidationError(list(form.errors.values())))
    return redirect("cases:medical", key=case.key)


@permission_required(Perm.MEDICAL_VIEW)
@fresh_second_factor_required
def download_medical_document(
    request: AuthenticatedRequest, key: UUID, document_key: UUID
) -> HttpResponse:
    case = _case(request, key, Perm.MEDICAL_VIEW)
    document = get_object_or_404(MedicalDocument.objects.filter(case=case), key=document_key)
    record_read("medical_document.download", obj=document, subject=case.employee)
    return _download(document, document.file_name)
