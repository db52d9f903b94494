"""Writing a checked batch of an import: set-based, a constant number of statements per batch.

- New employees: their ids drawn from the table's sequence in one query, then one COPY of the
  employees and one of their terms (no per-row INSERT, no model instance per row).
- Updated employees: one COPY into a temporary table, then one UPDATE ... FROM it.
- Change capture: bulk statements send no signals, so audit/capture.py does not see them; the
  same events (names of changed fields only) go to the outbox with audit.events.ChangeEvents,
  in the same transaction as the rows they describe.
- Rows are written out in COPY's text format by core.copying, and new keys made as text
  (core.copying.new_keys), not a model instance, a UUID object or a psycopg dumper per value.
- A batch is prepared (checked rows formatted, no database access) apart from being stored,
  so a commit prepares the next batch in a worker thread while this one is stored
  (core/overlap.py).

Why not bulk_create / bulk_update: bulk_update writes a CASE WHEN per column and row, and both
send every value through client-side parameter binding, which cost more than the checks
themselves at 100,000 rows (bench/imports.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from audit.codes import Action
from audit.events import ChangeEvents, store_copied
from core import copying
from core.copying import CopyData
from employees.models import Employee, EmploymentTerms

if TYPE_CHECKING:
    from auth2fa.models import User

# The employee's own columns that an update overwrites (as the employee form saves them).
WRITTEN = [
    "personnel_number", "initials", "first_name", "surname_prefix", "surname", "birth_date",
    "gender", "postcode", "email", "phone", "employer_id", "department_id", "employment_start",
    "employment_end",
]  # fmt: skip
# The columns an update overwrites besides those.
UPDATED_TOO = ["version", "part_time_factor", "bsn_sealed", "bsn_index"]
UPDATE_NAMES = ["id", *WRITTEN, *UPDATED_TOO]
UPDATE_TABLE = "imports_employee_update"
TERMS_HOURS = ["contract_hours", "full_time_hours"]


def _columns(model: type[Model], names: Sequence[str]) -> list[str]:
    by_name = {field.name: str(field.column) for field in model._meta.concrete_fields}
    by_name.update({field.attname: str(field.column) for field in model._meta.concrete_fields})
    return [by_name[name] for name in names]


def copy_data(model: type[Model], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> CopyData:
    """Rows (values in the order of the fields `names`) of the model's table, formatted for
    COPY."""
    return CopyData.of(model._meta.db_table, _columns(model, names), rows)


@dataclass
class Prepared:
    """A batch ready to be written (BulkWriter.prepare, then BulkWriter.store)."""

    employees: CopyData | None = None  # new employees
    updates: CopyData | None = None  # rows of the update table
    changed_terms: list[EmploymentTerms] = field(default_factory=list)
    terms: CopyData | None = None  # new terms rows
    events: CopyData | None = None  # the change events


class BulkWriter:
    """Writes the new and changed employees of a commit, batch by batch."""

    EMPLOYEE_FIELDS = [
        "id", "tenant", "key", "employer", "department", "personnel_number", "initials",
        "first_name", "surname_prefix", "surname", "birth_date", "gender", "postcode", "email",
        "phone", "employment_start", "employment_end", "part_time_factor", "has_absence_case",
        "bsn_sealed", "bsn_index", "version",
    ]  # fmt: skip
    TERMS_FIELDS = [
        "tenant", "key", "employee", "valid_from", "contract_hours", "full_time_hours",
    ]  # fmt: skip

    def __init__(self, by: User) -> None:
        self.by = by
        self.tenant_id = by.tenant_id
        self.today = timezone.localdate()
        self.update_table_ready = False
        # Every column of the table must have a value here: a new column is a loud error.
        # (Generated columns, such as the search keys, are the database's to compute.)
        missing = {f.name for f in Employee._meta.concrete_fields if not f.generated} - set(
            self.EMPLOYEE_FIELDS
        )
        if missing:
            raise RuntimeError(f"imports.writing does not write {sorted(missing)}")

    def new_ids(self, count: int) -> list[int]:
        """`count` ids from the employees' sequence, in one query (an id drawn but not used
        leaves a gap, as a rolled-back insert does)."""
        if not count:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Employee._meta.db_table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def prepare(self, created: list[Any], updated: list[Any], ids: list[int]) -> Prepared:
        """The batch's rows and change events in COPY's text format: no database access (a
        commit runs this in a worker thread, core/overlap.py). `created`, `updated`: the
        batch's outcomes (imports.services.Outcome) of new and changed employees, with their
        cleaned values; `ids`: at least one new id per created employee (BulkWriter.new_ids)."""
        prepared = Prepared()
        # New terms rows: (employee id, the employee's key, valid from, hours, full time).
        terms: list[tuple[int, str, date, Decimal, Decimal]] = []
        events = ChangeEvents(tenant=self.by.tenant, actor=self.by)
        if created:
            prepared.employees = self._create(created, ids, terms, events)
        if updated:
            prepared.updates, prepared.changed_terms = self._update(updated, terms, events)
        if terms:
            keys = copying.new_keys(len(terms))
            prepared.terms = copy_data(
                EmploymentTerms,
                self.TERMS_FIELDS,
                ((self.tenant_id, key, employee_id, valid_from, contract, full_time)
                 for key, (employee_id, _subject, valid_from, contract, full_time)
                 in zip(keys, terms, strict=True)),
            )  # fmt: skip
            subjects = [subject for _id, subject, *_rest in terms]
            events.add(
                "employees.employmentterms", Action.CREATE, copying.new_keys(len(terms)),
                [(key, subject, None) for key, subject in zip(keys, subjects, strict=True)],
            )  # fmt: skip
        prepared.events = events.copy_data()
        return prepared

    def store(self, prepared: Prepared) -> None:
        """Write a prepared batch: new employees before their terms, the change events with
        them, in the current transaction."""
        if prepared.employees is not None:
            prepared.employees.send()
        if prepared.updates is not None:
            self._apply_updates(prepared.updates)
        if prepared.changed_terms:  # a second import on one day: rare, and a few rows
            EmploymentTerms.objects.bulk_update(prepared.changed_terms, TERMS_HOURS)
        if prepared.terms is not None:
            prepared.terms.send()
        if prepared.events is not None:
            store_copied(prepared.events)

    def _create(
        self, created: list[Any], ids: list[int], terms: list[Any], events: ChangeEvents
    ) -> CopyData:
        keys = copying.new_keys(len(created))
        rows = []
        for employee_id, key, outcome in zip(ids, keys, created, strict=False):
            values = outcome.values
            assert values is not None  # noqa: S101 - filtered above
            contract, full_time = values["contract_hours"], values["full_time_hours"]
            sealed, index = None, ""
            if values.get("bsn"):
                # Sealed with the row's tenant and key, which bind the ciphertext to the row.
                holder = Employee(tenant_id=self.tenant_id, key=uuid.UUID(key))
                holder.set_bsn(values["bsn"])
                sealed, index = holder.bsn_sealed, holder.bsn_index
            department = values["department"]
            rows.append((
                employee_id, self.tenant_id, key, values["employer"].pk,
                department.pk if department else None, values["personnel_number"],
                values["initials"], values["first_name"], values["surname_prefix"],
                values["surname"], values["birth_date"], values["gender"], values["postcode"],
                values["email"], values["phone"], values["employment_start"],
                values["employment_end"], EmploymentTerms.factor(contract, full_time), False,
                sealed, index, 1,
            ))  # fmt: skip
            terms.append((employee_id, key, values["employment_start"], contract, full_time))
        if len(rows) != len(created):
            raise ValueError("fewer new ids than new employees")
        events.add(
            "employees.employee", Action.CREATE, copying.new_keys(len(keys)),
            [(key, key, None) for key in keys],
        )  # fmt: skip
        return copy_data(Employee, self.EMPLOYEE_FIELDS, rows)

    def _update(
        self, updated: list[Any], terms: list[Any], events: ChangeEvents
    ) -> tuple[CopyData, list[EmploymentTerms]]:
        """The updated employees' rows for the update table, and the terms of today whose
        hours change (an import earlier today made them)."""
        written = WRITTEN
        changed_terms: list[tuple[EmploymentTerms, str]] = []
        rows = []
        changes: list[tuple[str, str, list[str] | None]] = []
        for outcome in updated:
            employee, values = outcome.employee, outcome.values
            assert employee is not None and values is not None  # noqa: S101 - filtered above
            employee_key = str(employee.key)
            contract, full_time = values["contract_hours"], values["full_time_hours"]
            factor_before = employee.part_time_factor
            if outcome.bsn_changed:
                employee.set_bsn(values["bsn"])
            ordered = outcome.terms  # in date order
            if outcome.hours_changed:
                # As save_employee: new hours apply from today (one set of terms per day).
                same_day = [t for t in ordered if t.valid_from == self.today]
                if same_day:
                    same_day[0].contract_hours, same_day[0].full_time_hours = contract, full_time
                    changed_terms.append((same_day[0], employee_key))
                else:
                    terms.append((employee.pk, employee_key, self.today, contract, full_time))
                factor = EmploymentTerms.factor(contract, full_time)
            else:  # the terms of today (or the first, if all start later) keep applying
                current = [t for t in ordered if t.valid_from <= self.today] or ordered[:1]
                factor = current[-1].part_time_factor if current else factor_before
            fields = list(outcome.changed_fields)
            if factor != factor_before:
                fields.append("part_time_factor")
            department = values["department"]
            after = {
                **{name: values[name] for name in written if name in values},
                "employer_id": values["employer"].pk,
                "department_id": department.pk if department else None,
            }
            rows.append((
                employee.pk, *(after[name] for name in written), employee.version + 1, factor,
                employee.bsn_sealed, employee.bsn_index,
            ))  # fmt: skip
            changes.append((employee_key, employee_key, fields))
        events.add("employees.employee", Action.UPDATE, copying.new_keys(len(changes)), changes)
        if changed_terms:
            events.add(
                "employees.employmentterms", Action.UPDATE,
                copying.new_keys(len(changed_terms)),
                [(str(row.key), subject, TERMS_HOURS) for row, subject in changed_terms],
            )  # fmt: skip
        update_rows = CopyData.of(UPDATE_TABLE, _columns(Employee, UPDATE_NAMES), rows)
        return update_rows, [row for row, _subject in changed_terms]

    def _apply_updates(self, update_rows: CopyData) -> None:
        """The changed employees through a temporary table: one COPY, one UPDATE ... FROM."""
        columns = update_rows.columns
        table = Employee._meta.db_table
        with connection.cursor() as cursor:
            if not self.update_table_ready:
                # The column types of the table itself; dropped with the transaction.
                cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {UPDATE_TABLE} ON COMMIT DROP AS "  # noqa: S608 - our own names
                    f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
                )
                self.update_table_ready = True
            cursor.execute(f"TRUNCATE {UPDATE_TABLE}")
        update_rows.send()
        with connection.cursor() as cursor:
            assignments = ", ".join(f"{column} = u.{column}" for column in columns[1:])
            cursor.execute(
                f"UPDATE {table} AS e SET {assignments} FROM {UPDATE_TABLE} AS u "  # noqa: S608 - our own names
                "WHERE e.id = u.id"
            )
