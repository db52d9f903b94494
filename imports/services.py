"""Employee imports: preview a sheet (nothing written), then commit it (all valid rows or
nothing), keyed by our unique key with the four situations of seed 002:

| key     | action          | result                                           |
| ------- | --------------- | ------------------------------------------------ |
| ours    | update/bijwerken| the employee is overwritten with the row         |
| ours    | new/nieuw       | refused: the employee is already known           |
| (empty) | update/bijwerken| refused: the employee is not known yet           |
| (empty) | new/nieuw       | a new employee                                   |

Every row passes the employee form's rules (imports/forms.py: FastRowCheck, and
ImportRowForm for any row it is not sure of) and the same scope rule as employees/services.py
save_employee; the writes follow save_employee too (dated EmploymentTerms, the BSN sealed with
its blind index, only where the tenant allows one), but set-based (imports/writing.py): the
file is read once per step (preview, commit), and each batch of rows is checked and written
with a constant number of queries.

- Departments: a path such as "Productie/Inpak". One that does not exist yet is listed in the
  preview if the uploader may add it (under an employer, or a department, in their scope) and
  added on commit only if they choose so; without that choice its rows are refused.
- Hours: empty cells keep an employee's hours on an update; a new employee gets the employer's
  full-time week (Employer.full_time_hours), and works it whole when the contract hours are
  empty too. Changed hours apply from today, as a new row of the dated terms.
"""

from __future__ import annotations

import bisect
import copy
import functools
import hashlib
import json
import uuid
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.codes import Action
from audit.events import RequestAudit, begin_request, end_request, record_event
from auth2fa.models import User
from core.encryption import pinned_data_key
from core.overlap import overlapped
from core.statistics import analyze, planner_rows, priced_for_index_lookups
from core.tenancy import all_tenants, tenant_scope
from domains.models import Department
from domains.permissions import Perm
from domains.visibility import access_of
from employees.exports import columns, department_paths
from employees.models import Employee, EmploymentTerms, Gender
from employees.selectors import placement_choices, visible_employees
from imports.forms import FastRowCheck, ImportRowForm
from imports.models import EmployeeImport, ImportStatus
from imports.parsing import DATES, FIELDS, FileRefused, Row, check_header, read_rows
from imports.writing import WRITTEN, BulkWriter, Prepared

BATCH = 1000
# The commit's batches are larger: each costs a few round trips to PostgreSQL (lookups, ids,
# three COPYs) that wait on the worker thread for the GIL (core/overlap.py); at 4,000 rows the
# 100,000-row commit took 11 s instead of 15 s (bench/imports.py), and its memory stays below
# the preview's peak.
COMMIT_BATCH = 4 * BATCH
# The first batch is small: nothing is stored until it is checked and formatted, and the
# next batch is prepared only while it is stored (a 10,000-row commit is three batches).
FIRST_COMMIT_BATCH = BATCH
# From this many new or changed employees on, and a tenth of the table as the planner knew it,
# the commit refreshes the planner's statistics of the tables it wrote (core/statistics.py)
# instead of leaving lists to plans for the old sizes until autovacuum comes by. Below a tenth
# autovacuum would not refresh them either (autovacuum_analyze_scale_factor 0.1): the old
# statistics still describe the table well enough, and sampling two large tables cost 0.35 s,
# the better part of a 1,000-row commit (bench/imports.py).
ANALYZE_FROM_ROWS = 500
ANALYZE_FROM_SHARE = 0.1
DEPARTMENT_LOCK_NAMESPACE = zlib.crc32(b"imports-departments") & 0x7FFFFFFF
NEW, UPDATE, UNCHANGED, REFUSED = "new", "update", "unchanged", "refused"
STATUSES = [NEW, UPDATE, UNCHANGED, REFUSED]
STATUS_CODES = {status: code for code, status in enumerate(STATUSES)}
UPDATE_WORDS = {"update", "bijwerken"}
NEW_WORDS = {"new", "nieuw"}
# Marks a row of the preview placed in a department the import would add (third element of
# an outcome): without the person's consent to add departments it is refused.
IN_NEW_DEPARTMENT = "new-department"


