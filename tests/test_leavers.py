"""Access ends on leaving (seed 001: within 24 hours): a periodic task deactivates accounts
whose last day passed or whose employment ended, and ends their sessions."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from auth2fa.models import User
from auth2fa.tasks import end_access_of_leavers
from tests.conftest import make_employee, verified_login

TODAY = timezone.localdate()


def test_an_account_ends_the_day_after_its_last_day_and_its_sessions_end(client, world):
    verified_login(client, world.hr)
    assert client.get(reverse("dashboard")).status_code == 200
    User.objects.filter(pk=world.hr.pk).update(valid_until=TODAY - timedelta(days=1))
    assert end_access_of_leavers.apply().get() == 1
    world.hr.refresh_from_db()
    assert not world.hr.is_active
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response.url.startswith(reverse("auth2fa:login"))


def test_an_account_ends_when_the_linked_employment_ends(world):
    own_record = make_employee(
        world.employer, surname="Rozendaal", employment_end=TODAY - timedelta(days=1)
    )
    User.objects.filter(pk=world.casemanager.pk).update(employee=own_record)
    end_access_of_leavers.apply()
    world.casemanager.refresh_from_db()
    assert not world.casemanager.is_active


def test_accounts_still_valid_stay_active(world):
    still_employed = make_employee(world.employer, surname="Blijft", employment_end=TODAY)
    User.objects.filter(pk=world.hr.pk).update(valid_until=TODAY)
    User.objects.filter(pk=world.manager.pk).update(employee=still_employed)
    assert end_access_of_leavers.apply().get() == 0
    assert User.objects.filter(pk__in=[world.hr.pk, world.manager.pk], is_active=True).count() == 2


def test_the_task_runs_every_fifteen_minutes(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["end-access-of-leavers"]
    assert (
        schedule["task"] == "auth2fa.tasks.end_access_of_leavers" and schedule["schedule"] <= 3600
    )


def test_an_admin_sets_the_end_of_access(client, world):
    verified_login(client, world.beheer)
    url = reverse("domains:user_set_account_end", kwargs={"key": world.hr.key})
    response = client.post(url, {"valid_until": TODAY, "employee_key": world.employee.key})
    assert response.status_code == 302
    world.hr.refresh_from_db()
    assert world.hr.valid_until == TODAY and world.hr.employee == world.employee
    foreign = client.post(url, {"validity": "1", "employee_key": world.other_employee.key})
    assert foreign.status_code == 200  # another tenant's employee: "no employee with this key"
