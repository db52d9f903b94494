""" "Mijn Account": a user's own factors and recovery code, behind a fresh second factor; and a
functional admin's reset of a user's factors."""

from __future__ import annotations

import time

from django.urls import reverse

from auth2fa.models import AuthenticatorApp, RecoveryCode
from auth2fa.stepup import SESSION_VERIFIED_AT
from tests.conftest import PASSWORD, verified_login

CHANGE = "auth2fa:account_change"


def stale(client) -> None:
    session = client.session
    session[SESSION_VERIFIED_AT] = time.time() - 16 * 60
    session.save()


def test_the_account_page_lists_the_users_factors(client, world):
    device = verified_login(client, world.hr)
    page = client.get(reverse("auth2fa:account")).content.decode()
    assert device.name in page and reverse("auth2fa:password_change") in page


def test_changes_need_a_fresh_second_factor(client, world):
    device = verified_login(client, world.hr)
    stale(client)
    response = client.post(
        reverse(CHANGE), {"action": "rename", "device": device.persistent_id, "name": "Nieuwe naam"}
    )
    assert response.url.startswith(reverse("auth2fa:step_up"))
    device.refresh_from_db()
    assert device.name != "Nieuwe naam"
    for kind in ("enrol_totp", "enrol_sms", "enrol_key"):  # adding a factor is a change too
        adding = client.get(reverse(f"auth2fa:{kind}"))
        assert adding.url.startswith(reverse("auth2fa:step_up"))


def test_after_the_fresh_confirmation_a_form_post_returns_to_its_page(client, world):
    device = verified_login(client, world.hr)
    stale(client)
    assert "Bevestig dat u het bent" in client.get(reverse("auth2fa:account")).content.decode()
    response = client.post(
        reverse(CHANGE),
        {"action": "rename", "device": device.persistent_id, "name": "x"},
        HTTP_REFERER="http://testserver" + reverse("auth2fa:account"),
    )
    assert response.url == reverse("auth2fa:step_up") + "?next=" + reverse("auth2fa:account")
    elsewhere = client.post(
        reverse(CHANGE),
        {"action": "rename", "device": device.persistent_id, "name": "x"},
        HTTP_REFERER="https://evil.example/account/",
    )
    assert elsewhere.url == reverse("auth2fa:step_up") + "?next=/"


def test_a_factor_is_renamed(client, world):
    device = verified_login(client, world.hr)
    client.post(
        reverse(CHANGE),
        {"action": "rename", "device": device.persistent_id, "name": "Telefoon werk"},
    )
    device.refresh_from_db()
    assert device.name == "Telefoon werk"


def test_the_last_factor_cannot_be_removed_but_a_second_one_can(client, world):
    device = verified_login(client, world.hr)
    client.post(reverse(CHANGE), {"action": "remove", "device": device.persistent_id})
    assert AuthenticatorApp.objects.filter(pk=device.pk).exists()
    spare = AuthenticatorApp.objects.create(user=world.hr, name="reserve", confirmed=True)
    client.post(reverse(CHANGE), {"action": "remove", "device": spare.persistent_id})
    assert not AuthenticatorApp.objects.filter(pk=spare.pk).exists()


def test_another_users_factor_cannot_be_touched(client, world):
    verified_login(client, world.hr)
    theirs = AuthenticatorApp.objects.create(
        user=world.manager, name="van een ander", confirmed=True
    )
    response = client.post(
        reverse(CHANGE), {"action": "rename", "device": theirs.persistent_id, "name": "x"}
    )
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.name == "van een ander"


def test_a_new_recovery_code_makes_the_old_one_invalid(client, world):
    verified_login(client, world.hr)
    RecoveryCode.objects.create(
        user=world.hr, code_hash=RecoveryCode.hash("AAAAA-BBBBB-CCCCC-DDDDD")
    )
    response = client.post(reverse(CHANGE), {"action": "recovery_code"})
    assert response.url == reverse("auth2fa:recovery_code")
    page = client.get(response.url).content.decode()
    code = page.split('id="recovery-code">')[1].split("<")[0]
    stored = RecoveryCode.objects.get(user=world.hr)
    assert stored.matches(code) and not stored.matches("AAAAA-BBBBB-CCCCC-DDDDD")


def test_an_admin_resets_a_users_factors(client, world):
    user_client = client.__class__()
    verified_login(user_client, world.hr)
    RecoveryCode.objects.create(
        user=world.hr, code_hash=RecoveryCode.hash("AAAAA-BBBBB-CCCCC-DDDDD")
    )
    verified_login(client, world.beheer)
    client.post(reverse("domains:user_reset_factors", kwargs={"key": world.hr.key}))
    assert not AuthenticatorApp.objects.filter(user=world.hr).exists()
    assert not RecoveryCode.objects.filter(user=world.hr).exists()
    assert user_client.get(reverse("dashboard")).status_code == 302  # the session ended
    user_client.post(reverse("auth2fa:login"), {"username": "hr@a.test", "password": PASSWORD})
    assert user_client.get(reverse("dashboard")).url.startswith(reverse("auth2fa:enrol"))