@dataclass(slots=True)
class Outcome:
    number: int  # the row's number in the sheet
    status: str
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    values: dict[str, Any] | None = None  # cleaned, as the employee form cleans them
    employee: Employee | None = None  # the employee an update overwrites (locked in a commit)
    terms: list[EmploymentTerms] = field(default_factory=list)  # its terms, in date order
    hours_changed: bool = False
    bsn_changed: bool = False
    changed_fields: list[str] = field(default_factory=list)  # names only, for the audit trail
    # Placed in a department that does not exist yet: (employer id, path casefolded).
    new_department: tuple[int, str] | None = None


def _path_parts(path: str) -> list[str]:
    return [part.strip() for part in path.strip().strip("/").split("/")]


class _Context:
    """What every row is checked against, read once per import.

    `plan_departments`: a department path that does not exist yet but may be added by this
    user (under an employer, or a department, in their scope) is noted in `missing` and the
    row passes (the preview); otherwise such a row is refused (a commit without consent; with
    consent the departments exist by the time the rows are checked)."""

    def __init__(self, by: User, *, plan_departments: bool = False) -> None:
        self.by = by
        self.tenant = by.tenant
        self.today = timezone.localdate()
        self.plan_departments = plan_departments
        employers, departments = placement_choices(by)
        self.employers = list(employers)
        self._employer_by_name = {e.name.casefold(): e for e in self.employers}
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
        self.fast = FastRowCheck(today=self.today, bsn_allowed=self.tenant.bsn_allowed)
        # Departments this import would add: (employer id, path casefolded) -> (employer, path).
        self.missing: dict[tuple[int, str], tuple[Any, str]] = {}
        self.genders: dict[str, str] = {}
        self.headers: dict[str, str] = dict(zip(FIELDS, columns(with_bsn=True), strict=True))
        for language in ("en", "nl"):
            with translation.override(language):
                for value, label in Gender.choices:
                    self.genders[str(label).casefold()] = value
                    self.genders[value] = value

    def employer_named(self, name: str) -> Any:
        """The user's employer of this name (in any case), or None: the one a row places its
        employee with, for its checks and for the lookup of its personnel number alike."""
        return self._employer_by_name.get(name.casefold())

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

    def may_add_under(self, employer: Any, parent_path: str | None) -> bool:
        """A department may be added by this user at the top of an employer in their scope, or
        under an open department in their scope (or one this import adds there)."""
        if parent_path is None:
            return employer.pk in self.scope_employers
        key = (employer.pk, parent_path.casefold())
        return key in self.placeable or key in self.missing

    def department(
        self, employer: Any, path: str
    ) -> tuple[Any, str | None, tuple[int, str] | None]:
        """The department a path names: (department, reason it cannot be used, the key of the
        department to be added)."""
        parts = _path_parts(path)
        found = self.placeable.get((employer.pk, "/".join(parts).casefold()))
        if found is not None:
            return found, None, None
        if (employer.pk, "/".join(parts).casefold()) in self.existing_paths:
            return None, _scope_message(), None
        if not all(parts) or any(len(part) > DEPARTMENT_NAME_LENGTH for part in parts):
            return None, _("Unknown department."), None
        # The nearest level that exists; every level below it is to be added.
        depth = len(parts) - 1
        while (
            depth and (employer.pk, "/".join(parts[:depth]).casefold()) not in self.existing_paths
        ):
            depth -= 1
        parent = "/".join(parts[:depth]) if depth else None
        if not self.may_add_under(employer, parent):
            return None, _("Unknown department, and you cannot add departments there."), None
        if not self.plan_departments:
            return None, _("This department does not exist yet: choose to add the missing "
                           "departments, or correct the path."), None  # fmt: skip
        for level in range(depth + 1, len(parts) + 1):
            name = "/".join(parts[:level])
            self.missing.setdefault((employer.pk, name.casefold()), (employer, name))
        return None, None, (employer.pk, "/".join(parts).casefold())


DEPARTMENT_NAME_LENGTH = 200  # Department.name's max_length


def _scope_message() -> str:
    return _("You can only place employees within your own employers and departments.")


@functools.lru_cache(maxsize=16384)
def _as_date(text: str) -> date | str:
    try:
        return date.fromisoformat(text) if len(text) == len("2026-01-31") else text
    except ValueError:
        return text  # the form says why


