"""Password login: minimum length, throttling per account and address, idle expiry, reset."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD, verified_login


def login(client, email, password=PASSWORD, ip="192.0.2.10"):
    return client.post(
        reverse("auth2fa:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def test_login_with_email_and_password_leads_to_the_second_step(client, world):
    response = login(client, "HR@A.test")
    assert response.status_code == 302
    assert client.get(response.url).url.startswith(reverse("auth2fa:enrol"))


def test_a_wrong_password_gives_one_message_for_all_cases(client, world):
    wrong = login(client, "hr@a.test", "wrong password!")
    unknown = login(client, "nobody@a.test", "wrong password!")
    assert wrong.status_code == unknown.status_code == 200
    message = "Het e-mailadres of wachtwoord klopt niet."
    assert message in wrong.content.decode() and message in unknown.content.decode()


def test_failures_lock_an_account_by_its_tenants_policy(client, world):
    world.tenant.lockout_attempts = 3
    world.tenant.save()
    for attempt in range(3):
        login(client, "hr@a.test", "wrong password!", ip=f"192.0.2.{attempt}")
    blocked = login(client, "hr@a.test", ip="198.51.100.7")  # right password, other address
    assert blocked.status_code == 200
    assert "Te veel mislukte pogingen" in blocked.content.decode()
    assert login(client, "casemanager@a.test").status_code == 302  # other accounts are unaffected


def test_an_unknown_address_gets_the_same_answer(client, world, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        login(client, "nobody@a.test", "wrong password!")
    assert "Te veel mislukte pogingen" in login(client, "nobody@a.test").content.decode()


def test_failures_are_throttled_per_address(client, world, settings):
    settings.LOGIN_FAILURES_PER_IP = 4
    for number in range(4):
        login(client, f"guess{number}@a.test", "wrong password!", ip="203.0.113.9")
    assert login(client, "hr@a.test", ip="203.0.113.9").status_code == 200
    assert login(client, "hr@a.test", ip="203.0.113.10").status_code == 302


def test_a_success_resets_the_account_counter(client, world):
    world.tenant.lockout_attempts = 3
    world.tenant.save()
    login(client, "hr@a.test", "wrong password!")
    login(client, "hr@a.test", "wrong password!")
    assert login(client, "hr@a.test").status_code == 302
    client.logout()
    login(client, "hr@a.test", "wrong password!")
    login(client, "hr@a.test", "wrong password!")
    assert login(client, "hr@a.test").status_code == 302


def test_passwords_need_twelve_characters(world):
    with pytest.raises(ValidationError):
        validate_password("Kort-wacht1", world.hr)  # 11 characters
    validate_password("lange zin als wachtwoord", world.hr)


def test_idle_sessions_expire(client, world, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    verified_login(client, world.hr)
    assert client.get(reverse("dashboard")).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("auth2fa:login"))


def test_activity_extends_the_session(client, world):
    verified_login(client, world.hr)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(minutes=1)
    )
    client.get(reverse("dashboard"))
    assert Session.objects.get(session_key=key).expire_date > timezone.now() + timedelta(minutes=29)


def test_password_reset_by_email_keeps_the_second_factor(client, world):
    client.post(reverse("auth2fa:password_reset"), {"email": "hr@a.test"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new_password = "een nieuw lang wachtwoord"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.url == reverse("auth2fa:password_reset_complete")
    world.hr.refresh_from_db()
    assert world.hr.check_password(new_password)
    response = login(client, "hr@a.test", new_password)
    assert client.get(response.url).url.startswith(
        reverse("auth2fa:enrol")
    )  # still the second step


def test_a_reset_for_an_unknown_address_looks_the_same(client, world):
    response = client.post(reverse("auth2fa:password_reset"), {"email": "nobody@a.test"})
    assert response.url == reverse("auth2fa:password_reset_done")
    assert mail.outbox == []


def test_logout_ends_the_session(client, world):
    verified_login(client, world.hr)
    client.post(reverse("auth2fa:logout"))
    assert client.get(reverse("dashboard")).status_code == 302


@pytest.fixture
def password_hashes(monkeypatch):
    """Counts the password hashes computed (tests hash with MD5: make_password and
    check_password both run its encode)."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls: list[str] = []
    encode = MD5PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return calls


def test_known_and_unknown_addresses_cost_one_password_hash_each(client, world, password_hashes):
    for email in ("hr@a.test", "nobody@a.test"):
        password_hashes.clear()
        assert login(client, email, "wrong password!").status_code == 200
        assert len(password_hashes) == 1, email


def test_a_locked_known_and_a_locked_unknown_address_look_the_same(
    client, world, settings, password_hashes
):
    assert world.tenant.lockout_attempts == settings.LOGIN_FAILURES_PER_ACCOUNT
    assert world.tenant.lockout_minutes == settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
    refusals = {}
    for number, email in enumerate(("hr@a.test", "nobody@a.test")):
        for attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
            login(client, email, "wrong password!", ip=f"192.0.{number}.{attempt}")
        password_hashes.clear()
        response = login(client, email, ip="198.51.100.7")  # the right password (for hr)
        assert response.status_code == 200
        assert len(password_hashes) == 1, email  # a refusal costs what an attempt costs
        refusals[email] = response.context["form"].non_field_errors()
    assert refusals["hr@a.test"] == refusals["nobody@a.test"]
    assert "Te veel mislukte pogingen" in refusals["hr@a.test"][0]


@pytest.mark.django_db(databases=["default", "audit"], transaction=True)
def test_parallel_failed_logins_are_all_counted():
    """Wrong passwords posted at the same moment, each request on its own thread and database
    connection: the account's counter ends at the number of attempts (none lost)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections
    from django.test import Client

    from auth2fa.models import User
    from domains.models import Tenant
    from tests.conftest import make_user

    tenant = Tenant.objects.create(name="Parallel", lockout_attempts=20)
    user = make_user(tenant, "parallel@a.test")
    attempts = 12
    start = threading.Barrier(attempts)

    def attempt(number: int) -> int:
        try:
            start.wait(timeout=30)
            return login(Client(), "parallel@a.test", "wrong password!", ip=f"192.0.2.{number}")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        responses = list(pool.map(attempt, range(attempts)))
    assert all(response.status_code == 200 for response in responses)
    assert User.objects.get(pk=user.pk).failed_logins == attempts


@pytest.mark.django_db(databases=["default", "audit"], transaction=True)
def test_parallel_failed_logins_lock_the_account_at_the_threshold():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from auth2fa import services
    from auth2fa.models import User
    from domains.models import Tenant
    from tests.conftest import make_user

    tenant = Tenant.objects.create(name="Parallel lock", lockout_attempts=5)
    user = make_user(tenant, "parallel-lock@a.test")
    start = threading.Barrier(5)

    def attempt(_number: int) -> None:
        try:
            start.wait(timeout=30)
            services.register_failed_login(User.objects.select_related("tenant").get(pk=user.pk))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=5) as pool:
        list(pool.map(attempt, range(5)))
    locked = User.objects.get(pk=user.pk)
    assert locked.is_locked and locked.failed_logins == 0
