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