def _parse_key(text: str) -> uuid.UUID | None:
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _terms_today(terms: list[EmploymentTerms], today: date) -> EmploymentTerms | None:
    """The terms that apply today (or the first, if all start later); `terms` in date order."""
    current = [t for t in terms if t.valid_from <= today]
    return current[-1] if current else (terms[0] if terms else None)


def _number_key(row: Row) -> str:
    """A personnel number with its employer's name, as one string (one object per row to keep
    in Doubles, not three)."""
    return f"{row.cells.get('employer', '').casefold()}\x1f{row.cells.get('personnel_number', '')}"


class Doubles:
    """Keys, and personnel numbers of an employer, that the file holds more than once: every
    row holding one is refused. A preview finds them in its one pass over the file (the later
    rows at once, the first one when its twin turns up: `late`); a commit is told the rows the
    preview found (the same file, by its hash), so it writes nothing it would refuse later."""

    def __init__(self, known: set[int] | None = None) -> None:
        self.known = known or set()
        self.first_key: dict[str, int] = {}
        self.first_number: dict[str, int] = {}
        self.late: dict[int, set[str]] = {}  # first rows found doubled after they were checked
        self.rows: set[int] = set(self.known)

    def see(self, row: Row) -> set[str]:
        """What of this row (key, number) an earlier row held too."""
        doubled: set[str] = set()
        # The key as it names an employee: one key written two ways (with or without hyphens
        # or braces, in capitals) is the same employee twice.
        text = row.cells.get("key", "")
        parsed = _parse_key(text)
        key = str(parsed) if parsed else text.casefold()
        if key:
            first = self.first_key.setdefault(key, row.number)
            if first != row.number:
                doubled.add("key")
                self._late(first, "key")
        if row.cells.get("personnel_number"):
            first = self.first_number.setdefault(_number_key(row), row.number)
            if first != row.number:
                doubled.add("personnel_number")
                self._late(first, "personnel_number")
        if doubled:
            self.rows.add(row.number)
        return doubled

    def _late(self, first: int, what: str) -> None:
        if first not in self.known:
            self.late.setdefault(first, set()).add(what)
        self.rows.add(first)


def doubled_reason(context_header: Callable[[str | None], str], what: str) -> tuple[str, str]:
    if what == "key":
        return (context_header("key"), _("This key appears more than once in the file."))
    return (
        context_header("personnel_number"),
        _("This personnel number appears more than once for this employer in the file."),
    )


TAKEN_NUMBERS_SQL = f"""
SELECT e.employer_id, e.personnel_number, e.id
  FROM unnest(%s::bigint[], %s::text[]) AS wanted(employer_id, number)
 CROSS JOIN LATERAL (
     SELECT employer_id, personnel_number, id FROM {Employee._meta.db_table}
      WHERE tenant_id = %s AND employer_id = wanted.employer_id
        AND personnel_number = wanted.number
     OFFSET 0  -- kept a lookup per number: PostgreSQL would rather hash the whole tenant
 ) AS e
"""  # noqa: S608 - our own table name


@dataclass
class Lookups:
    """What a batch's rows are checked against from the database: the employees its keys name
    (those this user may edit), their terms in date order, and the personnel numbers it uses
    that are taken ((employer id, number) -> employee id)."""

    existing: dict[uuid.UUID, Employee]
    terms_of: dict[int, list[EmploymentTerms]]
    taken: dict[tuple[int, str], int]


def _batches(
    data: bytes,
    file_name: str,
    by: User,
    size: int,
    on_estimate: Callable[[int], None] | None = None,
    *,
    first: int | None = None,
) -> Iterator[list[Row]]:
    """The file's rows in batches of `size` rows (the first of `first` rows, if given)."""
    batch: list[Row] = []
    limit = first or size
    for row in read_rows(
        data, file_name, bsn_allowed=by.tenant.bsn_allowed, on_estimate=on_estimate
    ):
        batch.append(row)
        if len(batch) == limit:
            yield batch
            batch, limit = [], size
    if batch:
        yield batch


def evaluate(
    data: bytes,
    file_name: str,
    *,
    by: User,
    doubles: Doubles | None = None,
    context: _Context | None = None,
    on_estimate: Callable[[int], None] | None = None,
) -> Iterator[list[Outcome]]:
    """Every row of the file with its outcome, per batch, in one pass (the preview). Raises
    FileRefused (before any row) for a file that cannot be imported as a whole. `doubles`:
    what the file holds twice (see Doubles)."""
    context = context or _Context(by)
    doubles = doubles if doubles is not None else Doubles()
    for rows in _batches(data, file_name, by, BATCH, on_estimate):
        yield _evaluate_rows(rows, context, _look_up(rows, context, lock=False), doubles)


