"""Workflows on employees: assigning case managers to them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from auth2fa.models import User
from domains.permissions import Perm
from domains.services import eligible_case_managers
from domains.visibility import CASE_MANAGER_GRANT, forget_access
from employees.models import Employee
from employees.selectors import employee_access


@transaction.atomic
def assign_case_manager(*, employee: Employee, case_manager: User, by: User) -> None:
    """Grant a case manager one employee. The granting user needs the assign permission on the
    employee; the case manager must hold an 'only assigned' role in this tenant."""
    if Perm.CASE_ASSIGN not in employee_access(by, employee):
        raise PermissionDenied
    if case_manager not in eligible_case_managers(by.tenant_id):
        raise ValidationError(_("This user is not a case manager."))
    assign_perm(f"employees.{CASE_MANAGER_GRANT}", case_manager, employee)
    forget_access(case_manager)


@transaction.atomic
def unassign_case_manager(*, employee: Employee, case_manager: User, by: User) -> None:
    if Perm.CASE_ASSIGN not in employee_access(by, employee):
        raise PermissionDenied
    remove_perm(f"employees.{CASE_MANAGER_GRANT}", case_manager, employee)
    forget_access(case_manager)
