"""Shared fixtures: a tenant with one user per persona, and an outsider tenant.

Each test runs inside `all_tenants()` so fixtures can create rows; requests made through the
test client still run in their own user's tenant scope (set by TenantScopeMiddleware).
"""

from __future__ import annotations

import itertools
from datetime import date
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from auth2fa.models import AccountType, User
from domains.models import Department, Domain, Employer, Role, RoleAssignment, Tenant
from employees.models import Employee
from verzuim.tenancy import all_tenants

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _all_tenants_scope():
    with all_tenants():
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttling counters live in the cache (Redis in CI: REDIS_URL's database is cleared)."""
    cache.clear()
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


def make_user(tenant: Tenant, email: str, *, role: Role | None = None, **fields) -> User:
    user = User.objects.create_user(email, PASSWORD, tenant=tenant, first_name="Test", **fields)
    if role is not None:
        RoleAssignment.objects.create(tenant=tenant, user=user, role=role)
    return user


def make_world() -> SimpleNamespace:
    tenant = Tenant.objects.create(name=f"Tenant {next(_numbers)}")
    employer = Employer.objects.create(tenant=tenant, name="Werkgever A")
    department = Department.objects.create(tenant=tenant, employer=employer, name="Productie")
    roles = {
        domain: Role.objects.create(tenant=tenant, name=f"Rol {domain}", domain=domain)
        for domain in Domain
    }
    other_tenant = Tenant.objects.create(name=f"Other {next(_numbers)}")
    other_employer = Employer.objects.create(tenant=other_tenant, name="Werkgever B")
    world = SimpleNamespace(
        tenant=tenant,
        employer=employer,
        department=department,
        employee=make_employee(employer, department=department, surname="Jansen", bsn="111222333"),
        hr=make_user(tenant, "hr@a.test", role=roles[Domain.WERKGEVER]),
        casemanager=make_user(tenant, "casemanager@a.test", role=roles[Domain.ARBODIENST]),
        bedrijfsarts=make_user(tenant, "bedrijfsarts@a.test", role=roles[Domain.BEDRIJFSARTS]),
        verzekeraar=make_user(tenant, "verzekeraar@a.test", role=roles[Domain.VERZEKERAAR]),
        beheer=make_user(tenant, "beheer@a.test", account_type=AccountType.FUNCTIONAL_ADMIN),
        auditor=make_user(tenant, "auditor@a.test", account_type=AccountType.AUDITOR),
        other_tenant=other_tenant,
        other_employer=other_employer,
        other_employee=make_employee(other_employer, surname="Buitenstaander"),
        outsider=make_user(other_tenant, "hr@b.test"),
    )
    return world


@pytest.fixture
def world(db) -> SimpleNamespace:
    return make_world()


def verified_login(client, user: User) -> TOTPDevice:
    """Log in with password and a verified authenticator app, as after a real second step."""
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def hr_client(client, world):
    verified_login(client, world.hr)
    return client