def _look_up(rows: list[Row], context: _Context, *, lock: bool) -> Lookups:
    """A batch's lookups: three queries whatever its size. `lock`: lock the employees to be
    updated (the commit, inside its transaction)."""
    by = context.by
    keys = [key for row in rows if (key := _parse_key(row.cells.get("key", "")))]
    existing: dict[uuid.UUID, Employee] = {}
    terms_of: dict[int, list[EmploymentTerms]] = defaultdict(list)
    if keys:
        # Only employees this user may edit: another tenant's key, or one outside the scope,
        # is answered exactly as a key that does not exist. The keys (and then the ids) go as
        # one array parameter: a thousand placeholders cost more to bind than the query to run.
        in_batch = RawSQL(
            '"employees_employee"."key" = ANY(%s::uuid[])', (keys,), output_field=BooleanField()
        )
        editable = visible_employees(by, Perm.EMPLOYEE_EDIT).filter(in_batch).order_by()
        if lock:
            editable = editable.select_for_update(of=("self",))
        with priced_for_index_lookups():
            existing = {e.key: e for e in editable}
            # Read directly, not by prefetch_related: its per-object bookkeeping (a related
            # manager and a queryset per employee) cost more than the rest of the checks.
            ids = [employee.pk for employee in existing.values()]
            for terms in EmploymentTerms.unscoped.filter(
                RawSQL("employee_id = ANY(%s::bigint[])", (ids,), output_field=BooleanField())
            ).order_by("employee_id", "valid_from"):
                terms_of[terms.employee_id].append(terms)
    # The numbers as the rows place them: (employer id, number), for the employer the row
    # names (a row naming none of the user's employers is refused whatever its number).
    wanted = {
        (employer.pk, number)
        for row in rows
        if (number := row.cells.get("personnel_number", "").strip())
        and (employer := context.employer_named(row.cells.get("employer", "")))
    }
    # Number by number from the (employer, personnel number) unique index, not by number
    # alone: employers of one tenant often number their people alike (1, 2, 3, ...), and
    # every employer's holder of a number was read. As a join, PostgreSQL hashed every
    # employee of the tenant for each batch (30 ms a batch against 3 ms at 100,000).
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            TAKEN_NUMBERS_SQL,
            [[pk for pk, _n in wanted], [number for _pk, number in wanted], by.tenant_id],
        )
        taken = {(employer_id, number): pk for employer_id, number, pk in cursor.fetchall()}
    return Lookups(existing, terms_of, taken)


def _evaluate_rows(
    rows: list[Row], context: _Context, lookups: Lookups, doubles: Doubles
) -> list[Outcome]:
    """The outcome of every row of a batch; no database access (a commit runs this in a worker
    thread, core/overlap.py)."""
    return [_evaluate_row(row, context, lookups, doubles) for row in rows]


def _hours(data: dict[str, Any], employer: Any, current: EmploymentTerms | None) -> None:
    """Empty hours cells: an update keeps the hours it has (as an empty BSN cell keeps the
    BSN); a new employee gets the employer's full-time week, and works it whole when the
    contract hours are empty too (part-time factor 1, the model's default)."""
    if data["full_time_hours"] == "":
        if current is not None:
            data["full_time_hours"] = str(current.full_time_hours)
        elif employer is not None:
            data["full_time_hours"] = str(employer.full_time_hours)
    if data["contract_hours"] == "":
        if current is not None:
            data["contract_hours"] = str(current.contract_hours)
        else:
            data["contract_hours"] = data["full_time_hours"]


