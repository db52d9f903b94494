"""Workflows on absence cases: sick and recovery reports, corrections, the Poortwachter timeline,
and notes and documents (general, and medical for the company doctor only)."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from auth2fa.models import User
from cases import poortwachter
from cases.models import (
    AbsenceCase,
    AbsencePeriod,
    CaseCorrection,
    CaseDocument,
    CaseNote,
    CaseType,
    IncapacityChange,
    MedicalDocument,
    MedicalNote,
    Milestone,
)
from cases.prescan import refuse_medical_terms
from domains.permissions import Perm
from employees.models import Employee
from employees.selectors import visible_employees

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PARTIAL_INCAPACITY = 99  # percent; 0 is full recovery
# What we accept, recognised by the file's first bytes rather than by what the browser claims.
ACCEPTED_FILES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


def _require(user: User, perm: str, employee: Employee) -> None:
    """The user's roles must grant `perm` on this employee (the same rule that lists them)."""
    if not visible_employees(user, perm).filter(pk=employee.pk).exists():
        raise PermissionDenied


def refresh_timeline(case: AbsenceCase) -> None:
    """Recompute every milestone's due date from the case's sick spells (done ones keep theirs)."""
    periods = [(p.starts_on, p.ends_on) for p in case.periods.order_by("starts_on")]
    due = poortwachter.due_dates(periods)
    existing = {milestone.kind: milestone for milestone in case.milestones.all()}
    for kind, due_on in due.items():
        milestone = existing.get(kind)
        if milestone is None:
            Milestone.objects.create(tenant_id=case.tenant_id, case=case, kind=kind, due_on=due_on)
        elif milestone.due_on != due_on:
            milestone.due_on = due_on
            milestone.save(update_fields=["due_on"])


@transaction.atomic
def report_sick(
    *,
    employee: Employee,
    by: User,
    first_sick_day: date,
    case_type: str = CaseType.SICKNESS,
    expected_duration: str = "unknown",
    work_accident: bool = False,
    third_party_liable: bool = False,
    safety_net: bool = False,
    contact_phone: str = "",
    contact_address: str = "",
    remarks: str = "",
) -> AbsenceCase:
    """Open a case (ziekmelding), or continue the previous one when the employee recovered
    fewer than 28 days before (the 104-week count then goes on)."""
    _require(by, Perm.CASE_REPORT, employee)
    Employee.objects.select_for_update().filter(pk=employee.pk).first()  # one report at a time
    refuse_medical_terms(remarks, by.tenant)
    if first_sick_day > timezone.localdate():
        raise ValidationError({"first_sick_day": _("A sick report cannot start in the future.")})
    if first_sick_day < employee.employment_start:
        raise ValidationError(
            {"first_sick_day": _("The first sick day is before the employment started.")}
        )
    if AbsenceCase.objects.filter(employee=employee, recovered_on__isnull=True).exists():
        raise ValidationError(
            _("This employee is already reported sick. Report the recovery first.")
        )
    previous = (
        AbsenceCase.objects.filter(employee=employee, case_type=case_type)
        .order_by("-first_sick_day")
        .first()
    )
    if previous is not None and previous.recovered_on and first_sick_day < previous.recovered_on:
        raise ValidationError({"first_sick_day": _("This overlaps the previous absence.")})
    details = {
        "expected_duration": expected_duration, "work_accident": work_accident,
        "third_party_liable": third_party_liable, "safety_net": safety_net,
        "contact_phone": contact_phone, "contact_address": contact_address, "remarks": remarks,
    }  # fmt: skip
    if previous is not None and poortwachter.continues_previous(
        previous.recovered_on, first_sick_day
    ):
        case = previous
        for name, value in details.items():
            setattr(case, name, value)
        case.recovered_on = None
        case.save()
    else:
        case = AbsenceCase.objects.create(
            tenant_id=employee.tenant_id, employee=employee, case_type=case_type,
            first_sick_day=first_sick_day, reported_by=by, **details,
        )  # fmt: skip
    AbsencePeriod.objects.create(tenant_id=case.tenant_id, case=case, starts_on=first_sick_day)
    IncapacityChange.objects.create(
        tenant_id=case.tenant_id, case=case, starts_on=first_sick_day, percentage=100
    )
    refresh_timeline(case)
    return case


@transaction.atomic
def report_recovery(*, case: AbsenceCase, by: User, on: date, incapacity: int = 0) -> AbsenceCase:
    """Partial recovery (incapacity 1–99 % from `on`) or full recovery (0: the case closes; `on`
    is the first day fully back at work)."""
    _require(by, Perm.CASE_REPORT, case.employee)
    case = AbsenceCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise ValidationError(_("This case is already closed."))
    period = case.periods.get(ends_on__isnull=True)
    if on <= period.starts_on:
        raise ValidationError({"on": _("Recovery must come after the first sick day.")})
    if on > timezone.localdate() + timedelta(days=14):
        raise ValidationError({"on": _("A recovery can be reported at most two weeks ahead.")})
    if not 0 <= incapacity <= MAX_PARTIAL_INCAPACITY:
        raise ValidationError(
            {"incapacity": _("Partial recovery leaves 1 to 99 % incapacity; 0 is full recovery.")}
        )
    if incapacity:
        IncapacityChange.objects.create(
            tenant_id=case.tenant_id, case=case, starts_on=on, percentage=incapacity
        )
        return case
    period.ends_on = on - timedelta(days=1)
    period.save(update_fields=["ends_on"])
    case.recovered_on = on
    case.save(update_fields=["recovered_on"])
    refresh_timeline(case)
    return case


