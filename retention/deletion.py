"""Deleting data past its retention term: only at a person's confirmed request (seed 002).

The flow: a person selects results on the overview; `build_plan` turns them into what would be
deleted (per employee: its categories; "master data" means the whole employee) and a summary;
the person confirms it with a fresh second factor and a typed confirmation (`request_deletion`);
above the tenant's threshold a second, independent person approves (`approve`). Only then does
`run_deletion` delete, in Celery, in batches of BATCH_SIZE employees, each batch in one
transaction that also marks its items done. The state is in the database (DeletionRequest,
DeletionItem): a run that crashed is delivered again (acks_late) or continued from the
request's page, and goes on with the first item not done.

Before deleting, the run scans the tenant again (retention/scan.py) and checks each employee
against the fresh result: a hold placed since, or a term changed since, skips the employee.

What goes (see `_delete_batch`): case data = the cases with their periods, incapacity changes,
corrections, milestones, notes and documents (a case whose medical file stays keeps only its
dates as the medical file's anchor); the medical file = its notes and documents; sign-in
records = the SMS records of the person's account, the account made anonymous; the whole
employee = all of that, the holds, terms, grants and scan results, the employee row, and the
import files naming them shredded. Document content is stored sealed in PostgreSQL rows; the
rows are deleted and the tables vacuumed after the run, so the bytes leave the table storage.

No task of the project deletes anything else; tests/test_retention_deletion.py walks the task
registry and the beat schedule to hold that.
"""

from __future__ import annotations

import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from celery import shared_task
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.codes import Action
from audit.events import RequestAudit, begin_request, build_event, end_request, record_change
from auth2fa.models import User
from auth2fa.services import erase_sign_in_data
from cases.models import (
    AbsenceCase,
    AbsencePeriod,
    CaseCorrection,
    CaseDocument,
    CaseNote,
    IncapacityChange,
    MedicalDocument,
    MedicalNote,
    Milestone,
)
from core.accounts import independent_of
from core.tenancy import all_tenants, tenant_scope
from domains.permissions import Perm
from domains.visibility import access_of
from employees.models import Employee
from employees.selectors import visible_employees
from imports.erasure import delete_import_files, import_files_uploaded_before, shred_files_naming
from imports.models import EmployeeImport
from retention.models import (
    CASE_CATEGORIES,
    Category,
    DeletionItem,
    DeletionRequest,
    DeletionStatus,
    ItemOutcome,
    LegalHold,
    RetentionDue,
)
from retention.scan import scan_tenant
from retention.selectors import due_visible_to, past_term, second_person_above, terms_of

BATCH_SIZE = 50
# A run whose last batch is older than this may be continued from the request's page.
STALLED_AFTER = timedelta(minutes=5)
# Tables whose deleted rows held document bytes or names: vacuumed after a run.
VACUUMED = [
    CaseDocument, MedicalDocument, MedicalNote, CaseNote, AbsenceCase, Employee, EmployeeImport,
]  # fmt: skip


# --- the plan -----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a selection would delete, and the summary the person confirms."""

    items: dict[int, list[str]] = field(default_factory=dict)  # employee pk -> categories
    held: int = 0  # selected employees a legal hold protects (left out)
    whole: int = 0
    cases: int = 0
    documents: int = 0
    medical_files: int = 0
    sign_in: int = 0
    import_files: list[str] = field(default_factory=list)  # keys

    @property
    def employees(self) -> int:
        return len(self.items)

    @property
    def categories(self) -> list[str]:
        chosen = {c for categories in self.items.values() for c in categories}
        if self.import_files:
            chosen.add(Category.IMPORT_FILES)
        return [c for c in Category.values if c in chosen]

    @property
    def category_labels(self) -> list[str]:
        return [str(Category(c).label) for c in self.categories]

    @property
    def empty(self) -> bool:
        return not self.items and not self.import_files

    @property
    def confirmation_phrase(self) -> str:
        """What the person types: the word and the number of employees (or files) concerned."""
        count = self.employees or len(self.import_files)
        return _("DELETE %(count)s") % {"count": count}


def import_files_past_term(
    tenant_id: int, *, today: date | None = None
) -> QuerySet[EmployeeImport]:
    """The tenant's import files past their term (counted from their upload)."""
    years = terms_of(tenant_id)[Category.IMPORT_FILES].years
    today = today or timezone.localdate()
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    moment = timezone.make_aware(datetime.combine(cutoff + timedelta(days=1), time.min))
    return import_files_uploaded_before(tenant_id, moment)


