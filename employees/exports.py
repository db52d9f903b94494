"""The employee export: the columns the import reads, so an export is the import template.

Column 1 is our unique key (the UI-id), column 2 the action for a re-import ("update"); the
BSN column exists only where the environment allows a BSN.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from domains.models import Department
from employees.models import Employee, EmploymentTerms, Gender


def columns(*, with_bsn: bool) -> list[str]:
    headers = [
        _("Unique key"), _("Action"), _("Personnel number"), _("Initials"), _("First name"),
        _("Surname prefix"), _("Surname"), _("Birth date"), _("Gender"), _("Postcode"),
        _("E-mail address"), _("Phone number"), _("Employer"), _("Department"),
        _("Employment start"), _("Employment end"), _("Contract hours per week"),
        _("Full-time hours per week"),
    ]  # fmt: skip
    return [*headers, _("BSN")] if with_bsn else headers


def department_paths(tenant_id: int) -> dict[int, str]:
    """Every department of the tenant as "Productie/Inpak" (names from the root down)."""
    departments = list(Department.objects.filter(tenant_id=tenant_id).values("pk", "name", "path"))
    names = {row["pk"]: row["name"] for row in departments}
    return {
        row["pk"]: "/".join(names.get(int(pk), "") for pk in row["path"].strip("/").split("/"))
        for row in departments
    }


def _terms_today(employee: Employee, today: date) -> EmploymentTerms | None:
    current = [t for t in employee.terms.all() if t.valid_from <= today]
    return current[-1] if current else None


def rows(
    employees: QuerySet[Employee],
    *,
    tenant_id: int,
    with_bsn: bool,
    dates_as_text: bool,
    bsn_for: set[int] | None = None,
) -> Iterator[list[Any]]:
    """One row per employee, in the order of `columns`; the queries grow with the rows only by
    one per 2,000 (terms come prefetched per chunk, departments from one lookup)."""
    paths = department_paths(tenant_id)
    today = timezone.localdate()
    genders = dict(Gender.choices)

    def day(value: date | None) -> Any:
        if value is None:
            return ""
        return value.strftime("%d-%m-%Y") if dates_as_text else value

    def hours(value: Decimal | None) -> Any:
        if value is None:
            return ""
        return f"{value.normalize():f}".replace(".", ",") if dates_as_text else value

    terms = Prefetch("terms", queryset=EmploymentTerms.objects.order_by("valid_from"))
    # In chunks (each with its terms prefetched): 100,000 employees held at once, with their
    # prefetch caches, took over 500 MB.
    chunks = employees.select_related("employer").prefetch_related(terms).iterator(chunk_size=2000)
    for employee in chunks:
        current = _terms_today(employee, today)
        row = [
            str(employee.key), _("update"), employee.personnel_number, employee.initials,
            employee.first_name, employee.surname_prefix, employee.surname,
            day(employee.birth_date), str(genders.get(employee.gender, "")), employee.postcode,
            employee.email, employee.phone, employee.employer.name,
            paths.get(employee.department_id or 0, ""), day(employee.employment_start),
            day(employee.employment_end), hours(current.contract_hours if current else None),
            hours(current.full_time_hours if current else None),
        ]  # fmt: skip
        if with_bsn:
            # Only for the employees the exporting user may see a BSN of (selectors.may_see_bsn).
            shown = bsn_for is not None and employee.pk in bsn_for
            row.append((employee.bsn or "") if shown else "")
        yield row
