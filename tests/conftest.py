"""Shared fixtures: a tenant with one user per persona, and an outsider tenant.

Each test runs inside `all_tenants()` so fixtures can create rows; requests made through the
test client still run in their own user's tenant scope (set by TenantScopeMiddleware).
"""

from __future__ import annotations

import itertools
import pickle
import time
from datetime import date, timedelta
from importlib import import_module
from types import SimpleNamespace

import pytest
from auditlog.context import disable_auditlog
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.core.management import call_command
from django.db.backends.postgresql.operations import DatabaseOperations
from django.urls import reverse
from django.utils import timezone, translation
from django_otp import DEVICE_ID_SESSION_KEY
from guardian.shortcuts import assign_perm

from audit.models import AuditExport
from auth2fa.models import AccountType, AuthenticatorApp, User
from auth2fa.stepup import SESSION_VERIFIED_AT
from cases import poortwachter
from cases.models import (
    AbsenceCase,
    AbsencePeriod,
    CaseDocument,
    IncapacityChange,
    MedicalDocument,
    Milestone,
)
from cases.services import refresh_timeline
from core import encryption
from core.tenancy import all_tenants
from domains.models import (
    BigCheckStatus,
    BigRegistration,
    Department,
    Employer,
    ProviderKind,
    Role,
    RoleAssignment,
    ServiceContract,
    ServiceProvider,
    Tenant,
)
from domains.services import ensure_reference_roles
from employees.models import Employee
from imports.models import EmployeeImport

PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(items):
    """Every test may use both databases: requests write audit events to the audit store."""
    for item in items:
        if item.get_closest_marker("django_db") is None:
            transactional = "live_server" in getattr(item, "fixturenames", ())
            item.add_marker(
                pytest.mark.django_db(databases=["default", "audit"], transaction=transactional)
            )


_django_sql_flush = DatabaseOperations.sql_flush
AUDIT_TRIGGER = "audit_no_truncate"


def _sql_flush_past_the_audit_trigger(self, style, tables, **kwargs):
    """Transactional tests end with Django's flush, a TRUNCATE of every table. The audit store's
    trigger refuses TRUNCATE for every role; the test suite connects as the superuser (the owner)
    and switches that trigger off around its own TRUNCATE, in the flush's transaction, so it is
    on again when the flush commits. This lives in the test suite only: no production code path,
    setting or connection option lifts the guard."""
    statements = _django_sql_flush(self, style, tables, **kwargs)
    if "audit_auditevent" not in tables:
        return statements
    return [
        f"ALTER TABLE audit_auditevent DISABLE TRIGGER {AUDIT_TRIGGER}",
        *statements,
        f"ALTER TABLE audit_auditevent ENABLE TRIGGER {AUDIT_TRIGGER}",
    ]


DatabaseOperations.sql_flush = _sql_flush_past_the_audit_trigger  # type: ignore[method-assign]

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _all_tenants_scope():
    with all_tenants():
        yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (Dutch): a request leaves its user's language
    active in the thread, so code a test calls directly would otherwise speak the language of
    whichever test ran before it in the same process."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttling counters live in the cache (Redis in CI: REDIS_URL's database is cleared)."""
    from auth2fa.sms import MemoryBackend

    cache.clear()
    MemoryBackend.outbox.clear()
    yield
    cache.clear()


def make_employee(employer: Employer, **fields) -> Employee:
    number = next(_numbers)
    defaults = {
        "tenant": employer.tenant,
        "employer": employer,
        "personnel_number": f"P{number:06d}",
        "first_name": "Test",
        "surname": f"Persoon{number}",
        "birth_date": date(1980, 1, 1),
        "postcode": "1234AB",
        "employment_start": date(2015, 1, 1),
    }
    defaults.update(fields)
    return Employee.objects.create(**defaults)


def make_import(user: User, data: bytes = b"") -> EmployeeImport:
    """A previewed employee import uploaded by `user` (for tests of who may open it)."""
    employee_import = EmployeeImport(
        tenant=user.tenant, uploaded_by=user, file_hash=f"{next(_numbers):064d}"
    )
    employee_import.file_name = "werknemers.csv"
    employee_import.content = data
    employee_import.save()
    return employee_import