@transaction.atomic
def correct_case(
    *,
    case: AbsenceCase,
    by: User,
    reason: str,
    first_sick_day: date | None = None,
    recovered_on: date | None = None,
) -> AbsenceCase:
    """Correct the first sick day or the recovery date, with a reason; the timeline follows."""
    _require(by, Perm.CASE_MANAGE, case.employee)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case is corrected.")})
    refuse_medical_terms(reason, by.tenant)
    case = AbsenceCase.objects.select_for_update().get(pk=case.pk)
    changed = []
    first_period = case.periods.order_by("starts_on").first()
    if first_sick_day and first_sick_day != case.first_sick_day:
        if first_sick_day > timezone.localdate():
            raise ValidationError(
                {"first_sick_day": _("A sick report cannot start in the future.")}
            )
        if first_period.ends_on and first_sick_day > first_period.ends_on:
            raise ValidationError(
                {"first_sick_day": _("The first sick day must come before the recovery.")}
            )
        case.first_sick_day = first_period.starts_on = first_sick_day
        first_period.save(update_fields=["starts_on"])
        first_incapacity = case.incapacity_changes.order_by("starts_on", "pk").first()
        first_incapacity.starts_on = first_sick_day
        first_incapacity.save(update_fields=["starts_on"])
        changed.append("first_sick_day")
    if recovered_on and case.recovered_on and recovered_on != case.recovered_on:
        last_period = case.periods.order_by("starts_on").last()
        if recovered_on <= last_period.starts_on:
            raise ValidationError(
                {"recovered_on": _("Recovery must come after the first sick day.")}
            )
        last_period.ends_on = recovered_on - timedelta(days=1)
        last_period.save(update_fields=["ends_on"])
        case.recovered_on = recovered_on
        changed.append("recovered_on")
    if not changed:
        raise ValidationError(_("Nothing was changed."))
    case.save()
    CaseCorrection.objects.create(
        tenant_id=case.tenant_id,
        case=case,
        corrected_by=by,
        fields=",".join(changed),
        reason=reason,
    )
    refresh_timeline(case)
    return case


@transaction.atomic
def complete_milestone(
    *,
    milestone: Milestone,
    by: User,
    done_on: date,
    document: CaseDocument | None = None,
    comment: str = "",
) -> Milestone:
    _require(by, Perm.CASE_MANAGE, milestone.case.employee)
    refuse_medical_terms(comment, by.tenant)
    if done_on > timezone.localdate():
        raise ValidationError({"done_on": _("A step cannot be done in the future.")})
    if document is not None and document.case_id != milestone.case_id:
        raise PermissionDenied
    milestone.done_on, milestone.done_by, milestone.document, milestone.comment = (
        done_on,
        by,
        document,
        comment,
    )
    milestone.save(update_fields=["done_on", "done_by", "document", "comment"])
    return milestone


def _read_upload(upload: UploadedFile) -> tuple[bytes, str]:
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than 10 MB.")})
    content = upload.read()
    for magic, content_type in ACCEPTED_FILES.items():
        if content.startswith(magic):
            return content, content_type
    raise ValidationError({"file": _("Only PDF, PNG and JPEG files can be uploaded.")})


@transaction.atomic
def add_note(*, case: AbsenceCase, by: User, text: str) -> CaseNote:
    _require(by, Perm.NOTE_WRITE, case.employee)
    refuse_medical_terms(text, by.tenant)
    return CaseNote.objects.create(tenant_id=case.tenant_id, case=case, author=by, text=text)


@transaction.atomic
def add_document(*, case: AbsenceCase, by: User, title: str, upload: UploadedFile) -> CaseDocument:
    _require(by, Perm.NOTE_WRITE, case.employee)
    refuse_medical_terms(title, by.tenant)
    refuse_medical_terms(upload.name, by.tenant)
    content, content_type = _read_upload(upload)
    return CaseDocument.objects.create(
        tenant_id=case.tenant_id, case=case, title=title, file_name=upload.name[:200],
        content_type=content_type, size=len(content), content=content, uploaded_by=by,
    )  # fmt: skip


@transaction.atomic
def add_medical_note(*, case: AbsenceCase, by: User, text: str) -> MedicalNote:
    _require(by, Perm.MEDICAL_WRITE, case.employee)
    return MedicalNote.objects.create(tenant_id=case.tenant_id, case=case, author=by, text=text)


@transaction.atomic
def add_medical_document(
    *, case: AbsenceCase, by: User, title: str, upload: UploadedFile
) -> MedicalDocument:
    _require(by, Perm.MEDICAL_WRITE, case.employee)
    content, content_type = _read_upload(upload)
    return MedicalDocument.objects.create(
        tenant_id=case.tenant_id, case=case, title=title, file_name=upload.name[:200],
        content_type=content_type, size=len(content), content=content, uploaded_by=by,
    )  # fmt: skip
