"""Employee imports: preview a sheet (nothing written), then commit it (all valid rows or
nothing), keyed by our unique key with the four situations of seed 002:

| key     | action          | result                                           |
| ------- | --------------- | ------------------------------------------------ |
| ours    | update/bijwerken| the employee is overwritten with the row         |
| ours    | new/nieuw       | refused: the employee is already known           |
| (empty) | update/bijwerken| refused: the employee is not known yet           |
| (empty) | new/nieuw       | a new employee                                   |

Every row passes the employee form's rules (imports/forms.py ImportRowForm) and the same
scope rule as employees/services.py save_employee; the writes follow save_employee too (dated
EmploymentTerms, the BSN sealed with its blind index, only where the tenant allows one), but
set-based: rows are read, checked and written per batch with a constant number of queries.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.codes import Action
from audit.events import build_event, record_changes, record_event
from auth2fa.models import User
from core.statistics import analyze
from core.tenancy import all_tenants, tenant_scope
from domains.models import Department
from domains.permissions import Perm
from domains.visibility import access_of
from employees.exports import columns, department_paths
from employees.models import Employee, EmploymentTerms, Gender
from employees.selectors import placement_choices, visible_employees
from imports.forms import ImportRowForm
from imports.models import EmployeeImport, ImportStatus
from imports.parsing import DATES, FIELDS, FileRefused, Row, check_header, read_rows

BATCH = 1000
# From this many new or changed employees on, the commit refreshes the planner's statistics of
# the tables it wrote (core/statistics.py) instead of leaving lists to plans for the old sizes
# until autovacuum comes by.
ANALYZE_FROM_ROWS = 500
NEW, UPDATE, UNCHANGED, REFUSED = "new", "update", "unchanged", "refused"
UPDATE_WORDS = {"update", "bijwerken"}
NEW_WORDS = {"new", "nieuw"}
# The employee's own columns that an update overwrites (as the employee form saves them).
WRITTEN = [
    "personnel_number", "initials", "first_name", "surname_prefix", "surname", "birth_date",
    "gender", "postcode", "email", "phone", "employer_id", "department_id", "employment_start",
    "employment_end",
]  # fmt: skip


@dataclass
class Outcome:
    row: Row
    status: str
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    form: ImportRowForm | None = None
    hours_changed: bool = False
    bsn_changed: bool = False
    changed_fields: list[str] = field(default_factory=list)  # names only, for the audit trail


class _Context:
    """What every row is checked against, read once per import."""

    def __init__(self, by: User) -> None:
        self.by = by
        self.tenant = by.tenant
        self.today = timezone.localdate()
        employers, departments = placement_choices(by)
        self.employers = list(employers)
        self.employer_by_name = {e.name.casefold(): e for e in self.employers}
        paths = department_paths(by.tenant_id)
        self.placeable = {(d.employer_id, paths.get(d.pk, "").casefold()): d for d in departments}
        self.existing_paths = {
            (employer_id, paths.get(pk, "").casefold())
            for pk, employer_id in Department.objects.filter(tenant_id=by.tenant_id).values_list(
                "pk", "employer_id"
            )
        }
        self.scope_employers, self.scope_paths = access_of(by).explicit_scope(Perm.EMPLOYEE_EDIT)
        self.fields = ImportRowForm.shared_fields(
            employers={str(e.pk): e for e in self.employers},
            departments={str(d.pk): d for d in self.placeable.values()},
            bsn_allowed=self.tenant.bsn_allowed,
        )
        self.genders: dict[str, str] = {}
        self.headers: dict[str, str] = dict(zip(FIELDS, columns(with_bsn=True), strict=True))
        for language in ("en", "nl"):
            with translation.override(language):
                for value, label in Gender.choices:
                    self.genders[str(label).casefold()] = value
                    self.genders[value] = value

    def header(self, name: str | None) -> str:
        return self.headers.get(name or "", "") or _("Row")

    def in_scope(self, employer: Any, department: Any) -> bool:
        """save_employee's rule (_require_in_scope): the employee must stay within the user's
        employers or department subtrees."""
        if employer.pk in self.scope_employers:
            return True
        return department is not None and any(
            department.path.startswith(path) for path in self.scope_paths
        )


def _as_date(text: str) -> date | str:
    try:
        return date.fromisoformat(text) if len(text) == len("2026-01-31") else text
    except ValueError:
        return text  # the form says why


def _parse_key(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _terms_today(employee: Employee, today: date) -> EmploymentTerms | None:
    terms = sorted(employee.terms.all(), key=lambda t: t.valid_from)  # prefetched
    current = [t for t in terms if t.valid_from <= today]
    return current[-1] if current else (terms[0] if terms else None)


def _number_key(row: Row) -> tuple[str, str]:
    return (row.cells.get("employer", "").casefold(), row.cells.get("personnel_number", ""))


def evaluate(
    data: bytes,
    file_name: str,
    *,
    by: User,
    lock: bool = False,
    on_total: Callable[[int], None] | None = None,
) -> Iterator[list[Outcome]]:
    """Every row of the file with its outcome, per batch. Raises FileRefused (before any row)
    for a file that cannot be imported as a whole. `lock`: lock the employees to be updated
    (the commit, inside its transaction)."""
    bsn_allowed = by.tenant.bsn_allowed
    context = _Context(by)
    # First pass: what the file holds twice (a key, or a personnel number of an employer).
    keys: Counter[str] = Counter()
    numbers: Counter[tuple[str, str]] = Counter()
    total = 0
    for row in read_rows(data, file_name, bsn_allowed=bsn_allowed):
        total += 1
        if row.cells.get("key"):
            keys[row.cells["key"].casefold()] += 1
        if row.cells.get("personnel_number"):
            numbers[_number_key(row)] += 1
    if on_total is not None:
        on_total(total)
    doubled_keys = {key for key, count in keys.items() if count > 1}
    doubled_numbers = {number for number, count in numbers.items() if count > 1}
    batch: list[Row] = []
    for row in read_rows(data, file_name, bsn_allowed=bsn_allowed):
        batch.append(row)
        if len(batch) == BATCH:
            yield _evaluate_batch(batch, context, doubled_keys, doubled_numbers, lock)
            batch = []
    if batch:
        yield _evaluate_batch(batch, context, doubled_keys, doubled_numbers, lock)


def _evaluate_batch(
    rows: list[Row],
    context: _Context,
    doubled_keys: set[str],
    doubled_numbers: set[tuple[str, str]],
    lock: bool,
) -> list[Outcome]:
    by = context.by
    keys = {key for row in rows if (key := _parse_key(row.cells.get("key", "")))}
    # Only employees this user may edit: another tenant's key, or one outside the scope, is
    # answered exactly as a key that does not exist.
    editable = visible_employees(by, Perm.EMPLOYEE_EDIT).filter(key__in=keys)
    if lock:
        editable = editable.select_for_update(of=("self",))
    terms = Prefetch("terms", queryset=EmploymentTerms.unscoped.all())
    existing = {e.key: e for e in editable.prefetch_related(terms)}
    wanted = {row.cells.get("personnel_number", "") for row in rows} - {""}
    taken = {
        (employer_id, number): pk
        for employer_id, number, pk in Employee.unscoped.filter(
            tenant_id=by.tenant_id, personnel_number__in=wanted
        ).values_list("employer_id", "personnel_number", "pk")
    }
    return [
        _evaluate_row(row, context, existing, taken, doubled_keys, doubled_numbers) for row in rows
    ]


def _evaluate_row(
    row: Row,
    context: _Context,
    existing: dict[uuid.UUID, Employee],
    taken: dict[tuple[int, str], int],
    doubled_keys: set[str],
    doubled_numbers: set[tuple[str, str]],
) -> Outcome:
    cells = row.cells
    reasons: list[tuple[str, str]] = []
    header = context.header
    for name in sorted(row.formulas):
        reasons.append((header(name), _("A formula is not allowed in a cell.")))
    for name in sorted(row.too_long):
        reasons.append((header(name), _("This cell is too long.")))

    key_text = cells.get("key", "")
    key = _parse_key(key_text)
    employee = existing.get(key) if key else None
    reasons += _situation(row, context, employee, doubled_keys, doubled_numbers)

    # Employer and department by name and path, within the user's scope.
    data: dict[str, Any] = {name: cells.get(name, "") for name in FIELDS}
    for name in DATES:  # a date read from the file goes in as a date (no format guessing)
        data[name] = _as_date(data[name])
    employer = context.employer_by_name.get(data["employer"].casefold())
    data["employer"] = str(employer.pk) if employer else ""
    if data.get("gender"):
        data["gender"] = context.genders.get(data["gender"].casefold(), data["gender"])
    path = data["department"].strip("/").casefold()
    data["department"] = ""
    if employer and path:
        department = context.placeable.get((employer.pk, path))
        if department is not None:
            data["department"] = str(department.pk)
        elif (employer.pk, path) in context.existing_paths:
            reasons.append(
                (header("department"),
                 _("You can only place employees within your own employers and departments."))
            )  # fmt: skip
        else:
            reasons.append((header("department"), _("Unknown department.")))

    # Snapshot of what is stored, before the form writes the row onto the instance.
    before = {name: getattr(employee, name) for name in WRITTEN} if employee else {}
    current = _terms_today(employee, context.today) if employee else None
    instance = employee or Employee(tenant_id=context.by.tenant_id)
    form = ImportRowForm(
        data, instance=instance, fields=context.fields, bsn_allowed=context.tenant.bsn_allowed,
        taken=taken,
    )  # fmt: skip
    if not form.is_valid():
        for name, messages in form.errors.items():
            texts = [str(message) for message in messages]
            if name == "employer" and cells.get("employer"):
                texts = [_("Unknown employer, or one outside your scope.")]
            for text in texts:
                reasons.append((header(name if name != "__all__" else None), text))
    elif not context.in_scope(form.cleaned_data["employer"], form.cleaned_data["department"]):
        reasons.append(
            (header("department"),
             _("You can only place employees within your own employers and departments."))
        )  # fmt: skip
    if reasons:
        return Outcome(row, REFUSED, reasons)
    if employee is None:
        return Outcome(row, NEW, form=form)
    hours = (form.cleaned_data["contract_hours"], form.cleaned_data["full_time_hours"])
    hours_changed = current is None or (current.contract_hours, current.full_time_hours) != hours
    bsn = form.cleaned_data.get("bsn") or ""
    bsn_changed = bool(bsn) and bsn != employee.bsn
    changed = [
        name.removesuffix("_id")
        for name, value in before.items()
        if getattr(employee, name) != value
    ]
    if bsn_changed:
        changed.append("bsn")
    status = UPDATE if changed or hours_changed else UNCHANGED
    return Outcome(
        row, status, form=form, hours_changed=hours_changed, bsn_changed=bsn_changed,
        changed_fields=changed,
    )  # fmt: skip


def _situation(
    row: Row,
    context: _Context,
    employee: Employee | None,
    doubled_keys: set[str],
    doubled_numbers: set[tuple[str, str]],
) -> list[tuple[str, str]]:
    """The four situations of seed 002, and keys or personnel numbers the file holds twice."""
    cells, header = row.cells, context.header
    reasons: list[tuple[str, str]] = []
    action = cells.get("action", "").casefold()
    key_text = cells.get("key", "")
    if action not in UPDATE_WORDS | NEW_WORDS:
        reasons.append(
            (header("action"), _("The action must be update (bijwerken) or new (nieuw)."))
        )
    elif key_text and employee is None:
        reasons.append((header("key"), _("Unknown key.")))
    elif action in NEW_WORDS and employee is not None:
        reasons.append((header("key"), _("This employee is already known: use update.")))
    elif action in UPDATE_WORDS and not key_text:
        reasons.append((header("key"), _("This employee is not known yet: use new.")))
    if key_text and key_text.casefold() in doubled_keys:
        reasons.append((header("key"), _("This key appears more than once in the file.")))
    if cells.get("personnel_number") and _number_key(row) in doubled_numbers:
        reasons.append(
            (header("personnel_number"),
             _("This personnel number appears more than once for this employer in the file."))
        )  # fmt: skip
    return reasons


def _factor(contract: Decimal, full_time: Decimal) -> Decimal:
    """The part-time factor as the terms define it (EmploymentTerms.part_time_factor)."""
    return EmploymentTerms(contract_hours=contract, full_time_hours=full_time).part_time_factor


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def start_import(*, by: User, file_name: str, data: bytes) -> EmployeeImport:
    """Keep the file (sealed) and check it in the background. A file whose format or header is
    wrong is refused at once (FileRefused) and not kept."""
    check_header(data, file_name, bsn_allowed=by.tenant.bsn_allowed)
    employee_import = EmployeeImport(
        tenant_id=by.tenant_id, uploaded_by=by, file_hash=file_hash(data)
    )
    # Sealed after the tenant and key are set (they bind the ciphertexts to this row).
    employee_import.file_name = file_name[:255]
    employee_import.content = data
    employee_import.save()
    pk = employee_import.pk
    transaction.on_commit(lambda: preview_in_background.delay(pk))
    return employee_import


def run_preview(employee_import: EmployeeImport) -> None:
    """Check every row and keep the outcome; nothing but the import itself is written."""
    by = employee_import.uploaded_by
    EmployeeImport.objects.filter(pk=employee_import.pk).update(
        status=ImportStatus.CHECKING, started_at=timezone.now(), rows_done=0
    )
    counts: Counter[str] = Counter()
    refusals = []
    outcomes = []
    done = 0

    def total(rows: int) -> None:
        EmployeeImport.objects.filter(pk=employee_import.pk).update(rows_total=rows)

    try:
        for batch in evaluate(
            employee_import.content, employee_import.file_name or "", by=by, on_total=total
        ):
            for outcome in batch:
                counts[outcome.status] += 1
                outcomes.append([outcome.row.number, outcome.status])
                if outcome.status == REFUSED:
                    refusals.append({"row": outcome.row.number, "reasons": outcome.reasons})
            done += len(batch)
            EmployeeImport.objects.filter(pk=employee_import.pk).update(rows_done=done)
    except FileRefused as refused:
        EmployeeImport.objects.filter(pk=employee_import.pk).update(
            status=ImportStatus.FAILED, message=" ".join(refused.messages)[:500]
        )
        return
    except Exception:
        # Not left "checking" for ever: the page says so, and the error is logged by Celery.
        EmployeeImport.objects.filter(pk=employee_import.pk).update(
            status=ImportStatus.FAILED, message=_("This file could not be checked.")
        )
        raise
    stored = EmployeeImport.objects.get(pk=employee_import.pk)
    stored.new_count, stored.update_count = counts[NEW], counts[UPDATE]
    stored.unchanged_count, stored.refused_count = counts[UNCHANGED], counts[REFUSED]
    stored.refusals_json = json.dumps(refusals)
    stored.outcomes_json = json.dumps(outcomes)
    stored.status = ImportStatus.PREVIEWED
    stored.save()


def request_commit(
    *, employee_import: EmployeeImport, by: User, file_hash_seen: str, skip_refused: bool
) -> None:
    """The person confirms the preview: checked at once, then written in the background. Only
    one confirmation of a preview gets through (the status moves from previewed once)."""
    if employee_import.uploaded_by_id != by.pk:
        raise ValidationError(_("Only the person who uploaded the file can import it."))
    if file_hash_seen != employee_import.file_hash:
        raise ValidationError(_("This is not the file of this preview; upload it again."))
    if employee_import.refused_count and not skip_refused:
        raise ValidationError(
            _("Refused rows block the import: correct them, or choose to leave them out."),
            code="refused",
        )
    already = EmployeeImport.objects.filter(
        tenant_id=employee_import.tenant_id,
        file_hash=employee_import.file_hash,
        status__in=[ImportStatus.COMMITTING, ImportStatus.COMMITTED],
    )
    moved = 0
    if not already.exists():
        moved = EmployeeImport.objects.filter(
            pk=employee_import.pk, status=ImportStatus.PREVIEWED
        ).update(
            status=ImportStatus.COMMITTING, skipped_refused=skip_refused, rows_done=0,
            started_at=timezone.now(), message="",
        )  # fmt: skip
    if not moved:
        raise ValidationError(_("This file has already been imported."), code="done")
    pk = employee_import.pk
    transaction.on_commit(lambda: commit_in_background.delay(pk))


class _Progress:
    """A commit's progress must be seen while its transaction is still open, so it is written
    over a connection of its own (the import row is not locked by the commit)."""

    def __init__(self, pk: int) -> None:
        self.pk = pk
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, done: int) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {EmployeeImport._meta.db_table} SET rows_done = %s WHERE id = %s",  # noqa: S608 - our own table name
                [done, self.pk],
            )

    def close(self) -> None:
        self.connection.close()


def run_commit(employee_import: EmployeeImport) -> None:
    """Write the previewed file in the background; a refusal puts it back to previewed with
    the reason as its message (nothing written)."""
    progress = _Progress(employee_import.pk)
    try:
        commit_import(employee_import=employee_import, progress=progress)
    except ValidationError as error:
        EmployeeImport.objects.filter(pk=employee_import.pk).update(
            status=ImportStatus.PREVIEWED, message=" ".join(error.messages)[:500]
        )
    finally:
        progress.close()


@transaction.atomic
def commit_import(
    *, employee_import: EmployeeImport, progress: Callable[[int], None] | None = None
) -> None:
    """Write every valid row of the previewed file, or nothing.

    The rows are checked again with the employees to update locked; if the outcome differs
    from the preview the person saw (someone changed employees meanwhile), nothing is
    written. Refused rows are left out only when the person chose so (request_commit)."""
    stored = EmployeeImport.objects.get(pk=employee_import.pk)
    by = stored.uploaded_by
    if stored.status != ImportStatus.COMMITTING:
        raise ValidationError(_("This file has already been imported."), code="done")
    counts: Counter[str] = Counter()
    done = 0
    for batch in evaluate(stored.content, stored.file_name or "", by=by, lock=True):
        for outcome in batch:
            counts[outcome.status] += 1
        _write(batch, by)
        done += len(batch)
        if progress is not None:
            progress(done)
    preview = {NEW: stored.new_count, UPDATE: stored.update_count,
               UNCHANGED: stored.unchanged_count, REFUSED: stored.refused_count}  # fmt: skip
    if any(counts[status] != count for status, count in preview.items()):
        raise ValidationError(
            _("Employees changed since the preview; upload the file again to see what the "
              "import would do now."),
            code="stale",
        )  # fmt: skip
    if counts[NEW] + counts[UPDATE] >= ANALYZE_FROM_ROWS:
        # In this transaction, so the statistics count the rows it wrote; the column
        # statistics take effect with the commit.
        analyze(Employee, EmploymentTerms)
    EmployeeImport.objects.filter(pk=stored.pk).update(
        status=ImportStatus.COMMITTED, committed_at=timezone.now(), rows_done=done, message=""
    )
    record_event(
        "employee.import", Action.EXECUTE, obj=stored, actor=by,
        result_count=stored.new_count + stored.update_count,
    )  # fmt: skip


def _write(batch: list[Outcome], by: User) -> None:
    """The batch's new and changed employees with their terms, in a few bulk statements."""
    today = timezone.localdate()
    created: list[Employee] = []
    new_terms: list[EmploymentTerms] = []
    changed_terms: list[EmploymentTerms] = []
    updated: list[tuple[Employee, list[str]]] = []
    for outcome in batch:
        if outcome.status not in (NEW, UPDATE) or outcome.form is None:
            continue
        data = outcome.form.cleaned_data
        employee: Employee = outcome.form.instance
        contract, full_time = data["contract_hours"], data["full_time_hours"]
        if outcome.status == NEW:
            employee.tenant_id = by.tenant_id
            if data.get("bsn"):
                employee.set_bsn(data["bsn"])
            employee.part_time_factor = _factor(contract, full_time)
            created.append(employee)
            new_terms.append(
                EmploymentTerms(
                    tenant_id=by.tenant_id,
                    employee=employee,
                    valid_from=employee.employment_start,
                    contract_hours=contract,
                    full_time_hours=full_time,
                )  # fmt: skip
            )
            continue
        factor_before = employee.part_time_factor
        employee.version += 1
        if outcome.bsn_changed:
            employee.set_bsn(data["bsn"])
        if outcome.hours_changed:
            # As save_employee: new hours apply from today (one set of terms per day).
            same_day = [t for t in employee.terms.all() if t.valid_from == today]
            terms = same_day[0] if same_day else EmploymentTerms(
                tenant_id=by.tenant_id, employee=employee, valid_from=today
            )  # fmt: skip
            terms.contract_hours, terms.full_time_hours = contract, full_time
            (changed_terms if same_day else new_terms).append(terms)
            employee.part_time_factor = _factor(contract, full_time)
        else:
            current = _terms_today(employee, today)
            if current is not None:
                employee.part_time_factor = current.part_time_factor
        if employee.part_time_factor != factor_before:
            outcome.changed_fields.append("part_time_factor")
        updated.append((employee, outcome.changed_fields))
    Employee.objects.bulk_create(created, batch_size=BATCH)
    for terms in new_terms:
        # Assigned again for the id the insert gave the employee (setting employee_id alone
        # would drop the cached employee, and the events below would fetch each one).
        terms.employee = terms.employee
    Employee.objects.bulk_update(
        [employee for employee, _fields in updated],
        [*WRITTEN, "version", "part_time_factor", "bsn_sealed", "bsn_index"],
        batch_size=BATCH,
    )  # fmt: skip
    EmploymentTerms.objects.bulk_create(new_terms, batch_size=BATCH)
    hours = ["contract_hours", "full_time_hours"]
    EmploymentTerms.objects.bulk_update(changed_terms, hours, batch_size=BATCH)
    # Bulk statements send no signals, so change capture (audit/capture.py) does not see them:
    # the same events, names of changed fields only, go to the outbox here.
    record_changes(
        [_change("create", Action.CREATE, e, e, by) for e in created]
        + [_change("update", Action.UPDATE, e, e, by, fields) for e, fields in updated]
        + [_change("create", Action.CREATE, t, t.employee, by) for t in new_terms]
        + [_change("update", Action.UPDATE, t, t.employee, by, hours) for t in changed_terms]
    )


def _change(
    verb: str, action: str, obj: Any, subject: Employee, by: User, fields: list[str] | None = None
) -> dict[str, Any]:
    return build_event(
        f"{obj._meta.label_lower}.{verb}", action, obj=obj, subject=subject.key, actor=by,
        changed_fields=fields or [],
    )  # fmt: skip


@shared_task(name="imports.tasks.preview_in_background")
def preview_in_background(import_pk: int) -> None:
    with all_tenants():
        employee_import = EmployeeImport.objects.select_related("uploaded_by").get(pk=import_pk)
    with tenant_scope(employee_import.tenant_id):
        run_preview(employee_import)


@shared_task(name="imports.tasks.commit_in_background")
def commit_in_background(import_pk: int) -> None:
    with all_tenants():
        employee_import = EmployeeImport.objects.get(pk=import_pk)
    with tenant_scope(employee_import.tenant_id):
        run_commit(employee_import)