def make_user(tenant: Tenant, email: str, **fields) -> User:
    return User.objects.create_user(email, PASSWORD, tenant=tenant, first_name="Test", **fields)


def approving_admins(tenant: Tenant) -> tuple[User, User]:
    """Two independent functional admins of the tenant (made when there are fewer)."""
    admins = list(
        User.objects.filter(tenant=tenant, account_type=AccountType.FUNCTIONAL_ADMIN).order_by("pk")
    )
    while len(admins) < 2:
        admins.append(
            make_user(
                tenant, f"beheer-{next(_numbers)}@fixture.test",
                account_type=AccountType.FUNCTIONAL_ADMIN,
            )
        )  # fmt: skip
    return admins[0], admins[1]


def grant(user: User, role: Role, *, provider=None, employers=(), departments=()) -> RoleAssignment:
    """An active role assignment, as after the whole assignment workflow: for a role with
    medical permissions that is a request by one functional admin, the approval of another and
    a BIG number the register confirmed."""
    approval = {}
    if role.has_medical_permissions:
        requester, approver = approving_admins(user.tenant)
        approval = {"requested_by": requester, "decided_by": approver, "decided_at": timezone.now()}
        BigRegistration.objects.get_or_create(
            user=user,
            defaults={
                "tenant": user.tenant, "big_number": "19012345601",
                "status": BigCheckStatus.VERIFIED, "checked_at": timezone.now(),
            },
        )  # fmt: skip
    assignment = RoleAssignment.objects.create(
        tenant=user.tenant, user=user, role=role, provider=provider, **approval
    )
    assignment.employers.set(employers)
    assignment.departments.set(departments)
    return assignment


def report_sick(
    employee: Employee, first_sick_day: date = date(2026, 10, 1), **fields
) -> AbsenceCase:
    """A case with its sick spell, incapacity and timeline, as cases.services.report_sick makes
    it (without needing a reporting user, so fixtures can build cases in any order)."""
    case = AbsenceCase.objects.create(
        tenant=employee.tenant, employee=employee, first_sick_day=first_sick_day, **fields
    )
    last_day = fields["recovered_on"] - timedelta(days=1) if fields.get("recovered_on") else None
    AbsencePeriod.objects.create(
        tenant=case.tenant, case=case, starts_on=first_sick_day, ends_on=last_day
    )
    IncapacityChange.objects.create(
        tenant=case.tenant, case=case, starts_on=first_sick_day, percentage=100
    )
    refresh_timeline(case)
    return case


def report_sick_in_bulk(employees: list[Employee], first_sick_day: date) -> list[AbsenceCase]:
    """The rows `report_sick` makes (case, sick spell, incapacity, timeline) for many employees
    at once, in a few inserts instead of some thirty per case (for the tests that need a thousand
    cases). Open cases only; test_cases.py checks that both helpers make the same rows."""
    cases = AbsenceCase.objects.bulk_create(
        AbsenceCase(tenant=employee.tenant, employee=employee, first_sick_day=first_sick_day)
        for employee in employees
    )
    AbsencePeriod.objects.bulk_create(
        AbsencePeriod(tenant=case.tenant, case=case, starts_on=first_sick_day, ends_on=None)
        for case in cases
    )
    IncapacityChange.objects.bulk_create(
        IncapacityChange(tenant=case.tenant, case=case, starts_on=first_sick_day, percentage=100)
        for case in cases
    )
    # What refresh_timeline creates for a case whose only spell is still open.
    due = poortwachter.due_dates([(first_sick_day, None)])
    Milestone.objects.bulk_create(
        Milestone(tenant_id=case.tenant_id, case=case, kind=kind, due_on=due_on)
        for case in cases
        for kind, due_on in due.items()
    )
    return cases


