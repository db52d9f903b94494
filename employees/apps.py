"""The employees app: employees keyed by our own unique key, and case-manager grants."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmployeesConfig(AppConfig):
    name = "employees"
    verbose_name = _("Employees")

    def ready(self) -> None:
        from audit.capture import track
        from employees.models import Employee, EmployeeUserObjectPermission, EmploymentTerms

        # has_absence_case is the database's own fact (a trigger), never a change by someone.
        track(Employee, exclude=("has_absence_case", "bsn_index", "version"))
        track(EmploymentTerms)
        track(EmployeeUserObjectPermission)
