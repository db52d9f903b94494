from __future__ import annotations

from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from employees.forms import EmployeeSearchForm
from employees.selectors import employees_visible_to

PAGE_SIZE = 25
SORTABLE_COLUMNS = [
    ("surname", _("Name")),
    ("personnel_number", _("Personnel number")),
    ("birth_date", _("Birth date")),
    ("postcode", _("Postcode")),
    ("employer", _("Employer")),
]


def _sort_columns(current: str, base_query: str) -> list[dict]:
    """Column headers with links that sort ascending, or descending when already ascending."""
    columns = []
    for key, label in SORTABLE_COLUMNS:
        ascending, descending = current == key, current == f"-{key}"
        target = f"-{key}" if ascending else key
        prefix = f"{base_query}&" if base_query else ""
        columns.append(
            {
                "label": label,
                "url": f"?{prefix}sort={target}",
                "aria_sort": "ascending" if ascending else "descending" if descending else "none",
            }
        )
    return columns


def employee_list(request: HttpRequest) -> HttpResponse:
    form = EmployeeSearchForm(request.GET or None)
    employees = employees_visible_to(request.user)
    current_sort = "surname"
    if form.is_bound and form.is_valid():
        employees = form.apply(employees)
        current_sort = form.cleaned_data.get("sort") or current_sort
    else:
        employees = employees.order_by("surname", "first_name", "pk")
    page = Paginator(employees, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "employees/employee_list.html",
        {
            "form": form,
            "page": page,
            "columns": _sort_columns(current_sort, sort_query.urlencode()),
            "query": query.urlencode(),
            "searched": form.is_bound and form.is_valid() and form.has_criteria(),
        },
    )


def employee_detail(request: HttpRequest, key: UUID) -> HttpResponse:
    employee = get_object_or_404(employees_visible_to(request.user), key=key)
    return render(request, "employees/employee_detail.html", {"employee": employee})