def add_documents(case: AbsenceCase, author: User) -> None:
    CaseDocument.objects.create(
        tenant=case.tenant, case=case, title="Plan van aanpak", file_name="pva.pdf",
        content_type="application/pdf", size=9, content=b"%PDF-1.4\n", uploaded_by=author,
    )  # fmt: skip
    MedicalDocument.objects.create(
        tenant=case.tenant, case=case, title="Verslag specialist", file_name="verslag.pdf",
        content_type="application/pdf", size=9, content=b"%PDF-1.4\n", uploaded_by=author,
    )  # fmt: skip


def make_world() -> SimpleNamespace:
    """Tenant A: employer A (departments Productie > Inpak, and Kantoor) and employer B; an
    arbodienst serving both, an insurer insuring only A; a sick employee in Productie assigned to
    the case manager, a healthy one and an unassigned sick one in Kantoor, a sick one at B.
    Tenant "other": its own employer, employee and HR user."""
    # Tenant A records BSNs (Jansen has one), on a legal ground; the other tenant does not.
    tenant = Tenant.objects.create(
        name=f"Tenant {next(_numbers)}",
        bsn_allowed=True,
        bsn_legal_ground="Wet SUWI art. 62: gegevensuitwisseling met UWV",
    )
    roles = {role.reference_key: role for role in ensure_reference_roles(tenant)}
    employer = Employer.objects.create(tenant=tenant, name="Werkgever A")
    employer_b = Employer.objects.create(tenant=tenant, name="Werkgever B")
    productie = Department.objects.create(tenant=tenant, employer=employer, name="Productie")
    inpak = Department.objects.create(
        tenant=tenant, employer=employer, parent=productie, name="Inpak"
    )
    kantoor = Department.objects.create(tenant=tenant, employer=employer, name="Kantoor")
    arbo = ServiceProvider.objects.create(
        tenant=tenant, name="Arbo Gezond", kind=ProviderKind.ARBODIENST
    )
    insurer = ServiceProvider.objects.create(
        tenant=tenant, name="Zeker BV", kind=ProviderKind.VERZEKERAAR
    )
    for provider, served in ((arbo, employer), (arbo, employer_b), (insurer, employer)):
        ServiceContract.objects.create(
            tenant=tenant, provider=provider, employer=served, starts_on=date(2020, 1, 1)
        )

    world = SimpleNamespace(
        tenant=tenant, roles=roles, employer=employer, employer_b=employer_b, department=productie,
        inpak=inpak, kantoor=kantoor, arbo=arbo, insurer=insurer,
    )  # fmt: skip
    world.employee = make_employee(
        employer, department=productie, surname="Jansen", bsn="111222333"
    )
    world.healthy = make_employee(employer, department=kantoor, surname="Gezond")
    world.sick_unassigned = make_employee(employer, department=kantoor, surname="Ziekniet")
    world.sick_at_b = make_employee(employer_b, surname="Bziek")
    world.case = report_sick(world.employee)
    world.other_case = report_sick(world.sick_unassigned)
    report_sick(world.sick_at_b)

    # The admins first: the company doctor's medical role is requested and approved by them.
    world.beheer = make_user(tenant, "beheer@a.test", account_type=AccountType.FUNCTIONAL_ADMIN)
    world.beheer2 = make_user(tenant, "beheer2@a.test", account_type=AccountType.FUNCTIONAL_ADMIN)
    world.hr = make_user(tenant, "hr@a.test")
    grant(world.hr, roles["hr"], employers=[employer, employer_b])
    world.manager = make_user(tenant, "manager@a.test")
    grant(world.manager, roles["leidinggevende"], departments=[productie])
    world.casemanager = make_user(tenant, "casemanager@a.test")
    grant(world.casemanager, roles["casemanager"], provider=arbo)
    assign_perm("employees.view_employee", world.casemanager, world.employee)
    world.bedrijfsarts = make_user(tenant, "bedrijfsarts@a.test")
    grant(world.bedrijfsarts, roles["bedrijfsarts"], provider=arbo)
    world.verzekeraar = make_user(tenant, "verzekeraar@a.test")
    grant(world.verzekeraar, roles["schadebehandelaar"], provider=insurer)
    world.auditor = make_user(tenant, "auditor@a.test", account_type=AccountType.AUDITOR)

    world.other_tenant = Tenant.objects.create(name=f"Other {next(_numbers)}")
    other_roles = {role.reference_key: role for role in ensure_reference_roles(world.other_tenant)}
    world.other_employer = Employer.objects.create(tenant=world.other_tenant, name="Werkgever Z")
    world.other_employee = make_employee(world.other_employer, surname="Buitenstaander")
    world.other_tenant_case = report_sick(world.other_employee)
    world.outsider = make_user(world.other_tenant, "hr@b.test")
    grant(world.outsider, other_roles["hr"], employers=[world.other_employer])
    world.export = AuditExport.objects.create(
        tenant=tenant, requested_by=world.auditor, reason="audit",
        period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
    )  # fmt: skip
    world.other_export = AuditExport.objects.create(
        tenant=world.other_tenant, requested_by=world.outsider, reason="audit",
        period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
    )  # fmt: skip
    for case in (world.case, world.other_case, world.other_tenant_case):
        add_documents(case, world.hr if case.tenant_id == tenant.pk else world.outsider)
    return world


