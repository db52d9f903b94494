from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.events import record_read
from auth2fa.http import AuthenticatedRequest
from auth2fa.models import User
from domains.access import permission_required
from domains.permissions import Perm
from domains.services import eligible_case_managers
from domains.visibility import access_of
from employees import services
from employees.forms import CaseManagerForm, EmployeeSearchForm
from employees.selectors import (
    assigned_case_managers,
    employees_visible_to,
    visible_employee_with_access,
)

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


@permission_required(Perm.EMPLOYEE_VIEW)
def employee_list(request: AuthenticatedRequest) -> HttpResponse:
    form = EmployeeSearchForm(request.GET or None)
    employees = employees_visible_to(request.user)
    current_sort = "surname"
    if form.is_bound and form.is_valid():
        employees = form.apply(employees)
        current_sort = form.cleaned_data.get("sort") or current_sort
    else:
        employees = employees.order_by("surname", "first_name", "pk")
    page = Paginator(employees, PAGE_SIZE).get_page(request.GET.get("page"))
    searched = form.is_bound and form.is_valid() and form.has_criteria()
    # That a search ran and how many it found; never what was searched for.
    record_read(
        "employee.search" if searched else "employee.list", result_count=page.paginator.count
    )
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
            "searched": searched,
        },
    )


@permission_required(Perm.EMPLOYEE_VIEW)
def employee_detail(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    found = visible_employee_with_access(request.user, key)
    if found is None:
        raise Http404
    employee, may = found
    record_read("employee.view", obj=employee, subject=employee)
    may_assign = Perm.CASE_ASSIGN in may
    case_managers = assigned_case_managers(employee)
    form = None
    if may_assign:
        candidates = eligible_case_managers(request.user.tenant_id).exclude(
            pk__in=[user.pk for user in case_managers]
        )
        form = CaseManagerForm(candidates=candidates)
    cases = None
    if Perm.CASE_VIEW in access_of(request.user).permissions:
        # A case is visible exactly when its employee is, with case.view (cases/selectors.py).
        may_see_cases = Perm.CASE_VIEW in may
        cases = list(employee.absence_cases.order_by("-first_sick_day")) if may_see_cases else []
    may_report_sick = Perm.CASE_REPORT in may and not any(case.is_open for case in cases or [])
    return render(
        request,
        "employees/employee_detail.html",
        {
            "employee": employee,
            "case_managers": case_managers,
            "case_manager_form": form,
            "may_assign": may_assign,
            "cases": cases,
            "may_report_sick": may_report_sick,
        },
    )


@permission_required(Perm.CASE_ASSIGN)
@require_POST
def case_manager_add(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    employee = get_object_or_404(employees_visible_to(request.user, Perm.CASE_ASSIGN), key=key)
    form = CaseManagerForm(request.POST, candidates=eligible_case_managers(request.user.tenant_id))
    if form.is_valid():
        try:
            services.assign_case_manager(
                employee=employee, case_manager=form.cleaned_data["case_manager"], by=request.user
            )
            messages.success(request, gettext("The case manager has been assigned."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, gettext("Choose a case manager."))
    return redirect("employees:detail", key=employee.key)


@permission_required(Perm.CASE_ASSIGN)
@require_POST
def case_manager_remove(request: AuthenticatedRequest, key: UUID, user_key: UUID) -> HttpResponse:
    employee = get_object_or_404(employees_visible_to(request.user, Perm.CASE_ASSIGN), key=key)
    case_manager = get_object_or_404(
        User.objects.filter(tenant_id=request.user.tenant_id), key=user_key
    )
    services.unassign_case_manager(employee=employee, case_manager=case_manager, by=request.user)
    messages.success(request, gettext("The case manager no longer sees this employee."))
    return redirect("employees:detail", key=employee.key)