def may_delete_import_files(user: User) -> bool:
    return Perm.RETENTION_MANAGE in access_of(user).permissions


def build_plan(
    user: User, *, due_keys: list[str], import_keys: list[str], today: date | None = None
) -> Plan:
    """The selection (scan results by key, import files by key) as far as the user may delete
    it: only results past their term that the user sees; whole employees where the master-data
    result is chosen (it passes only when every category has); case categories together."""
    today = today or timezone.localdate()
    plan = Plan()
    rows = past_term(due_visible_to(user), today=today).filter(key__in=_uuids(due_keys))
    chosen: dict[int, set[str]] = {}
    held: set[int] = set()
    for employee_id, category, on_hold in rows.values_list("employee_id", "category", "on_hold"):
        if on_hold:
            held.add(employee_id)
            continue
        chosen.setdefault(employee_id, set()).add(category)
    plan.held = len(held - set(chosen))
    # The categories that apply to each chosen employee (and that the user sees).
    applies: dict[int, set[str]] = {}
    for employee_id, category in (
        due_visible_to(user)
        .filter(employee_id__in=list(chosen))
        .values_list("employee_id", "category")
    ):
        applies.setdefault(employee_id, set()).add(category)
    for employee_id, categories in chosen.items():
        if employee_id in held:
            plan.held += 1
            continue
        own = applies.get(employee_id, set())
        if Category.MASTER_DATA in categories:
            categories |= own  # the whole employee: every category (all have passed)
        if categories & set(CASE_CATEGORIES):
            categories |= own & set(CASE_CATEGORIES)  # the same rows: together
        plan.items[employee_id] = [c for c in Category.values if c in categories]
    plan.whole = sum(1 for c in plan.items.values() if Category.MASTER_DATA in c)
    case_employees = [e for e, c in plan.items.items() if Category.ABSENCE in c]
    plan.cases = AbsenceCase.objects.filter(employee_id__in=case_employees).count()
    plan.documents = CaseDocument.objects.filter(case__employee_id__in=case_employees).count()
    medical_employees = [e for e, c in plan.items.items() if Category.MEDICAL in c]
    plan.medical_files = (
        AbsenceCase.objects.filter(employee_id__in=medical_employees)
        .filter(Q(medical_notes__isnull=False) | Q(medical_documents__isnull=False))
        .values("employee_id")
        .distinct()
        .count()
    )
    plan.sign_in = sum(1 for c in plan.items.values() if Category.SIGN_IN in c)
    if import_keys and may_delete_import_files(user):
        plan.import_files = [
            str(k)
            for k in import_files_past_term(user.tenant_id, today=today)
            .filter(key__in=_uuids(import_keys))
            .values_list("key", flat=True)
        ]
    return plan


def _uuids(values: list[str]) -> list[uuid.UUID]:
    keys = []
    for value in values:
        try:
            keys.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return keys


def threshold_of(tenant_id: int) -> int:
    return second_person_above(tenant_id)


# --- requesting and approving -------------------------------------------------------------------


@transaction.atomic
def request_deletion(*, by: User, plan: Plan, typed: str) -> DeletionRequest:
    """The person's confirmed request (the view has checked the fresh second factor). Starts at
    once, or waits for a second person when it concerns more employees than the tenant's
    threshold."""
    if plan.empty:
        raise ValidationError(_("Nothing that may be deleted was selected."))
    if typed.strip().casefold() != plan.confirmation_phrase.casefold():
        raise ValidationError(
            _("Type %(phrase)s to confirm.") % {"phrase": plan.confirmation_phrase},
            code="confirmation",
        )
    needs_second = plan.employees > threshold_of(by.tenant_id)
    deletion = DeletionRequest.objects.create(
        tenant_id=by.tenant_id,
        requested_by=by,
        status=DeletionStatus.AWAITING_APPROVAL if needs_second else DeletionStatus.QUEUED,
        categories=plan.categories,
        employees_planned=plan.employees,
        cases_planned=plan.cases,
        documents_planned=plan.documents,
        medical_files_planned=plan.medical_files,
        import_files=plan.import_files,
        items_total=plan.employees,
    )
    DeletionItem.objects.bulk_create(
        DeletionItem(
            tenant_id=by.tenant_id, request=deletion, employee_id=employee_id, categories=categories
        )
        for employee_id, categories in sorted(plan.items.items())
    )
    record_change(
        build_event(
            "retention.deletion.request", Action.EXECUTE, obj=deletion, actor=by,
            result_count=plan.employees,
        )
    )  # fmt: skip
    if not needs_second:
        _start_soon(deletion)
    return deletion