def _evaluate_row(row: Row, context: _Context, lookups: Lookups, doubles: Doubles) -> Outcome:
    cells = row.cells
    existing, terms_of, taken = lookups.existing, lookups.terms_of, lookups.taken
    reasons: list[tuple[str, str]] = []
    header = context.header
    for name in sorted(row.formulas):
        reasons.append((header(name), _("A formula is not allowed in a cell.")))
    for name in sorted(row.too_long):
        reasons.append((header(name), _("This cell is too long.")))

    key = _parse_key(cells.get("key", ""))
    employee = existing.get(key) if key else None
    reasons += _situation(row, context, employee)
    doubled = doubles.see(row) if row.number not in doubles.known else {"key"}
    reasons += [doubled_reason(header, what) for what in sorted(doubled)]

    # Employer and department by name and path, within the user's scope.
    data: dict[str, Any] = {name: cells.get(name, "") for name in FIELDS}
    for name in DATES:  # a date read from the file goes in as a date (no format guessing)
        data[name] = _as_date(data[name])
    employer = context.employer_named(data["employer"])
    data["employer"] = str(employer.pk) if employer else ""
    if data.get("gender"):
        data["gender"] = context.genders.get(data["gender"].casefold(), data["gender"])
    path = data["department"]
    data["department"] = ""
    department, new_department, reason = None, None, None
    if employer and path.strip().strip("/"):
        department, reason, new_department = context.department(employer, path)
        if reason:
            reasons.append((header("department"), reason))
        elif department is not None:
            data["department"] = str(department.pk)

    terms = terms_of[employee.pk] if employee else []
    current = _terms_today(terms, context.today)
    _hours(data, employer, current)
    values = context.fast.clean(
        data, employer=employer, department=department,
        instance_pk=employee.pk if employee else None, taken=taken,
    )  # fmt: skip
    if values is None:
        # Not plainly valid: the employee form itself says why (or finds it valid after all).
        values = _form_check(row, data, context, employee, taken, reasons)
    if (
        values is not None
        and new_department is None
        and reason is None
        and not context.in_scope(values["employer"], values["department"])
    ):
        reasons.append((header("department"), _scope_message()))
    if reasons or values is None:
        return Outcome(row.number, REFUSED, reasons)
    if employee is None:
        return Outcome(row.number, NEW, values=values, new_department=new_department)
    return _update_outcome(row, values, employee, terms, current, new_department)


def _form_check(
    row: Row,
    data: dict[str, Any],
    context: _Context,
    employee: Employee | None,
    taken: dict[tuple[int, str], int],
    reasons: list[tuple[str, str]],
) -> dict[str, Any] | None:
    """The row through the employee form: its cleaned values, or None with its reasons."""
    instance = copy.copy(employee) if employee else Employee(tenant_id=context.by.tenant_id)
    form = ImportRowForm(
        data, instance=instance, fields=context.fields, bsn_allowed=context.tenant.bsn_allowed,
        taken=taken,
    )  # fmt: skip
    if form.is_valid():
        return form.cleaned_data
    for name, messages in form.errors.items():
        texts = [str(message) for message in messages]
        if name == "employer" and row.cells.get("employer"):
            texts = [_("Unknown employer, or one outside your scope.")]
        for text in texts:
            reasons.append((context.header(name if name != "__all__" else None), text))
    return None


def _update_outcome(
    row: Row,
    values: dict[str, Any],
    employee: Employee,
    terms: list[EmploymentTerms],
    current: EmploymentTerms | None,
    new_department: tuple[int, str] | None,
) -> Outcome:
    """A valid row of a known employee: an update, or unchanged."""
    hours = (values["contract_hours"], values["full_time_hours"])
    hours_changed = current is None or (current.contract_hours, current.full_time_hours) != hours
    bsn = values.get("bsn") or ""
    bsn_changed = bool(bsn) and bsn != employee.bsn
    after = {name: values[name] for name in WRITTEN if name in values}
    after["employer_id"] = values["employer"].pk
    after["department_id"] = values["department"].pk if values["department"] else None
    changed = [
        name.removesuffix("_id") for name in WRITTEN if getattr(employee, name) != after[name]
    ]
    if new_department is not None and "department" not in changed:
        changed.append("department")
    if bsn_changed:
        changed.append("bsn")
    status = UPDATE if changed or hours_changed else UNCHANGED
    return Outcome(
        row.number, status, values=values, employee=employee, terms=terms,
        hours_changed=hours_changed, bsn_changed=bsn_changed, changed_fields=changed,
        new_department=new_department,
    )  # fmt: skip


