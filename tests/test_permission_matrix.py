"""Every URL pattern × every persona × (own scope, other scope, other tenant) → expected answer.

A URL added without an entry here fails `test_every_route_has_an_entry`. The objects:
- "own": in the persona's scope where it has one — the sick employee Jansen (department Productie,
  insured, assigned to the case manager), or for admin URLs a role/user/assignment of tenant A;
- "other": the healthy employee in Kantoor (only the employer's HR may see healthy employees);
- "tenant": the other tenant's object (for the outsider, who belongs there, it is their own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from django.urls import reverse

from domains.models import Department, ProviderKind, ServiceContract, ServiceProvider
from tests.conftest import make_import, verified_login
from tests.urlwalk import all_routes

PERSONAS = [
    "hr",
    "manager",
    "casemanager",
    "bedrijfsarts",
    "verzekeraar",
    "beheer",
    "auditor",
    "outsider",
]
SCOPES = ["own", "other", "tenant"]


@dataclass
class Entry:
    method: str = "get"
    kwargs: object = None  # callable(world, scope) -> URL kwargs, for URLs that take objects
    expect: dict = field(default_factory=dict)  # persona -> code, or {scope: code}

    def code(self, persona: str, scope: str) -> int:
        value = self.expect[persona]
        return value[scope] if isinstance(value, dict) else value


def everyone(code: int) -> dict:
    return dict.fromkeys(PERSONAS, code)


def only_admins(ok: int, others: int = 403) -> dict:
    return {**everyone(others), "beheer": ok}


def employee(world, scope):
    return {"own": world.employee, "other": world.healthy, "tenant": world.other_employee}[scope]


def case_of(world, scope):
    """Own: Jansen's case (every domain user of tenant A may see it). Other: the unassigned sick
    employee in Kantoor (not the manager's department, not assigned to the case manager)."""
    return {"own": world.case, "other": world.other_case, "tenant": world.other_tenant_case}[scope]


def case_kwargs(world, scope):
    return {"key": case_of(world, scope).key}


def scoped(**codes):
    """A rule per persona from short codes, hr=(own, other, tenant); the others get 403."""
    expect = everyone(403)
    for persona, (own, other, tenant) in codes.items():
        expect[persona] = {"own": own, "other": other, "tenant": tenant}
    return expect


def import_kwargs(world, scope):
    """Own: one HR uploaded; other: another user's of the same tenant; tenant: the outsider's."""
    owner = {"own": world.hr, "other": world.manager, "tenant": world.outsider}[scope]
    return {"key": make_import(owner).key}


def admin_object(getter):
    def kwargs(world, scope):
        return {"key": getter(world, "outsider" if scope == "tenant" else "hr")}

    return kwargs


def role_of(world, who):
    return getattr(world, who).role_assignments.get().role.key


def assignment_of(world, who):
    return getattr(world, who).role_assignments.get().key


def user_of(world, who):
    return getattr(world, who).key


def employer_of(world, who):
    return (world.other_employer if who == "outsider" else world.employer).key


def department_of(world, who):
    """Productie (with current employees: closing it is refused), or one in the other tenant."""
    if who != "outsider":
        return world.department.key
    department, _created = Department.objects.get_or_create(
        tenant=world.other_tenant, employer=world.other_employer, name="Elders"
    )
    return department.key


def contract_of(world, who):
    if who != "outsider":
        return world.employer.contracts.first().key
    provider, _created = ServiceProvider.objects.get_or_create(
        tenant=world.other_tenant, name="Arbo Elders", kind=ProviderKind.ARBODIENST
    )
    contract, _created = ServiceContract.objects.get_or_create(
        tenant=world.other_tenant,
        provider=provider,
        employer=world.other_employer,
        starts_on=date(2020, 1, 1),
    )
    return contract.key


def hold_of(world, scope):
    """A legal hold on the scope's employee (placed by someone of that employee's tenant)."""
    from retention.models import LegalHold

    person = employee(world, scope)
    hold, _created = LegalHold.objects.get_or_create(
        tenant=person.tenant, employee=person, reason="labour_conflict",
        ends_on=date(2099, 1, 1),
        placed_by=world.outsider if scope == "tenant" else world.hr,
    )  # fmt: skip
    return {"key": hold.key}


def deletion_of(world, scope):
    """Own: HR's request; other: the company doctor's (medical file); tenant: the outsider's."""
    from retention.models import DeletionRequest

    by, categories = {
        "own": (world.hr, ["absence"]),
        "other": (world.bedrijfsarts, ["medical"]),
        "tenant": (world.outsider, ["absence"]),
    }[scope]
    request = DeletionRequest.objects.create(
        tenant=by.tenant, requested_by=by, status="done", categories=categories
    )
    return {"key": request.key}


SEEN = {"own": 200, "other": 404, "tenant": 404}  # a domain user who may see only the sick Jansen
NOT_AN_ADMIN_OBJECT = {"own": 403, "other": 403, "tenant": 403}
ADMIN_GET = {"own": 200, "other": 200, "tenant": 404}
ADMIN_POST = {"own": 302, "other": 302, "tenant": 404}

MATRIX = {
    "dashboard": Entry(expect=everyone(200)),
    "health": Entry(expect=everyone(200)),
    "set_language": Entry(method="post", expect=everyone(302)),
    "auth2fa:login": Entry(expect=everyone(200)),
    "auth2fa:logout": Entry(method="post", expect=everyone(302)),
    "auth2fa:password_reset": Entry(expect=everyone(200)),
    "auth2fa:password_reset_done": Entry(expect=everyone(200)),
    "auth2fa:password_reset_confirm": Entry(
        kwargs=lambda world, scope: {"uidb64": "x", "token": "x"}, expect=everyone(200)
    ),
    "auth2fa:password_reset_complete": Entry(expect=everyone(200)),
    "auth2fa:enrol": Entry(expect=everyone(200)),
    "auth2fa:enrol_totp": Entry(expect=everyone(200)),
    "auth2fa:enrol_sms": Entry(expect=everyone(200)),
    "auth2fa:enrol_key": Entry(expect=everyone(200)),
    "auth2fa:recovery_code": Entry(expect=everyone(200)),
    "auth2fa:verify": Entry(expect=everyone(302)),  # already verified: back to the page
    "auth2fa:recover": Entry(expect=everyone(302)),
    "employees:list": Entry(expect={**everyone(200), "beheer": 403, "auditor": 403}),
    "employees:detail": Entry(
        kwargs=lambda world, scope: {"key": employee(world, scope).key},
        expect={
            "hr": {"own": 200, "other": 200, "tenant": 404},
            "manager": SEEN,
            "casemanager": SEEN,
            "bedrijfsarts": SEEN,
            "verzekeraar": SEEN,
            "beheer": NOT_AN_ADMIN_OBJECT,
            "auditor": NOT_AN_ADMIN_OBJECT,
            "outsider": {"own": 404, "other": 404, "tenant": 200},
        },
    ),
    # Master data: HR (employee.edit, employee.export) in their own tenant only.
    "employees:create": Entry(expect={**everyone(403), "hr": 200, "outsider": 200}),
    "employees:export_csv": Entry(expect={**everyone(403), "hr": 200, "outsider": 200}),
    "employees:export_xlsx": Entry(expect={**everyone(403), "hr": 200, "outsider": 200}),
    # Imports: HR (employee.import); an import is seen only by the person who uploaded it.
    "imports:upload": Entry(expect={**everyone(403), "hr": 200, "outsider": 200}),
    "imports:template_csv": Entry(expect={**everyone(403), "hr": 200, "outsider": 200}),
    "imports:template_xlsx": Entry(expect={**everyone(403), "hr": 200, "outsider": 200}),
    "imports:preview": Entry(
        kwargs=lambda world, scope: import_kwargs(world, scope),
        expect=scoped(hr=(200, 404, 404), outsider=(404, 404, 200)),
    ),
    "imports:history": Entry(expect={**everyone(403), "hr": 200, "outsider": 200}),
    "imports:progress": Entry(
        kwargs=lambda world, scope: import_kwargs(world, scope),
        expect=scoped(hr=(200, 404, 404), outsider=(404, 404, 200)),
    ),
    "imports:refused_report": Entry(
        kwargs=lambda world, scope: import_kwargs(world, scope),
        expect=scoped(hr=(200, 404, 404), outsider=(404, 404, 200)),
    ),
    "employees:edit": Entry(
        kwargs=lambda world, scope: {"key": employee(world, scope).key},
        expect={
            **everyone(403),
            "hr": {"own": 200, "other": 200, "tenant": 404},
            "outsider": {"own": 404, "other": 404, "tenant": 200},
        },
    ),
    "employees:end": Entry(
        kwargs=lambda world, scope: {"key": employee(world, scope).key},
        expect={
            **everyone(403),
            "hr": {"own": 200, "other": 200, "tenant": 404},
            "outsider": {"own": 404, "other": 404, "tenant": 200},
        },
    ),
    # Tenant A allows a BSN, the outsider's tenant does not: there revealing one is refused.
    "employees:reveal_bsn": Entry(
        method="post",
        kwargs=lambda world, scope: {"key": employee(world, scope).key},
        expect={
            **everyone(403),
            "hr": {"own": 200, "other": 200, "tenant": 404},
            "outsider": {"own": 404, "other": 404, "tenant": 403},
        },
    ),
    "employees:case_manager_add": Entry(
        method="post",
        kwargs=lambda world, scope: {"key": employee(world, scope).key},
        expect={
            **everyone(403),
            "hr": {"own": 302, "other": 302, "tenant": 404},
            "outsider": {"own": 404, "other": 404, "tenant": 302},
        },
    ),
    "employees:case_manager_remove": Entry(
        method="post",
        kwargs=lambda world, scope: {
            "key": employee(world, scope).key,
            "user_key": world.casemanager.key,
        },
        expect={
            **everyone(403),
            "hr": {"own": 302, "other": 302, "tenant": 404},
            "outsider": {"own": 404, "other": 404, "tenant": 404},  # the case manager is not theirs
        },
    ),
    "auth2fa:step_up": Entry(expect=everyone(200)),
    "auth2fa:password_change": Entry(expect=everyone(200)),
    "auth2fa:account": Entry(expect=everyone(200)),
    "auth2fa:account_change": Entry(method="post", expect=everyone(302)),
    "cases:list": Entry(expect={**everyone(200), "beheer": 403, "auditor": 403}),
    "cases:worklist": Entry(expect={**everyone(200), "beheer": 403, "auditor": 403}),
    "cases:report_sick": Entry(
        kwargs=lambda world, scope: {"key": employee(world, scope).key},
        expect=scoped(
            hr=(200, 200, 404),
            manager=(200, 404, 404),
            casemanager=(200, 404, 404),
            outsider=(404, 404, 200),
        ),
    ),
    "cases:detail": Entry(
        kwargs=case_kwargs,
        expect=scoped(
            hr=(200, 200, 404),
            manager=(200, 404, 404),
            casemanager=(200, 404, 404),
            bedrijfsarts=(200, 200, 404),
            verzekeraar=(200, 200, 404),
            outsider=(404, 404, 200),
        ),  # fmt: skip
    ),
    "cases:recovery": Entry(
        method="post",
        kwargs=case_kwargs,
        expect=scoped(
            hr=(400, 400, 404),
            manager=(400, 404, 404),
            casemanager=(400, 404, 404),
            outsider=(404, 404, 400),
        ),
    ),
    "cases:correct": Entry(
        kwargs=case_kwargs,
        expect=scoped(
            hr=(200, 200, 404),
            casemanager=(200, 404, 404),
            bedrijfsarts=(200, 200, 404),
            outsider=(404, 404, 200),
        ),
    ),
    "cases:milestone_done": Entry(
        method="post",
        kwargs=lambda world, scope: {
            "key": case_of(world, scope).key,
            "milestone_key": case_of(world, scope).milestones.first().key,
        },
        expect=scoped(
            hr=(302, 302, 404),
            casemanager=(302, 404, 404),
            bedrijfsarts=(302, 302, 404),
            outsider=(404, 404, 302),
        ),
    ),
    "cases:add_note": Entry(
        method="post",
        kwargs=case_kwargs,
        expect=scoped(
            hr=(400, 400, 404),
            manager=(400, 404, 404),
            casemanager=(400, 404, 404),
            bedrijfsarts=(400, 400, 404),
            outsider=(404, 404, 400),
        ),  # fmt: skip
    ),
    "cases:add_document": Entry(
        method="post",
        kwargs=case_kwargs,
        expect=scoped(
            hr=(400, 400, 404),
            manager=(400, 404, 404),
            casemanager=(400, 404, 404),
            bedrijfsarts=(400, 400, 404),
            outsider=(404, 404, 400),
        ),  # fmt: skip
    ),
    "cases:document": Entry(
        kwargs=lambda world, scope: {
            "key": case_of(world, scope).key,
            "document_key": case_of(world, scope).documents.get().key,
        },
        expect=scoped(
            hr=(200, 200, 404),
            manager=(200, 404, 404),
            casemanager=(200, 404, 404),
            bedrijfsarts=(200, 200, 404),
            outsider=(404, 404, 200),
        ),  # fmt: skip
    ),
    # The medical file: the company doctor only; every other persona lacks the permission (403).
    "cases:medical": Entry(kwargs=case_kwargs, expect=scoped(bedrijfsarts=(200, 200, 404))),
    "cases:add_medical_document": Entry(
        method="post", kwargs=case_kwargs, expect=scoped(bedrijfsarts=(302, 302, 404))
    ),
    "cases:medical_document": Entry(
        kwargs=lambda world, scope: {
            "key": case_of(world, scope).key,
            "document_key": case_of(world, scope).medical_documents.get().key,
        },
        expect=scoped(bedrijfsarts=(200, 200, 404)),
    ),
    # Audit exports: auditors request, auditors and functional admins decide; nobody else.
    "audit:export_list": Entry(expect={**everyone(403), "auditor": 200, "beheer": 200}),
    "audit:export_detail": Entry(
        kwargs=lambda world, scope: {
            "key": (world.other_export if scope == "tenant" else world.export).key
        },
        expect={**everyone(403), "auditor": ADMIN_GET, "beheer": ADMIN_GET},
    ),
    "audit:export_decide": Entry(
        method="post",
        kwargs=lambda world, scope: {
            "key": (world.other_export if scope == "tenant" else world.export).key
        },
        expect={**everyone(403), "auditor": ADMIN_POST, "beheer": ADMIN_POST},
    ),
    "audit:export_download": Entry(
        kwargs=lambda world, scope: {
            "key": (world.other_export if scope == "tenant" else world.export).key,
            "extension": "csv",
        },
        # Only the requesting auditor, and only once it is built (this one awaits approval: 410).
        expect={
            **everyone(403),
            "auditor": {"own": 410, "other": 410, "tenant": 404},
            "beheer": {"own": 403, "other": 403, "tenant": 404},
        },
    ),  # fmt: skip
    "domains:role_list": Entry(expect=only_admins(200)),
    "domains:role_create": Entry(expect=only_admins(200)),
    "domains:role_edit": Entry(kwargs=admin_object(role_of), expect=only_admins(ADMIN_GET)),
    "domains:role_compare": Entry(kwargs=admin_object(role_of), expect=only_admins(ADMIN_GET)),
    # Confirmation pages (GET); the action is the same URL's POST (tests/test_organisation.py).
    "domains:role_remove": Entry(kwargs=admin_object(role_of), expect=only_admins(ADMIN_GET)),
    "domains:role_archive": Entry(kwargs=admin_object(role_of), expect=only_admins(ADMIN_GET)),
    "domains:role_matrix": Entry(expect=only_admins(200)),
    "domains:roles_export_csv": Entry(expect=only_admins(200)),
    "domains:roles_export_xlsx": Entry(expect=only_admins(200)),
    "domains:user_list": Entry(expect=only_admins(200)),
    "domains:user_detail": Entry(kwargs=admin_object(user_of), expect=only_admins(ADMIN_GET)),
    # The user page's forms, each a POST view of its own; an empty form is shown again (200).
    "domains:user_assign_role": Entry(
        method="post", kwargs=admin_object(user_of), expect=only_admins(ADMIN_GET)
    ),
    "domains:user_set_big_number": Entry(
        method="post", kwargs=admin_object(user_of), expect=only_admins(ADMIN_GET)
    ),
    "domains:user_set_account_end": Entry(
        method="post", kwargs=admin_object(user_of), expect=only_admins(ADMIN_POST)
    ),
    "domains:user_reset_factors": Entry(
        method="post", kwargs=admin_object(user_of), expect=only_admins(ADMIN_POST)
    ),
    "domains:user_block": Entry(
        method="post", kwargs=admin_object(user_of), expect=only_admins(ADMIN_POST)
    ),
    "domains:user_unblock": Entry(
        method="post", kwargs=admin_object(user_of), expect=only_admins(ADMIN_POST)
    ),
    "domains:assignment_remove": Entry(
        method="post", kwargs=admin_object(assignment_of), expect=only_admins(ADMIN_POST)
    ),
    "domains:approval_list": Entry(expect=only_admins(200)),
    "domains:approval_decide": Entry(
        method="post", kwargs=admin_object(assignment_of), expect=only_admins(ADMIN_POST)
    ),
    # Without a decision in the form nothing happens: back to the list.
    "domains:account_decide": Entry(
        method="post", kwargs=admin_object(user_of), expect=only_admins(ADMIN_POST)
    ),
    "domains:provider_list": Entry(expect=only_admins(200)),
    # An empty form is shown again with its errors.
    "domains:provider_add": Entry(method="post", expect=only_admins(200)),
    "domains:contract_add": Entry(method="post", expect=only_admins(200)),
    "domains:contract_edit": Entry(kwargs=admin_object(contract_of), expect=only_admins(ADMIN_GET)),
    "domains:contract_end": Entry(kwargs=admin_object(contract_of), expect=only_admins(ADMIN_GET)),
    "domains:employer_list": Entry(expect=only_admins(200)),
    "domains:employer_create": Entry(expect=only_admins(200)),
    "domains:employer_edit": Entry(kwargs=admin_object(employer_of), expect=only_admins(ADMIN_GET)),
    "domains:department_list": Entry(
        kwargs=admin_object(employer_of), expect=only_admins(ADMIN_GET)
    ),
    # The POST views of the department pages; an empty form is shown again (200).
    "domains:department_add": Entry(
        method="post", kwargs=admin_object(employer_of), expect=only_admins(ADMIN_GET)
    ),
    "domains:department_detail": Entry(
        kwargs=admin_object(department_of), expect=only_admins(ADMIN_GET)
    ),
    "domains:department_rename": Entry(
        method="post", kwargs=admin_object(department_of), expect=only_admins(ADMIN_GET)
    ),
    # An empty move form means "to the top": Productie is there already, so it is a redirect.
    "domains:department_move": Entry(
        method="post", kwargs=admin_object(department_of), expect=only_admins(ADMIN_POST)
    ),
    "domains:department_close": Entry(
        kwargs=admin_object(department_of), expect=only_admins(ADMIN_GET)
    ),
    "domains:tenant_settings": Entry(expect=only_admins(200)),
    "domains:sms_costs": Entry(expect=only_admins(200)),
    "domains:sms_costs_csv": Entry(expect=only_admins(200)),
    "retention:policy": Entry(expect=only_admins(200)),
    # Absence figures: werkgever roles over their scope, the insurer over the insured employer
    # (the case manager, who reaches only assigned employees, and the company doctor get none).
    **{
        name: Entry(
            expect={**everyone(403), "hr": 200, "manager": 200, "verzekeraar": 200, "outsider": 200}
        )
        for name in ("reports:figures", "reports:export_csv", "reports:export_xlsx")
    },
    # Legal holds: the werkgever's retention right (HR), on every employee it may see.
    "retention:holds": Entry(
        kwargs=lambda world, scope: {"key": employee(world, scope).key},
        expect=scoped(hr=(200, 200, 404), outsider=(404, 404, 200)),
    ),
    # The overview: werkgever and bedrijfsarts retention rights (each its own categories).
    "retention:overview": Entry(
        expect={**everyone(403), "hr": 200, "bedrijfsarts": 200, "outsider": 200}
    ),
    "retention:employee": Entry(
        kwargs=lambda world, scope: {"key": employee(world, scope).key},
        expect=scoped(hr=(200, 200, 404), bedrijfsarts=(200, 404, 404), outsider=(404, 404, 200)),
    ),
    "retention:hold_lift": Entry(
        kwargs=hold_of, expect=scoped(hr=(200, 200, 404), outsider=(404, 404, 200))
    ),
    # Deletion: selection, review (fresh second factor) and the requests with their reports;
    # the werkgever sees its own categories' requests, the company doctor the medical ones.
    "retention:select": Entry(
        method="post", expect={**everyone(403), "hr": 302, "bedrijfsarts": 302, "outsider": 302}
    ),
    "retention:review": Entry(
        expect={**everyone(403), "hr": 200, "bedrijfsarts": 200, "outsider": 200}
    ),
    "retention:deletions": Entry(
        expect={**everyone(403), "hr": 200, "bedrijfsarts": 200, "outsider": 200}
    ),
    "retention:deletion": Entry(
        kwargs=deletion_of,
        expect=scoped(hr=(200, 404, 404), bedrijfsarts=(404, 200, 404), outsider=(404, 404, 200)),
    ),
    "retention:deletion_progress": Entry(
        kwargs=deletion_of,
        expect=scoped(hr=(200, 404, 404), bedrijfsarts=(404, 200, 404), outsider=(404, 404, 200)),
    ),
    "retention:deletion_report": Entry(
        kwargs=deletion_of,
        expect=scoped(hr=(200, 404, 404), bedrijfsarts=(404, 200, 404), outsider=(404, 404, 200)),
    ),
    "retention:deletion_decide": Entry(
        method="post",
        kwargs=deletion_of,
        expect=scoped(hr=(302, 404, 404), bedrijfsarts=(404, 302, 404), outsider=(404, 404, 302)),
    ),
}
ROUTES = {route.name: route for route in all_routes()}


def test_every_route_has_an_entry():
    assert set(ROUTES) == set(MATRIX), "add the new URL to MATRIX with the answer each persona gets"


CASES = [
    (name, persona, scope)
    for name, entry in MATRIX.items()
    for persona in PERSONAS
    for scope in (SCOPES if entry.kwargs else ["own"])
]


@pytest.mark.parametrize(
    ("name", "persona", "scope"), CASES, ids=["-".join(case) for case in CASES]
)
def test_permission_matrix(client, world, name, persona, scope):
    entry = MATRIX[name]
    verified_login(client, getattr(world, persona))
    kwargs = entry.kwargs(world, scope) if entry.kwargs else {}
    response = getattr(client, entry.method)(reverse(name, kwargs=kwargs))
    assert response.status_code == entry.code(persona, scope), (name, persona, scope)
