"""The demo data, and the background-task wiring."""

from __future__ import annotations

from contextlib import ExitStack
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from auth2fa.models import AccountType, User
from core.tenancy import all_tenants
from domains.models import Department, Tenant
from employees.models import Employee
from tests.test_figures_columns import assert_all_kept
from verzuim.celery import app


@pytest.fixture(scope="module")
def _seeded_demo(django_db_setup, django_db_blocker):
    """The demo, seeded once for this module (seeding takes seconds) inside transactions on both
    databases that are rolled back when the module is done; each test runs in a savepoint."""
    with django_db_blocker.unblock(), ExitStack() as rolled_back:
        for alias in ("default", "audit"):
            rolled_back.enter_context(transaction.atomic(using=alias))
            rolled_back.callback(transaction.set_rollback, True, using=alias)
        out = StringIO()
        with all_tenants():
            call_command("seed_demo", stdout=out)
        yield out.getvalue()


@pytest.fixture
def demo(db, _seeded_demo):
    return _seeded_demo


def test_the_demo_has_two_tenants_and_every_persona(demo):
    demo_arbo = Tenant.objects.get(name="Demo Arbo")
    assert Employee.objects.filter(tenant=demo_arbo).count() >= 500
    assert Employee.objects.filter(tenant__name="Andere Arbo").exists()
    assert Department.objects.filter(tenant=demo_arbo, parent__isnull=False).exists()
    emails = set(User.objects.filter(tenant=demo_arbo).values_list("email", flat=True))
    assert emails == {
        f"{p}@demo.test"
        for p in (
            "hr",
            "manager",
            "casemanager",
            "bedrijfsarts",
            "verzekeraar",
            "beheer",
            "beheer2",
            "auditor",
        )
    }
    assert User.objects.get(email="auditor@demo.test").account_type == AccountType.AUDITOR
    assert User.objects.get(email="hr@andere.test").tenant.name == "Andere Arbo"
    assert "Verzuim-demo-2026" in demo and "hr@demo.test" in demo


def test_the_demo_retention_overview_shows_data_past_every_kind_of_term(demo):
    """Leavers of more than two years ago, an ERD-ZW employer, a WGA case, a legal hold and a
    medical file past 20 years, found by the scan the seeding ends with."""
    from django.utils import timezone

    from retention.models import RetentionDue

    demo_arbo = Tenant.objects.get(name="Demo Arbo")
    past = RetentionDue.objects.filter(tenant=demo_arbo, deletable_on__lte=timezone.localdate())
    categories = set(past.values_list("category", flat=True))
    assert {"absence", "master_data", "erd_zw", "wga", "medical"} <= categories
    assert past.filter(on_hold=True).exists()
    assert past.filter(category="master_data", on_hold=False).count() >= 5


def test_demo_accounts_start_without_a_second_factor(demo):
    from django_otp import user_has_device

    assert not any(user_has_device(user) for user in User.objects.all())


def test_seeding_twice_changes_nothing(demo):
    count = Employee.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert Employee.objects.count() == count


def test_the_demo_seed_leaves_the_figures_columns_right(demo):
    assert_all_kept()


def test_demo_bsns_pass_the_eleven_test(demo):
    from stdnum.nl import bsn

    sample = Employee.objects.exclude(bsn_sealed=None)[:50]
    assert sample and all(bsn.is_valid(employee.bsn) for employee in sample)


def test_celery_uses_redis_when_configured():
    """Tests run tasks in-process (the audit fault tests start a real worker on Redis)."""
    if settings.REDIS_URL:
        assert app.conf.broker_url == settings.REDIS_URL
    else:
        assert app.conf.broker_url == "memory://localhost/"
    assert app.conf.task_always_eager
    assert app.conf.task_acks_late and app.conf.worker_prefetch_multiplier == 1


def test_without_redis_the_app_runs_tasks_in_process_and_with_it_uses_the_broker():
    import subprocess
    import sys

    script = "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"  # noqa: E501
    base = {"VERZUIM_ENV": "development", "PATH": "/usr/bin:/bin"}
    without = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        env={**base, "REDIS_URL": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-2:]
    with_redis = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        env={**base, "REDIS_URL": "redis://127.0.0.1:6379/1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-2:]
    assert without == ["True", "memory://localhost/"]
    assert with_redis == ["False", "redis://127.0.0.1:6379/1"]


def test_expired_sessions_are_cleared_by_the_periodic_task(db):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from auth2fa.tasks import clear_expired_sessions

    Session.objects.create(
        session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    clear_expired_sessions.apply()
    assert not Session.objects.filter(session_key="x" * 32).exists()
    assert "clear-expired-sessions" in settings.CELERY_BEAT_SCHEDULE