def _situation(row: Row, context: _Context, employee: Employee | None) -> list[tuple[str, str]]:
    """The four situations of seed 002."""
    cells, header = row.cells, context.header
    action = cells.get("action", "").casefold()
    key_text = cells.get("key", "")
    if action not in UPDATE_WORDS | NEW_WORDS:
        return [(header("action"), _("The action must be update (bijwerken) or new (nieuw)."))]
    if key_text and employee is None:
        return [(header("key"), _("Unknown key."))]
    if action in NEW_WORDS and employee is not None:
        return [(header("key"), _("This employee is already known: use update."))]
    if action in UPDATE_WORDS and not key_text:
        return [(header("key"), _("This employee is not known yet: use new."))]
    return []


def _factor(contract: Decimal, full_time: Decimal) -> Decimal:
    """The part-time factor as the terms define it (EmploymentTerms.part_time_factor)."""
    return EmploymentTerms.factor(contract, full_time)


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
    pk = employee_import.pk
    EmployeeImport.objects.filter(pk=pk).update(
        status=ImportStatus.CHECKING, started_at=timezone.now(), rows_done=0
    )
    refusals: dict[int, list[tuple[str, str]]] = {}
    # Every row's outcome, compactly (100,000 small lists cost more memory than the rest of
    # the preview): its number, and its status as an index into STATUSES.
    numbers = array("l")
    statuses = bytearray()
    needs: dict[int, tuple[int, str]] = {}  # row -> the new department it is placed in
    context = _Context(by, plan_departments=True)
    doubles = Doubles()

    def estimate(rows: int) -> None:
        EmployeeImport.objects.filter(pk=pk).update(rows_total=rows)

    try:
        for batch in evaluate(
            employee_import.content, employee_import.file_name or "", by=by, doubles=doubles,
            context=context, on_estimate=estimate,
        ):  # fmt: skip
            for outcome in batch:
                numbers.append(outcome.number)
                statuses.append(STATUS_CODES[outcome.status])
                if outcome.new_department is not None:
                    needs[outcome.number] = outcome.new_department
                if outcome.status == REFUSED:
                    refusals[outcome.number] = outcome.reasons
            EmployeeImport.objects.filter(pk=pk).update(rows_done=len(numbers))
    except FileRefused as refused:
        EmployeeImport.objects.filter(pk=pk).update(
            status=ImportStatus.FAILED, message=" ".join(refused.messages)[:500]
        )
        return
    except Exception:
        # Not left "checking" for ever: the page says so, and the error is logged by Celery.
        EmployeeImport.objects.filter(pk=pk).update(
            status=ImportStatus.FAILED, message=_("This file could not be checked.")
        )
        raise
    # The first of two rows with the same key or number was checked before its twin was read.
    for number, doubled in doubles.late.items():
        statuses[bisect.bisect_left(numbers, number)] = STATUS_CODES[REFUSED]
        needs.pop(number, None)
        reasons = refusals.setdefault(number, [])
        reasons += [doubled_reason(context.header, what) for what in sorted(doubled)]
    counts = {status: statuses.count(code) for status, code in STATUS_CODES.items()}
    # The departments to add: those rows are placed in, and the levels above them.
    needed = {
        (employer_id, "/".join(path.split("/")[:level]))
        for employer_id, path in needs.values()
        for level in range(1, path.count("/") + 2)
    }
    stored = EmployeeImport.objects.get(pk=pk)
    stored.new_count, stored.update_count = counts[NEW], counts[UPDATE]
    stored.unchanged_count, stored.refused_count = counts[UNCHANGED], counts[REFUSED]
    stored.rows_total = stored.rows_done = len(numbers)
    stored.refusals_json = json.dumps(
        [{"row": number, "reasons": refusals[number]} for number in sorted(refusals)]
    )
    marker = f',"{IN_NEW_DEPARTMENT}"'
    stored.outcomes_json = "[{}]".format(  # as EmployeeImport.outcomes reads it
        ",".join(
            f'[{number},"{STATUSES[code]}"{marker if number in needs else ""}]'
            for number, code in zip(numbers, statuses, strict=True)
        )
    )
    stored.duplicate_rows = sorted(doubles.rows)
    stored.missing_departments_json = json.dumps(
        sorted([employer.name, path] for key, (employer, path) in context.missing.items()
               if key in needed)
    )  # fmt: skip
    stored.status = ImportStatus.PREVIEWED
    stored.save()


