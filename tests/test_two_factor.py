"""The enrolment wizard, verification, replay and throttling, and the one-time recovery code."""

from __future__ import annotations

import base64
import re
import time

import pyotp
import pytest
from django.urls import reverse

from auth2fa.models import AuthenticatorApp, RecoveryCode
from tests.conftest import PASSWORD


def password_login(client, email: str):
    return client.post(reverse("auth2fa:login"), {"username": email, "password": PASSWORD})


def secret_on_page(response) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', response.content.decode())
    assert match, "the base32 secret is shown for manual entry"
    return match.group(1)


def enrol_app(client) -> tuple[pyotp.TOTP, str]:
    """Walk the wizard with an independent TOTP implementation; return it and the recovery code."""
    page = client.get(reverse("auth2fa:enrol_totp"))
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the QR code is rendered on the server
    totp = pyotp.TOTP(secret_on_page(page))
    response = client.post(reverse("auth2fa:enrol_totp"), {"token": totp.now()})
    assert response.url == reverse("auth2fa:recovery_code")
    shown = client.get(reverse("auth2fa:recovery_code")).content.decode()
    code = re.search(r'id="recovery-code">([A-Z0-9-]+)<', shown).group(1)
    return totp, code


def next_step_code(totp: pyotp.TOTP) -> str:
    """A code for the next 30-second step: django-otp allows one step of clock drift, and a code
    newer than the last one used is not a replay, so tests need not wait for the clock."""
    return totp.at(time.time() + 30)


def test_first_login_walks_through_the_wizard(client, world):
    response = password_login(client, "hr@a.test")
    assert response.url == reverse("dashboard")
    response = client.get(reverse("dashboard"))
    assert response.url == reverse("auth2fa:enrol") + "?next=/"
    page = client.get(response.url).content.decode()
    assert reverse("auth2fa:enrol_totp") in page
    assert (
        "mail" not in page.split("<main", 1)[1].split('class="hint"')[0].lower()
    )  # no e-mail factor offered
    enrol_app(client)
    assert client.get(reverse("dashboard")).status_code == 200
    assert AuthenticatorApp.objects.get(user=world.hr).confirmed


def test_the_recovery_code_is_shown_once_and_stored_hashed(client, world):
    password_login(client, "hr@a.test")
    _totp, code = enrol_app(client)
    stored = RecoveryCode.objects.get(user=world.hr)
    assert code.replace("-", "") not in stored.code_hash
    assert stored.matches(code)
    again = client.get(reverse("auth2fa:recovery_code")).content.decode()
    assert code not in again


def test_a_wrong_code_does_not_confirm_the_app(client, world):
    password_login(client, "hr@a.test")
    client.get(reverse("auth2fa:enrol_totp"))
    response = client.post(reverse("auth2fa:enrol_totp"), {"token": "000000"})
    assert response.status_code == 200
    assert not AuthenticatorApp.objects.filter(user=world.hr, confirmed=True).exists()


def test_the_second_login_asks_for_a_code(client, world):
    password_login(client, "hr@a.test")
    totp, _code = enrol_app(client)
    client.logout()
    password_login(client, "hr@a.test")
    assert (
        client.get(reverse("employees:list")).url == reverse("auth2fa:verify") + "?next=/employees/"
    )
    response = client.post(
        reverse("auth2fa:verify") + "?next=/employees/", {"token": next_step_code(totp)}
    )
    assert response.url == "/employees/"
    assert client.get("/employees/").status_code == 200


def test_a_totp_code_is_accepted_only_once(client, world):
    password_login(client, "hr@a.test")
    totp, _code = enrol_app(client)
    client.logout()
    token = next_step_code(totp)
    password_login(client, "hr@a.test")
    assert client.post(reverse("auth2fa:verify"), {"token": token}).url == reverse("dashboard")
    client.logout()
    password_login(client, "hr@a.test")
    replay = client.post(reverse("auth2fa:verify"), {"token": token})
    assert replay.status_code == 200
    assert (
        "already been used" in replay.content.decode() or "al gebruikt" in replay.content.decode()
    )
    assert client.get(reverse("dashboard")).status_code == 302


def test_wrong_codes_are_throttled(client, world):
    device = AuthenticatorApp.objects.create(user=world.hr, name="app", confirmed=True)
    totp = pyotp.TOTP(base64.b32encode(device.bin_key).decode())
    password_login(client, "hr@a.test")
    client.post(reverse("auth2fa:verify"), {"token": "000000"})
    # Right after a wrong code even the right one is refused: django-otp doubles the wait each time.
    response = client.post(reverse("auth2fa:verify"), {"token": totp.now()})
    assert response.status_code == 200
    assert "Wacht even" in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert not device.verify_is_allowed()[0]