def required_permissions(deletion: DeletionRequest) -> set[str]:
    needed: set[str] = set()
    if any(c != Category.MEDICAL for c in deletion.categories):
        needed.add(Perm.RETENTION_MANAGE)
    if Category.MEDICAL in deletion.categories:
        needed.add(Perm.RETENTION_MEDICAL)
    return needed


def may_approve(user: User, deletion: DeletionRequest) -> bool:
    """A second person: independent of the requester, holding the rights the request needs,
    over every employee it concerns."""
    if deletion.status != DeletionStatus.AWAITING_APPROVAL or user.tenant_id != deletion.tenant_id:
        return False
    if not independent_of(user, deletion.requested_by):
        return False
    needed = required_permissions(deletion)
    if not needed <= access_of(user).permissions:
        return False
    pending = DeletionItem.objects.filter(request=deletion, employee__isnull=False)
    for perm in needed:
        reach = visible_employees(user, perm).values("pk")
        if pending.exclude(employee_id__in=reach).exists():
            return False
    return True


@transaction.atomic
def approve(*, deletion: DeletionRequest, by: User) -> None:
    if not may_approve(by, deletion):
        raise PermissionDenied
    moved = DeletionRequest.objects.filter(
        pk=deletion.pk, status=DeletionStatus.AWAITING_APPROVAL
    ).update(status=DeletionStatus.QUEUED, approved_by=by, approved_at=timezone.now())
    if not moved:
        raise ValidationError(_("This request has been decided already."))
    deletion.refresh_from_db()
    record_change(build_event("retention.deletion.approve", Action.EXECUTE, obj=deletion, actor=by))
    _start_soon(deletion)


@transaction.atomic
def refuse(*, deletion: DeletionRequest, by: User) -> None:
    """The second person (or the requester, withdrawing it) refuses: nothing is deleted."""
    if by.pk != deletion.requested_by_id and not may_approve(by, deletion):
        raise PermissionDenied
    moved = DeletionRequest.objects.filter(
        pk=deletion.pk, status=DeletionStatus.AWAITING_APPROVAL
    ).update(status=DeletionStatus.REFUSED, approved_by=by, approved_at=timezone.now())
    if not moved:
        raise ValidationError(_("This request has been decided already."))
    DeletionItem.objects.filter(request=deletion).delete()
    record_change(build_event("retention.deletion.refuse", Action.EXECUTE, obj=deletion, actor=by))


def is_stalled(deletion: DeletionRequest) -> bool:
    last = deletion.progress_at or deletion.approved_at or deletion.requested_at
    return deletion.running and last is not None and timezone.now() - last > STALLED_AFTER


def resume(*, deletion: DeletionRequest) -> None:
    """Continue a run that stopped (a worker died): it goes on with the first item not done."""
    if not is_stalled(deletion):
        raise ValidationError(_("This deletion is not stalled."))
    _start_soon(deletion)


def _start_soon(deletion: DeletionRequest) -> None:
    pk = deletion.pk
    transaction.on_commit(lambda: delete_in_background.delay(pk))


# --- the run ------------------------------------------------------------------------------------