def request_commit(
    *,
    employee_import: EmployeeImport,
    by: User,
    file_hash_seen: str,
    skip_refused: bool,
    add_departments: bool = False,
) -> None:
    """The person confirms the preview: checked at once, then written in the background. Only
    one confirmation of a preview gets through (the status moves from previewed once).
    `add_departments`: add the missing departments the preview listed; without it, the rows
    placed in them are refused."""
    if employee_import.uploaded_by_id != by.pk:
        raise ValidationError(_("Only the person who uploaded the file can import it."))
    if file_hash_seen != employee_import.file_hash:
        raise ValidationError(_("This is not the file of this preview; upload it again."))
    add_departments = add_departments and bool(employee_import.missing_departments)
    refused = employee_import.refused_count
    if not add_departments:
        refused += sum(employee_import.rows_in_new_departments().values())
    if refused and not skip_refused:
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
            add_departments=add_departments, started_at=timezone.now(), message="",
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
    the reason as its message (nothing written). So does any other error (a deadlock the
    database broke, a lost connection): the transaction wrote nothing, and an import left
    "importing" could never be confirmed again, nor its file imported anew."""
    progress = _Progress(employee_import.pk)
    try:
        commit_import(employee_import=employee_import, progress=progress)
    except ValidationError as error:
        _back_to_previewed(employee_import.pk, " ".join(error.messages))
    except Exception:
        _back_to_previewed(
            employee_import.pk,
            _("The import could not be written; nothing was changed. Confirm it again."),
        )
        raise  # logged by Celery, with what went wrong
    finally:
        progress.close()


def _back_to_previewed(pk: int, message: str) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    if not connection.in_atomic_block and not connection.is_usable():
        connection.close()  # broken along with the commit: the update opens a new one
    EmployeeImport.objects.filter(pk=pk, status=ImportStatus.COMMITTING).update(
        status=ImportStatus.PREVIEWED, message=message[:500]
    )


def _stale() -> ValidationError:
    return ValidationError(
        _("Employees changed since the preview; upload the file again to see what the "
          "import would do now."),
        code="stale",
    )  # fmt: skip


def _add_departments(stored: EmployeeImport, by: User) -> None:
    """The missing departments the preview listed, top level first, each only where this user
    may still add it (else nothing is written). Saved one by one, as the organisation pages
    save them (their change capture included): a handful per import, not one per row."""
    # Two imports adding the same path at the same moment would each find it missing and add
    # it twice. One import of a tenant adds departments at a time: the next waits here until
    # the first has committed, and then finds (and reuses) what it added.
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [DEPARTMENT_LOCK_NAMESPACE, by.tenant_id]
        )
    context = _Context(by, plan_departments=True)
    # Change capture names the acting user from the request; in the background there is none.
    token = begin_request(RequestAudit(user=by))
    try:
        for employer_name, path in sorted(
            stored.missing_departments, key=lambda missing: missing[1].count("/")
        ):
            _add_department(context, by, employer_name, path)
    finally:
        end_request(token)


def _add_department(context: _Context, by: User, employer_name: str, path: str) -> None:
    employer = context.employer_named(employer_name)
    parts = _path_parts(path)
    if employer is None:
        raise _stale()
    if (employer.pk, "/".join(parts).casefold()) in context.existing_paths:
        return  # added meanwhile
    parent_path = "/".join(parts[:-1]) or None
    if not context.may_add_under(employer, parent_path):
        raise _stale()
    parent = context.placeable.get((employer.pk, (parent_path or "").casefold()))
    department = Department(
        tenant_id=by.tenant_id, employer=employer, parent=parent, name=parts[-1]
    )
    department.full_clean(exclude=["path"])
    department.save()
    key = (employer.pk, "/".join(parts).casefold())
    context.existing_paths.add(key)
    context.placeable[key] = department


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
    preview = Counter({
        NEW: stored.new_count, UPDATE: stored.update_count,
        UNCHANGED: stored.unchanged_count, REFUSED: stored.refused_count,
    })  # fmt: skip
    if stored.add_departments:
        _add_departments(stored, by)
    else:  # the rows placed in departments the import would have added are refused now
        for status, count in stored.rows_in_new_departments().items():
            preview[status] -= count
            preview[REFUSED] += count
    counts: Counter[str] = Counter()
    done = 0
    rows_before = max(planner_rows(Employee), 0)  # -1: never analysed
    writer = BulkWriter(by)
    context = _Context(by)
    doubles = Doubles(known=set(stored.duplicate_rows))

    def batches() -> Iterator[tuple[list[Row], Lookups, list[int]]]:
        """Each batch with its lookups (the employees to update locked) and ids for the new
        employees it may hold: the database work, in this thread."""
        for rows in _batches(
            stored.content, stored.file_name or "", by, COMMIT_BATCH, first=FIRST_COMMIT_BATCH
        ):
            possibly_new = sum(1 for row in rows if not row.cells.get("key"))
            yield rows, _look_up(rows, context, lock=True), writer.new_ids(possibly_new)

    # Personnel numbers that earlier batches' updates moved away from, with the employee that
    # held them: to the rows after them still taken, as the preview saw them (it wrote
    # nothing). Otherwise a new row taking such a number, refused in the preview, would pass
    # here, and the counts would differ every time.
    freed: dict[tuple[int, str], int] = {}

    def prepare(batch: tuple[list[Row], Lookups, list[int]]) -> tuple[list[Outcome], Prepared]:
        """The batch checked and formatted for COPY, in the worker thread (core/overlap.py)."""
        rows, lookups, ids = batch
        for number, holder in freed.items():
            lookups.taken.setdefault(number, holder)
        outcomes = _evaluate_rows(rows, context, lookups, doubles)
        for outcome in outcomes:
            moved = {"employer", "personnel_number"} & set(outcome.changed_fields)
            if outcome.status == UPDATE and moved and (employee := outcome.employee):
                freed[(employee.employer_id, employee.personnel_number)] = employee.pk
        created = [o for o in outcomes if o.status == NEW]
        return outcomes, writer.prepare(created, [o for o in outcomes if o.status == UPDATE], ids)

    # While PostgreSQL stores one batch, the next is checked and formatted (core/overlap.py);
    # BSNs are sealed there with the tenant's data key read once.
    with pinned_data_key(by.tenant_id):
        for outcomes, prepared in overlapped(batches(), prepare):
            for outcome in outcomes:
                counts[outcome.status] += 1
            writer.store(prepared)
            if done == 0 and counts[NEW] >= ANALYZE_FROM_ROWS and rows_before < counts[NEW]:
                # A first import into a (nearly) empty table: its statistics count fewer
                # employees than this one batch wrote, and the next batches' lookups would be
                # planned as for a handful of rows. (Where they count more, refreshing them
                # here only cost time: two samples of a large table.)
                analyze(Employee, EmploymentTerms, wait=False)
            done += len(outcomes)
            if progress is not None:
                progress(done)
    if any(counts[status] != preview[status] for status in (NEW, UPDATE, UNCHANGED, REFUSED)):
        raise _stale()
    written = counts[NEW] + counts[UPDATE]
    if written >= ANALYZE_FROM_ROWS and written >= ANALYZE_FROM_SHARE * rows_before:
        # In this transaction, so the statistics count the rows it wrote; the column
        # statistics take effect with the commit.
        analyze(Employee, EmploymentTerms, wait=False)
    EmployeeImport.objects.filter(pk=stored.pk).update(
        status=ImportStatus.COMMITTED, committed_at=timezone.now(), rows_done=done, message=""
    )
    record_event(
        "employee.import", Action.EXECUTE, obj=stored, actor=by,
        result_count=counts[NEW] + counts[UPDATE],
    )  # fmt: skip


# Both tasks are delivered again when the worker running them is lost (acks_late, the
# project's default, with reject_on_worker_lost): a check starts over, and a commit's
# transaction died with the worker, so it runs again from the start.
@shared_task(name="imports.tasks.preview_in_background", reject_on_worker_lost=True)
def preview_in_background(import_pk: int) -> None:
    with all_tenants():
        employee_import = EmployeeImport.objects.select_related("uploaded_by").get(pk=import_pk)
    with tenant_scope(employee_import.tenant_id):
        run_preview(employee_import)


@shared_task(name="imports.tasks.commit_in_background", reject_on_worker_lost=True)
def commit_in_background(import_pk: int) -> None:
    with all_tenants():
        employee_import = EmployeeImport.objects.get(pk=import_pk)
    with tenant_scope(employee_import.tenant_id):
        run_commit(employee_import)
