"""Workflows on employees: entering and changing them, ending employment, the BSN, and
assigning case managers to them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from celery import shared_task
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from audit.codes import Action
from audit.events import record_event
from auth2fa.models import User
from domains.models import Department
from domains.permissions import Perm
from domains.services import eligible_case_managers
from domains.visibility import CASE_MANAGER_GRANT, forget_access
from employees.models import Employee, EmploymentTerms
from employees.selectors import employee_access, may_see_bsn

KEEP = object()  # "leave the BSN as it is"


def _refuse_stale(employee: Employee, version: int | None) -> Employee:
    """Lock the stored row; a form that showed an older version (or none) is refused, not
    overwritten."""
    stored = Employee.objects.select_for_update().get(pk=employee.pk)
    if version is None or version != stored.version:
        raise ValidationError(
            _(
                "Someone else changed this employee after you opened the form. Open it again "
                "to see their change; yours has not been saved."
            ),
            code="stale",
        )
    return stored


def _require_in_scope(by: User, employee: Employee) -> None:
    """The one visibility rule decides: an employee the user could not edit afterwards (moved
    out of their employers or department subtree) is refused, and the transaction rolls back."""
    if Perm.EMPLOYEE_EDIT not in employee_access(by, employee):
        raise ValidationError(
            {
                "department": _(
                    "You can only place employees within your own employers and departments."
                )
            },
            code="out_of_scope",
        )


def terms_in_force(employee: Employee, on: date) -> EmploymentTerms | None:
    """The terms valid on a day: the latest that started on or before it (else the first)."""
    terms = list(employee.terms.order_by("valid_from"))
    current = [t for t in terms if t.valid_from <= on]
    return current[-1] if current else (terms[0] if terms else None)


@transaction.atomic
def save_employee(
    *,
    employee: Employee,
    by: User,
    contract_hours: Decimal,
    full_time_hours: Decimal,
    terms_from: date | None = None,
    bsn: Any = KEEP,
    version: int | None = None,
) -> Employee:
    """Create or change an employee (HR with employee.edit, within their scope).

    Hours that differ from the terms in force become new terms from `terms_from` (new
    employees: from their start); the current part-time factor follows. A BSN is taken only
    where the environment allows one. Every change is captured by the audit trail."""
    creating = employee._state.adding
    if creating:
        employee.tenant_id = by.tenant_id
    else:
        stored = _refuse_stale(employee, version)
        if Perm.EMPLOYEE_EDIT not in employee_access(by, stored):
            raise PermissionDenied
        employee.version = stored.version + 1
    if employee.tenant_id != by.tenant_id:
        raise PermissionDenied
    if employee.department_id is not None:
        # Locked, so the department cannot be closed while someone is placed in it.
        department = Department.objects.select_for_update().get(pk=employee.department_id)
        if department.is_closed:
            raise ValidationError({"department": _("This department is closed.")})
    if bsn is not KEEP:
        if bsn and not by.tenant.bsn_allowed:
            raise ValidationError({"bsn": _("This environment records no BSN.")})
        employee.set_bsn(bsn)
    employee.save()
    today = timezone.localdate()
    starts = employee.employment_start if creating else (terms_from or today)
    current = None if creating else terms_in_force(employee, starts)
    if current is None or (current.contract_hours, current.full_time_hours) != (
        contract_hours,
        full_time_hours,
    ):
        EmploymentTerms.objects.update_or_create(
            employee=employee,
            valid_from=starts,
            defaults={
                "tenant_id": employee.tenant_id,
                "contract_hours": contract_hours,
                "full_time_hours": full_time_hours,
            },
        )
    factor = terms_in_force(employee, today)
    if factor is not None and factor.part_time_factor != employee.part_time_factor:
        employee.part_time_factor = factor.part_time_factor
        employee.save(update_fields=["part_time_factor"])
    _require_in_scope(by, employee)
    return employee


@transaction.atomic
def end_employment(*, employee: Employee, by: User, last_day: date, version: int) -> Employee:
    """Record the last day of employment. An open absence case stays open: the employee stays
    sick under the safety-net rules (vangnet), and the case goes on. An account linked to this
    employee record is deactivated by the periodic task (auth2fa deactivate_leavers)."""
    stored = _refuse_stale(employee, version)
    if Perm.EMPLOYEE_EDIT not in employee_access(by, stored):
        raise PermissionDenied
    if last_day < stored.employment_start:
        raise ValidationError(
            {"last_day": _("The last day cannot be before the employment started.")}
        )
    stored.employment_end = last_day
    stored.version += 1
    stored.save(update_fields=["employment_end", "version"])
    return stored


def reveal_bsn(*, employee: Employee, by: User) -> str:
    """The full BSN, for a user who may edit this employee, as an audited action of its own."""
    if not may_see_bsn(by, employee_access(by, employee)):
        raise PermissionDenied
    record_event("employee.bsn_reveal", Action.READ, obj=employee, subject=employee)
    return employee.bsn or ""


@transaction.atomic
def assign_case_manager(*, employee: Employee, case_manager: User, by: User) -> None:
    """Grant a case manager one employee. The granting user needs the assign permission on the
    employee; the case manager must hold an 'only assigned' role in this tenant."""
    if Perm.CASE_ASSIGN not in employee_access(by, employee):
        raise PermissionDenied
    if not eligible_case_managers(by.tenant_id).filter(pk=case_manager.pk).exists():
        raise ValidationError(_("This user is not a case manager."))
    assign_perm(f"employees.{CASE_MANAGER_GRANT}", case_manager, employee)
    forget_access(case_manager)


@transaction.atomic
def unassign_case_manager(*, employee: Employee, case_manager: User, by: User) -> None:
    if Perm.CASE_ASSIGN not in employee_access(by, employee):
        raise PermissionDenied
    remove_perm(f"employees.{CASE_MANAGER_GRANT}", case_manager, employee)
    forget_access(case_manager)


# Hours that change from a future date change the part-time factor on that date: once an hour
# is enough, set-based (the terms, not this column, are the history the figures use).
REFRESH_FACTORS_SQL = """
UPDATE employees_employee e
   SET part_time_factor = t.factor
  FROM (
        SELECT DISTINCT ON (employee_id) employee_id,
               LEAST(1, ROUND(contract_hours / full_time_hours, 3)) AS factor
          FROM employees_employmentterms
         WHERE valid_from <= %s
         ORDER BY employee_id, valid_from DESC
       ) t
 WHERE e.id = t.employee_id AND e.part_time_factor <> t.factor
"""


def refresh_part_time_factors(on: date | None = None) -> int:
    """Bring every employee's current part-time factor in line with the terms in force on a day
    (today); returns how many changed. One statement, whatever the number of employees."""
    with connection.cursor() as cursor:
        cursor.execute(REFRESH_FACTORS_SQL, [on or timezone.localdate()])
        return cursor.rowcount


@shared_task(name="employees.tasks.refresh_part_time_factors")
def refresh_part_time_factors_task() -> int:
    return refresh_part_time_factors()