def test_the_recovery_code_logs_in_once_and_forces_re_enrolment(client, world):
    password_login(client, "hr@a.test")
    _totp, code = enrol_app(client)
    client.logout()

    password_login(client, "hr@a.test")
    response = client.post(reverse("auth2fa:recover"), {"code": code.lower().replace("-", " ")})
    assert response.url == reverse("auth2fa:enrol")
    assert not AuthenticatorApp.objects.filter(
        user=world.hr
    ).exists()  # the lost device no longer works
    # Nothing but the wizard until a new factor is set up.
    assert client.get(reverse("employees:list")).url.startswith(reverse("auth2fa:enrol"))
    enrol_app(client)
    assert client.get(reverse("employees:list")).status_code == 200

    client.logout()
    password_login(client, "hr@a.test")
    again = client.post(reverse("auth2fa:recover"), {"code": code})
    assert again.status_code == 200  # the old code is spent
    assert client.get(reverse("dashboard")).status_code == 302


def test_recovery_attempts_are_throttled(client, world, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    AuthenticatorApp.objects.create(user=world.hr, name="app", confirmed=True)
    RecoveryCode.objects.create(
        user=world.hr, code_hash=RecoveryCode.hash("AAAAA-BBBBB-CCCCC-DDDDD")
    )
    password_login(client, "hr@a.test")
    for _ in range(3):
        client.post(reverse("auth2fa:recover"), {"code": "WRONG"})
    response = client.post(reverse("auth2fa:recover"), {"code": "AAAAA-BBBBB-CCCCC-DDDDD"})
    assert response.status_code == 200
    assert RecoveryCode.objects.filter(user=world.hr).exists()


@pytest.mark.parametrize("url_name", ["auth2fa:enrol", "auth2fa:enrol_totp"])
def test_an_unverified_user_with_a_factor_cannot_enrol_another(client, world, url_name):
    """Otherwise a stolen password would be enough to add the thief's own authenticator."""
    AuthenticatorApp.objects.create(user=world.hr, name="app", confirmed=True)
    password_login(client, "hr@a.test")
    assert client.get(reverse(url_name)).url == reverse("auth2fa:verify")


def test_the_app_secret_is_stored_sealed_not_in_plain_text(world):
    device = AuthenticatorApp.objects.create(user=world.hr, name="app", confirmed=True)
    stored = AuthenticatorApp.objects.get(pk=device.pk)
    assert len(stored.bin_key) == 20 and stored.bin_key == device.bin_key
    sealed = bytes(stored.secret_sealed)
    assert stored.bin_key not in sealed and stored.bin_key.hex().encode() not in sealed
    assert stored.verify_token(pyotp.TOTP(base64.b32encode(stored.bin_key).decode()).now())


def test_a_sealed_secret_copied_to_another_app_does_not_open(world):
    from core.encryption import DecryptionError

    mine = AuthenticatorApp.objects.create(user=world.hr, name="app", confirmed=True)
    theirs = AuthenticatorApp.objects.create(user=world.manager, name="app", confirmed=True)
    AuthenticatorApp.objects.filter(pk=theirs.pk).update(secret_sealed=mine.secret_sealed)
    with pytest.raises(DecryptionError):
        AuthenticatorApp.objects.get(pk=theirs.pk).bin_key  # noqa: B018


def test_the_migration_seals_existing_totp_secrets(world):
    import importlib
    from binascii import unhexlify

    from django.apps import apps
    from django_otp.plugins.otp_totp.models import TOTPDevice

    migration = importlib.import_module("auth2fa.migrations.0007_authenticator_app_sealed_secret")
    old = TOTPDevice.objects.create(user=world.hr, name="Telefoon", confirmed=True, last_t=123)
    world.hr.default_factor = old.persistent_id
    world.hr.save(update_fields=["default_factor"])
    migration.seal_totp_secrets(apps, None)
    assert not TOTPDevice.objects.exists()
    new = AuthenticatorApp.objects.get(user=world.hr)
    assert (new.name, new.confirmed, new.last_t) == ("Telefoon", True, 123)
    assert new.bin_key == unhexlify(old.key)  # opens through the model's own sealing
    assert old.key.encode() not in bytes(new.secret_sealed)
    world.hr.refresh_from_db()
    assert world.hr.default_factor == new.persistent_id
    migration.unseal_totp_secrets(apps, None)  # and back, for a rollback of the release
    assert TOTPDevice.objects.get(user=world.hr).key == old.key
    assert not AuthenticatorApp.objects.exists()