def run_deletion(deletion_pk: int, *, today: date | None = None) -> None:
    """Carry out a confirmed (and, where needed, approved) request, batch by batch."""
    deletion = DeletionRequest.objects.select_related("requested_by").get(pk=deletion_pk)
    if deletion.status not in (DeletionStatus.QUEUED, DeletionStatus.RUNNING):
        return  # not confirmed by the people it needs, or done already
    today = today or timezone.localdate()
    lock_id = zlib.crc32(f"retention-deletion-{deletion.pk}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        if not cursor.fetchone()[0]:
            return  # another worker is running it
    token = begin_request(RequestAudit(user=deletion.requested_by))
    try:
        DeletionRequest.objects.filter(pk=deletion.pk).update(
            status=DeletionStatus.RUNNING,
            started_at=deletion.started_at or timezone.now(),
            progress_at=timezone.now(),
        )
        scan_tenant(deletion.tenant, today=today)  # the dates as they are now
        if deletion.import_files and "import_files" not in deletion.counts:
            _delete_import_files(deletion, today)
        while _delete_next_batch(deletion, today):
            pass
        DeletionRequest.objects.filter(pk=deletion.pk).update(
            status=DeletionStatus.DONE, finished_at=timezone.now(), progress_at=timezone.now()
        )
        scan_tenant(deletion.tenant, today=today)
    finally:
        end_request(token)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
    _vacuum()


@transaction.atomic
def _delete_import_files(deletion: DeletionRequest, today: date) -> None:
    files = import_files_past_term(deletion.tenant_id, today=today).filter(
        key__in=_uuids(deletion.import_files)
    )
    deleted = delete_import_files(files)
    locked = DeletionRequest.objects.select_for_update().get(pk=deletion.pk)
    locked.counts = {**locked.counts, "import_files": deleted}
    locked.progress_at = timezone.now()
    locked.save(update_fields=["counts", "progress_at"])
    deletion.counts = locked.counts


@transaction.atomic
def _delete_next_batch(deletion: DeletionRequest, today: date) -> bool:
    items = list(
        DeletionItem.objects.select_for_update(skip_locked=True)
        .filter(request=deletion, outcome=ItemOutcome.PENDING)
        .order_by("pk")[:BATCH_SIZE]
    )
    if not items:
        return False
    counts, outcomes = _delete_batch(deletion, items, today)
    for outcome, batch_items in outcomes.items():
        DeletionItem.objects.filter(pk__in=[i.pk for i in batch_items]).update(outcome=outcome)
    locked = DeletionRequest.objects.select_for_update().get(pk=deletion.pk)
    total = Counter(locked.counts)
    total.update(counts)
    locked.counts = dict(total)
    locked.items_done = F("items_done") + len(items)
    locked.employees_deleted = F("employees_deleted") + len(outcomes.get(ItemOutcome.DELETED, []))
    locked.employees_skipped = F("employees_skipped") + sum(
        len(v) for k, v in outcomes.items() if k != ItemOutcome.DELETED
    )
    locked.progress_at = timezone.now()
    locked.save(
        update_fields=[
            "counts", "items_done", "employees_deleted", "employees_skipped", "progress_at"
        ]
    )  # fmt: skip
    return True


def _delete_batch(
    deletion: DeletionRequest, items: list[DeletionItem], today: date
) -> tuple[Counter[str], dict[str, list[DeletionItem]]]:
    """Delete one batch (inside the caller's transaction); returns the rows deleted per kind and
    the items per outcome. Every check is made again here, against the fresh scan."""
    employee_ids = [i.employee_id for i in items if i.employee_id is not None]
    due = {
        (row.employee_id, row.category): row
        for row in RetentionDue.objects.filter(employee_id__in=employee_ids)
    }
    held = set(
        LegalHold.objects.filter(employee_id__in=employee_ids)
        .filter(LegalHold.active_condition(today))
        .values_list("employee_id", flat=True)
    )
    with_medical = set(
        AbsenceCase.objects.filter(employee_id__in=employee_ids)
        .annotate(n=Count("medical_notes") + Count("medical_documents"))
        .filter(n__gt=0)
        .values_list("employee_id", flat=True)
    )
    outcomes: dict[str, list[DeletionItem]] = {}
    whole: list[int] = []
    cases_of: list[int] = []
    medical_of: list[int] = []
    sign_in_of: list[int] = []
    for item in items:
        outcome = _check(item, due, held, with_medical, today)
        outcomes.setdefault(outcome, []).append(item)
        if outcome != ItemOutcome.DELETED or item.employee_id is None:
            continue
        if Category.MASTER_DATA in item.categories:
            whole.append(item.employee_id)
            continue
        if Category.ABSENCE in item.categories:
            cases_of.append(item.employee_id)
        if Category.MEDICAL in item.categories:
            medical_of.append(item.employee_id)
        if Category.SIGN_IN in item.categories:
            sign_in_of.append(item.employee_id)
    counts: Counter[str] = Counter()
    medical_of += [e for e in whole if e in with_medical]
    _delete_medical_files(medical_of, counts)
    _delete_case_data(cases_of, counts)
    _erase_sign_in(sign_in_of + whole, counts)
    _delete_employees(whole, counts)
    return counts, outcomes


def _check(
    item: DeletionItem,
    due: dict[tuple[int, str], RetentionDue],
    held: set[int],
    with_medical: set[int],
    today: date,
) -> str:
    if item.employee_id is None:
        return ItemOutcome.NOT_DUE  # gone meanwhile (another request)
    if item.employee_id in held:
        return ItemOutcome.HELD
    for category in item.categories:
        row = due.get((item.employee_id, category))
        if row is None and category in (Category.ERD_ZW, Category.WGA, Category.SIGN_IN):
            continue  # does not apply to this employee: nothing of it to keep
        if row is None and category == Category.MEDICAL and item.employee_id not in with_medical:
            continue
        if row is None or row.on_hold or row.deletable_on is None or row.deletable_on > today:
            return ItemOutcome.HELD if row is not None and row.on_hold else ItemOutcome.NOT_DUE
    if (
        Category.MASTER_DATA in item.categories
        and item.employee_id in with_medical
        and Category.MEDICAL not in item.categories
    ):
        return ItemOutcome.MEDICAL_REMAINS
    return ItemOutcome.DELETED


def _add(counts: Counter[str], per_model: dict[str, int]) -> None:
    for label, number in per_model.items():
        if number:
            counts[label.split(".")[-1].lower()] += number


def _delete_medical_files(employee_ids: list[int], counts: Counter[str]) -> None:
    if not employee_ids:
        return
    for model in (MedicalNote, MedicalDocument):
        _deleted, per_model = model.objects.filter(case__employee_id__in=employee_ids).delete()
        _add(counts, per_model)
    counts["medical_files"] += len(employee_ids)


def _delete_case_data(employee_ids: list[int], counts: Counter[str]) -> None:
    """The closed cases with everything in them. A case whose medical file is kept (it runs
    longer) keeps only its row, emptied of free text, as that file's anchor."""
    if not employee_ids:
        return
    cases = AbsenceCase.objects.filter(employee_id__in=employee_ids, recovered_on__isnull=False)
    anchor_ids = list(
        cases.filter(Q(medical_notes__isnull=False) | Q(medical_documents__isnull=False))
        .values_list("pk", flat=True)
        .distinct()
    )
    for model in (
        Milestone, CaseNote, CaseDocument, CaseCorrection, IncapacityChange, AbsencePeriod,
    ):  # fmt: skip
        _deleted, per_model = model.objects.filter(case_id__in=anchor_ids).delete()
        _add(counts, per_model)
    AbsenceCase.objects.filter(pk__in=anchor_ids).update(
        contact_phone="", contact_address="", remarks=""
    )
    removable = cases.exclude(pk__in=anchor_ids)
    LegalHold.objects.filter(case__in=removable).delete()  # ended holds (active ones skipped)
    _deleted, per_model = removable.delete()
    _add(counts, per_model)


def _erase_sign_in(employee_ids: list[int], counts: Counter[str]) -> None:
    users = list(User.objects.filter(employee_id__in=employee_ids))
    if users:
        erased = erase_sign_in_data(users=users)
        counts["smsmessage"] += erased["sms_records"]
        counts["accounts_anonymised"] += erased["accounts"]


def _delete_employees(employee_ids: list[int], counts: Counter[str]) -> None:
    """The whole employee: what is left of its cases (the open one cannot be, the scan never
    dates an employee with an open case), its holds, and the row with its terms, grants and
    scan results. Import files naming the person are shredded."""
    if not employee_ids:
        return
    employees = list(Employee.objects.filter(pk__in=employee_ids))
    needles = [(e.personnel_number, e.surname) for e in employees]
    LegalHold.objects.filter(employee_id__in=employee_ids).delete()
    _deleted, per_model = AbsenceCase.objects.filter(employee_id__in=employee_ids).delete()
    _add(counts, per_model)
    _deleted, per_model = Employee.objects.filter(pk__in=employee_ids).delete()
    _add(counts, per_model)
    if employees:
        counts["import_files_shredded"] += shred_files_naming(employees[0].tenant_id, needles)


def _vacuum() -> None:
    """Have PostgreSQL drop the deleted rows' versions (with the sealed document bytes) from the
    tables' storage now rather than at the next autovacuum. Not possible inside a transaction
    (a test's); the autovacuum does it there."""
    if connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for model in VACUUMED:
            cursor.execute(f"VACUUM {connection.ops.quote_name(model._meta.db_table)}")


@shared_task(name="retention.tasks.delete_in_background")
def delete_in_background(deletion_pk: int) -> None:
    """Carries out a request a person confirmed (run_deletion refuses any other)."""
    with all_tenants():
        tenant_id = DeletionRequest.objects.values_list("tenant_id", flat=True).get(pk=deletion_pk)
    with tenant_scope(tenant_id):
        run_deletion(deletion_pk)
