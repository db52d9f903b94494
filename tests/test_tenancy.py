"""Tenant isolation: the scoped manager fails closed, and another tenant's object is a 404."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from django.urls import reverse

from core.tenancy import ScopeError, tenant_scope
from domains.models import Department, Employer, ProviderKind, ServiceContract, ServiceProvider
from employees.models import Employee
from tests.conftest import make_import, verified_login
from tests.urlwalk import all_routes

# Every URL that takes an object's UUID: who would normally use it, and the other tenant's object.
OTHER_TENANT_OBJECTS = {
    "employees:detail": ("hr", lambda w: {"key": w.other_employee.key}),
    "employees:edit": ("hr", lambda w: {"key": w.other_employee.key}),
    "employees:end": ("hr", lambda w: {"key": w.other_employee.key}),
    "employees:reveal_bsn": ("hr", lambda w: {"key": w.other_employee.key}),
    "employees:case_manager_add": ("hr", lambda w: {"key": w.other_employee.key}),
    "employees:case_manager_remove": (
        "hr",
        lambda w: {"key": w.other_employee.key, "user_key": w.outsider.key},
    ),
    "domains:role_edit": ("beheer", lambda w: {"key": w.outsider.role_assignments.get().role.key}),
    "domains:role_compare": (
        "beheer",
        lambda w: {"key": w.outsider.role_assignments.get().role.key},
    ),
    "domains:user_detail": ("beheer", lambda w: {"key": w.outsider.key}),
    "domains:user_assign_role": ("beheer", lambda w: {"key": w.outsider.key}),
    "domains:user_set_big_number": ("beheer", lambda w: {"key": w.outsider.key}),
    "domains:user_set_account_end": ("beheer", lambda w: {"key": w.outsider.key}),
    "domains:user_reset_factors": ("beheer", lambda w: {"key": w.outsider.key}),
    "domains:user_block": ("beheer", lambda w: {"key": w.outsider.key}),
    "domains:user_unblock": ("beheer", lambda w: {"key": w.outsider.key}),
    "domains:assignment_remove": (
        "beheer",
        lambda w: {"key": w.outsider.role_assignments.get().key},
    ),
    "domains:approval_decide": ("beheer", lambda w: {"key": w.outsider.role_assignments.get().key}),
    "domains:account_decide": ("beheer", lambda w: {"key": w.outsider.key}),
    "cases:report_sick": ("hr", lambda w: {"key": w.other_employee.key}),
    "cases:detail": ("hr", lambda w: {"key": w.other_tenant_case.key}),
    "cases:recovery": ("hr", lambda w: {"key": w.other_tenant_case.key}),
    "cases:correct": ("hr", lambda w: {"key": w.other_tenant_case.key}),
    "cases:milestone_done": (
        "hr",
        lambda w: {
            "key": w.other_tenant_case.key,
            "milestone_key": w.other_tenant_case.milestones.first().key,
        },
    ),
    "cases:add_note": ("hr", lambda w: {"key": w.other_tenant_case.key}),
    "cases:add_document": ("hr", lambda w: {"key": w.other_tenant_case.key}),
    "cases:document": (
        "hr",
        lambda w: {
            "key": w.other_tenant_case.key,
            "document_key": w.other_tenant_case.documents.get().key,
        },
    ),
    "imports:preview": ("hr", lambda w: {"key": make_import(w.outsider).key}),
    "imports:progress": ("hr", lambda w: {"key": make_import(w.outsider).key}),
    "imports:refused_report": ("hr", lambda w: {"key": make_import(w.outsider).key}),
    "cases:medical": ("bedrijfsarts", lambda w: {"key": w.other_tenant_case.key}),
    "cases:add_medical_document": ("bedrijfsarts", lambda w: {"key": w.other_tenant_case.key}),
    "cases:medical_document": (
        "bedrijfsarts",
        lambda w: {
            "key": w.other_tenant_case.key,
            "document_key": w.other_tenant_case.medical_documents.get().key,
        },
    ),
}


def _other_department(w):
    department, _created = Department.objects.get_or_create(
        tenant=w.other_tenant, employer=w.other_employer, name="Elders"
    )
    return {"key": department.key}


def _other_contract(w):
    provider, _created = ServiceProvider.objects.get_or_create(
        tenant=w.other_tenant, name="Arbo Elders", kind=ProviderKind.ARBODIENST
    )
    contract, _created = ServiceContract.objects.get_or_create(
        tenant=w.other_tenant,
        provider=provider,
        employer=w.other_employer,
        starts_on=date(2020, 1, 1),
    )
    return {"key": contract.key}


OTHER_TENANT_OBJECTS.update(
    {
        "domains:role_remove": (
            "beheer",
            lambda w: {"key": w.outsider.role_assignments.get().role.key},
        ),
        "domains:role_archive": (
            "beheer",
            lambda w: {"key": w.outsider.role_assignments.get().role.key},
        ),
        "domains:employer_edit": ("beheer", lambda w: {"key": w.other_employer.key}),
        "domains:department_list": ("beheer", lambda w: {"key": w.other_employer.key}),
        "domains:department_add": ("beheer", lambda w: {"key": w.other_employer.key}),
        "domains:department_detail": ("beheer", _other_department),
        "domains:department_rename": ("beheer", _other_department),
        "domains:department_move": ("beheer", _other_department),
        "domains:department_close": ("beheer", _other_department),
        "domains:contract_edit": ("beheer", _other_contract),
        "domains:contract_end": ("beheer", _other_contract),
    }
)


def _other_hold(w):
    from retention.models import LegalHold

    hold = LegalHold.objects.create(
        tenant=w.other_tenant, employee=w.other_employee, reason="labour_conflict",
        ends_on=date(2099, 1, 1), placed_by=w.outsider,
    )  # fmt: skip
    return {"key": hold.key}


def _other_deletion(w):
    from retention.models import DeletionRequest

    request = DeletionRequest.objects.create(
        tenant=w.other_tenant, requested_by=w.outsider, status="awaiting", categories=["absence"]
    )
    return {"key": request.key}


OTHER_TENANT_OBJECTS.update(
    {
        "retention:holds": ("hr", lambda w: {"key": w.other_employee.key}),
        "retention:hold_lift": ("hr", _other_hold),
        "retention:employee": ("hr", lambda w: {"key": w.other_employee.key}),
        "retention:deletion": ("hr", _other_deletion),
        "retention:deletion_decide": ("hr", _other_deletion),
        "retention:deletion_progress": ("hr", _other_deletion),
        "retention:deletion_report": ("hr", _other_deletion),
    }
)
OTHER_TENANT_OBJECTS.update(
    {
        "audit:export_detail": ("auditor", lambda w: {"key": w.other_export.key}),
        "audit:export_decide": ("auditor", lambda w: {"key": w.other_export.key}),
        "audit:export_download": (
            "auditor",
            lambda w: {"key": w.other_export.key, "extension": "csv"},
        ),
    }
)
READ_ONLY = {
    "retention:employee", "retention:deletion", "retention:deletion_progress",
    "retention:deletion_report",
    "audit:export_detail", "audit:export_download",
    "employees:detail", "employees:edit", "employees:end", "domains:role_edit",
    "domains:role_compare", "domains:user_detail",
    "cases:report_sick", "cases:detail", "cases:correct", "cases:document", "cases:medical",
    "cases:medical_document", "domains:department_list", "domains:department_detail",
}  # fmt: skip


def run_without_scope(query):
    """Context variables do not cross into a new thread: it starts with no scope at all."""
    outcome = {}

    def target():
        try:
            outcome["value"] = query()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return outcome


@pytest.mark.parametrize("model", [Employee, Employer, Department])
def test_a_tenant_owned_model_refuses_to_query_without_a_scope(model):
    outcome = run_without_scope(lambda: model.objects.count())
    assert isinstance(outcome.get("error"), ScopeError)


def test_a_scope_limits_queries_to_its_tenant(world):
    own = {world.employee, world.healthy, world.sick_unassigned, world.sick_at_b}
    with tenant_scope(world.tenant):
        assert set(Employee.objects.all()) == own
    with tenant_scope(world.other_tenant):
        assert set(Employee.objects.all()) == {world.other_employee}


def test_every_object_url_is_covered_by_the_other_tenant_test():
    with_uuid = {r.name for r in all_routes() if any(k in r.converters for k in ("key", "uuid"))}
    assert with_uuid == set(OTHER_TENANT_OBJECTS), "add the new URL to OTHER_TENANT_OBJECTS"


@pytest.mark.parametrize("url_name", sorted(OTHER_TENANT_OBJECTS))
def test_another_tenants_object_answers_404_like_a_missing_one(client, world, url_name):
    persona, other_kwargs = OTHER_TENANT_OBJECTS[url_name]
    verified_login(client, getattr(world, persona))
    kwargs = other_kwargs(world)
    method = client.get if url_name in READ_ONLY else client.post
    other = method(reverse(url_name, kwargs=kwargs))
    missing = method(reverse(url_name, kwargs={name: uuid.uuid4() for name in kwargs}))
    assert other.status_code == missing.status_code == 404
    assert b"Buitenstaander" not in other.content


def test_the_outsider_sees_only_their_own_tenant(client, world):
    verified_login(client, world.outsider)
    page = client.get(reverse("employees:list")).content.decode()
    assert "Buitenstaander" in page
    assert "Jansen" not in page
    assert (
        client.get(reverse("employees:detail", kwargs={"key": world.employee.key})).status_code
        == 404
    )


def test_department_paths_describe_the_tree(world):
    child = world.inpak
    grandchild = Department.objects.create(
        tenant=world.tenant, employer=world.employer, parent=child, name="Nacht"
    )
    assert grandchild.path == f"/{world.department.pk}/{child.pk}/{grandchild.pk}/"
    subtree = Department.objects.filter(path__startswith=world.department.path)
    assert set(subtree) == {world.department, child, grandchild}
    assert grandchild.depth == 2