@pytest.fixture(scope="session")
def _world_template(request, django_db_setup, django_db_blocker) -> tuple[int, bytes]:
    """The persona world, built and committed once per session (building it for each of the
    thousand tests that use it took most of the suite's time), kept as its tenant's pk and a
    pickle of the objects. Each test unpickles new instances; its changes to the rows are
    rolled back with its transaction."""
    # Building fixtures is not a user's action: no audit events (tests/test_audit.py covers them).
    with django_db_blocker.unblock(), all_tenants(), disable_auditlog():
        template = make_world()
    yield template.tenant.pk, pickle.dumps(template)
    if not request.config.getoption("reuse_db"):
        return  # the test databases are dropped
    # Leave the databases as a transactional test does (empty), so the next run starts clean.
    with django_db_blocker.unblock():
        for alias in ("default", "audit"):
            call_command("flush", database=alias, interactive=False, verbosity=0)


@pytest.fixture
def world(db, _world_template) -> SimpleNamespace:
    """A fresh copy of the persona world: new Python objects (nothing cached on them by an earlier
    test) for the committed rows, which each test changes only inside its own transaction."""
    encryption._data_keys.clear()  # a test may have replaced the tenants' data keys and rolled back
    tenant_pk, pickled = _world_template
    if not Tenant.objects.filter(pk=tenant_pk).exists():
        # A transactional test (live server, real worker) emptied the database after it ran:
        # build this test a world of its own, as before.
        with disable_auditlog():
            return make_world()
    # A copy of the objects the session built (unpickling is several times faster than deepcopy).
    return pickle.loads(pickled)  # noqa: S301 - our own bytes, made above


def verified_login(client, user: User) -> AuthenticatorApp:
    """Log in with password and a verified authenticator app, as after a real second step."""
    device = AuthenticatorApp.objects.create(user=user, name="app", confirmed=True)
    # The session a real sign-in leaves, written directly: force_login would also send the
    # login signal, whose audit event (hashed into the chain) made this the suite's slowest step.
    # The sign-in itself, and its events, are tested through the real views.
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_VERIFIED_AT] = time.time()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return device


@pytest.fixture
def hr_client(client, world):
    verified_login(client, world.hr)
    return client


def search(client, criteria: dict, **get):
    """Search as the page does: post the terms, follow the redirect to the kept search; any
    `get` parameters (sort, page) are added to the URL it lands on."""
    posted = client.post(reverse("employees:list"), criteria)
    if posted.status_code != 302:
        return posted  # refused: the page again, with the form's errors
    from urllib.parse import urlencode

    return client.get(f"{posted.url}&{urlencode(get)}" if get else posted.url)


def search_id(response) -> str:
    return response.wsgi_request.GET["q"]
