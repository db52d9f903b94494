"""Employee pages: the list and search, details, master data, end of employment, the BSN reveal,
exports, and case-manager assignments. Every employee comes through the scoped selectors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from audit.codes import Action
from audit.events import record_event, record_read
from auth2fa.http import AuthenticatedRequest
from auth2fa.models import User
from core.exports import table_response
from core.forms import show_errors
from core.paging import CountingPaginator
from domains.access import permission_required
from domains.permissions import Perm
from domains.services import eligible_case_managers
from domains.visibility import access_of
from employees import exports, searches, services
from employees.forms import (
    CaseManagerForm,
    EmployeeForm,
    EmployeeSearchForm,
    EndEmploymentForm,
    apply_search,
    has_criteria,
    sort_order,
)
from employees.models import Employee
from employees.selectors import (
    assigned_case_managers,
    bsn_exportable_ids,
    employee_access,
    employees_visible_to,
    may_see_bsn,
    placement_choices,
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


def _search_display(criteria: dict[str, Any] | None) -> dict[str, Any]:
    """A kept search shown again in the search form (the BSN is kept only as its index)."""
    if not criteria:
        return {}
    shown = ("surname", "personnel_number", "birth_date", "postcode", "former")
    return {name: criteria[name] for name in shown if criteria.get(name)}


@permission_required(Perm.EMPLOYEE_VIEW)
def employee_list(request: AuthenticatedRequest) -> HttpResponse:
    """The list with its search. A search is posted and kept on the server (employees/searches.py);
    the list then shows it at `?q=<id>`, so no search term ever reaches a URL, the access log or
    a Referer. Sort and page stay in the URL: they say nothing about anyone."""
    tenant = request.user.tenant
    sort_given = request.GET.get("sort") in EmployeeSearchForm.SORTS
    sort = request.GET["sort"] if sort_given else "surname"
    criteria: dict[str, Any] | None = None
    search_id = ""
    if request.method == "POST":
        form = EmployeeSearchForm(request.POST, tenant=tenant)
        if form.is_valid():
            target = {"q": searches.remember(request, form.criteria())}
            if form.cleaned_data.get("sort"):
                target["sort"] = form.cleaned_data["sort"]
            return redirect(f"{reverse('employees:list')}?{urlencode(target)}")
    else:
        search_id = request.GET.get("q", "")
        if search_id:
            criteria = searches.recall(request, search_id)
            if criteria is None:
                search_id = ""
                messages.warning(
                    request, gettext("This search has expired or is unknown. Search again.")
                )
        form = EmployeeSearchForm(
            initial={**_search_display(criteria), "sort": sort}, tenant=tenant
        )
    employees = employees_visible_to(request.user)
    if not (criteria and criteria.get("former")):
        today = timezone.localdate()
        employees = employees.filter(Q(employment_end__isnull=True) | Q(employment_end__gte=today))
    if criteria:
        employees = apply_search(employees, criteria)
    employees = employees.order_by(*sort_order(sort))
    page = CountingPaginator(employees, PAGE_SIZE).get_page(request.GET.get("page"))
    searched = criteria is not None and has_criteria(criteria)
    # That a search ran and how many it found; never what was searched for.
    record_read(
        "employee.search" if searched else "employee.list", result_count=page.paginator.count
    )
    search_query = urlencode({"q": search_id}) if search_id else ""
    query = urlencode(
        {**({"q": search_id} if search_id else {}), **({"sort": sort} if sort_given else {})}
    )
    return render(
        request,
        "employees/employee_list.html",
        {
            "form": form,
            "page": page,
            "columns": _sort_columns(sort, search_query),
            "query": query,
            "searched": searched,
            "may_add": Perm.EMPLOYEE_EDIT in access_of(request.user).permissions,
            "may_export": Perm.EMPLOYEE_EXPORT in access_of(request.user).permissions,
            "may_import": Perm.EMPLOYEE_IMPORT in access_of(request.user).permissions,
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
            "may_edit": Perm.EMPLOYEE_EDIT in may,
            "show_bsn": may_see_bsn(request.user, may),
            "terms": employee.terms.order_by("-valid_from"),
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


def _employee_form(request: AuthenticatedRequest, **kwargs: Any) -> EmployeeForm:
    employers, departments = placement_choices(request.user)
    return EmployeeForm(
        request.POST or None,
        employers=employers,
        departments=departments,
        bsn_allowed=request.user.tenant.bsn_allowed,
        **kwargs,
    )


def _save(request: AuthenticatedRequest, form: EmployeeForm) -> Employee | None:
    """Hand a valid form to the service; its refusal lands on the form (nothing is saved)."""
    data = form.cleaned_data
    bsn: Any = services.KEEP
    if "bsn" in form.fields and (data.get("bsn") or data.get("remove_bsn")):
        bsn = None if data.get("remove_bsn") else data["bsn"]
    try:
        return services.save_employee(
            employee=form.instance,
            by=request.user,
            contract_hours=data["contract_hours"],
            full_time_hours=data["full_time_hours"],
            terms_from=data.get("terms_from"),
            bsn=bsn,
            version=data.get("version"),
        )
    except ValidationError as error:
        show_errors(request, error, form)
        return None


@permission_required(Perm.EMPLOYEE_EDIT)
def employee_create(request: AuthenticatedRequest) -> HttpResponse:
    form = _employee_form(request, initial={"full_time_hours": Decimal("40")})
    if request.method == "POST" and form.is_valid():
        employee = _save(request, form)
        if employee is not None:
            messages.success(request, gettext("The employee has been added."))
            return redirect("employees:detail", key=employee.key)
    return render(request, "employees/employee_form.html", {"form": form, "employee": None})


def _editable(request: AuthenticatedRequest, key: UUID) -> Employee:
    return get_object_or_404(employees_visible_to(request.user, Perm.EMPLOYEE_EDIT), key=key)


@permission_required(Perm.EMPLOYEE_EDIT)
def employee_edit(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    employee = _editable(request, key)
    record_read("employee.view", obj=employee, subject=employee)
    current = services.terms_in_force(employee, timezone.localdate())
    form = _employee_form(
        request,
        instance=employee,
        initial={
            "contract_hours": current.contract_hours if current else None,
            "full_time_hours": current.full_time_hours if current else Decimal("40"),
        },
    )
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form)
        if saved is not None:
            messages.success(request, gettext("The changes have been saved."))
            return redirect("employees:detail", key=saved.key)
    return render(request, "employees/employee_form.html", {"form": form, "employee": employee})


@permission_required(Perm.EMPLOYEE_EDIT)
def employee_end(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """End employment: a confirmation page that says what happens to an open case."""
    employee = _editable(request, key)
    record_read("employee.view", obj=employee, subject=employee)
    form = EndEmploymentForm(
        request.POST or None,
        initial={"last_day": timezone.localdate(), "version": employee.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.end_employment(employee=employee, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(request, error, form)
        else:
            messages.success(request, gettext("The end of employment has been recorded."))
            return redirect("employees:detail", key=employee.key)
    # Whether someone is sick is only for users who may see cases.
    open_case = (
        Perm.CASE_VIEW in employee_access(request.user, employee)
        and employee.absence_cases.filter(recovered_on__isnull=True).exists()
    )
    return render(
        request,
        "employees/employee_end.html",
        {"form": form, "employee": employee, "open_case": open_case},
    )


@permission_required(Perm.EMPLOYEE_EDIT)
@require_POST
def employee_reveal_bsn(request: AuthenticatedRequest, key: UUID) -> HttpResponse:
    """Show the full BSN once, as an explicit and audited action (the page shows it masked)."""
    employee = _editable(request, key)
    bsn = services.reveal_bsn(employee=employee, by=request.user)
    response = render(request, "employees/bsn_reveal.html", {"employee": employee, "bsn": bsn})
    response["Cache-Control"] = "no-store"
    return response


def _export(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    employees = employees_visible_to(request.user, Perm.EMPLOYEE_EXPORT).order_by(
        "employer__name", "surname", "pk"
    )
    bsn_for = bsn_exportable_ids(request.user)
    with_bsn = bool(bsn_for)
    header = exports.columns(with_bsn=with_bsn)
    rows = list(
        exports.rows(
            employees,
            tenant_id=request.user.tenant_id,
            with_bsn=with_bsn,
            dates_as_text=kind == "csv",
            bsn_for=bsn_for,
        )
    )
    record_event("employee.export", Action.READ, result_count=len(rows))
    if with_bsn:  # whole BSNs leaving the system: an event of their own, with how many
        bsns = sum(1 for row in rows if row[-1])
        record_event("employee.export_bsn", Action.READ, result_count=bsns)
    name = f"werknemers-{timezone.localdate():%Y%m%d}"
    return table_response(kind, name, header, rows, sheet_title=gettext("Employees"))


@permission_required(Perm.EMPLOYEE_EXPORT)
def employee_export_csv(request: AuthenticatedRequest) -> HttpResponse:
    return _export(request, "csv")


@permission_required(Perm.EMPLOYEE_EXPORT)
def employee_export_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    return _export(request, "xlsx")
