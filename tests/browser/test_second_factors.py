"""Every kind of second factor in real Chromium: SMS (the development file backend), security
keys through Chromium's virtual authenticator over CDP (a CTAP2 key and a U2F-only key), login
with the recovery code after losing the device, and "Mijn Account" changes behind the fresh
second factor."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.contrib.sessions.backends.db import SessionStore

from auth2fa.models import AuthenticatorApp, SecurityKey, SMSDevice, SMSMessage
from auth2fa.services import issue_recovery_code
from auth2fa.stepup import SESSION_VERIFIED_AT
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def relying_party(settings, live_server):
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [live_server.url]
    return settings


def log_in(page, email: str = "hr@a.test") -> None:
    page.goto("/login/")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Volgende").click()


def log_out(page) -> None:
    page.get_by_role("button", name="Uitloggen").first.click()
    page.wait_for_url(re.compile(r"/login/"))


def finish_recovery_code(page) -> str:
    page.wait_for_url(re.compile(r"/2fa/recovery-code/$"))
    code = page.locator("#recovery-code").inner_text()
    page.get_by_role("link", name="Ik heb hem bewaard, verder").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))
    return code


def virtual_authenticator(page, protocol: str) -> tuple:
    """A key plugged into this browser: CTAP2 (FIDO2) or U2F (CTAP1 only); touched at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": protocol,
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": False,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_sms_enrolment_and_login(page, world, settings, tmp_path):
    settings.SMS_BACKEND = "auth2fa.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.txt")
    settings.SMS_RESEND_SECONDS = 0

    def last_code() -> str:
        return re.findall(r"\b(\d{6})\b", (tmp_path / "sms.txt").read_text())[-1]

    log_in(page, "manager@a.test")
    page.wait_for_url(re.compile(r"/2fa/setup/"))
    page.get_by_role("link", name="Sms").click()
    page.get_by_label("Mobiel nummer").fill("020 1234567")
    page.get_by_role("button", name="Code versturen").click()
    assert page.get_by_text("Dit is geen mobiel nummer").is_visible()  # a landline is refused
    page.get_by_label("Mobiel nummer").fill("06 12345678")
    page.get_by_role("button", name="Code versturen").click()
    assert page.get_by_text("Er is een code verstuurd naar +316••••••78.").is_visible()
    screenshot(page, "sms-1-code-sent")
    page.get_by_role("textbox", name="Code").fill(last_code())
    page.get_by_role("button", name="Bevestigen").click()
    finish_recovery_code(page)
    assert SMSDevice.objects.get(user=world.manager).confirmed

    log_out(page)
    log_in(page, "manager@a.test")
    page.wait_for_url(re.compile(r"/2fa/verify/"))
    page.get_by_role("button", name="Stuur een code naar +316••••••78").click()
    page.get_by_role("textbox", name="Code").fill("000000")
    page.get_by_role("button", name="Controleren").click()
    assert page.get_by_text("Deze code klopt niet").is_visible()
    # django-otp backs off after a wrong code: wait it out, then the real code works.
    time.sleep(1.1)
    page.get_by_role("textbox", name="Code").fill(last_code())
    page.get_by_role("button", name="Controleren").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))
    screenshot(page, "sms-2-dashboard")
    assert list(
        SMSMessage.unscoped.filter(user=world.manager).values_list("purpose", "employer")
    ) == [("login", world.employer.pk), ("enrol", world.employer.pk)]
    assert page.csp_errors == []


@pytest.mark.parametrize("protocol", ["ctap2", "u2f"])
def test_security_key_enrolment_and_login(page, world, relying_party, protocol):
    cdp, authenticator = virtual_authenticator(page, protocol)
    log_in(page)
    page.wait_for_url(re.compile(r"/2fa/setup/"))
    page.get_by_role("link", name="Beveiligingssleutel").click()
    page.get_by_label("Naam van de sleutel").fill(f"Sleutel {protocol}")
    screenshot(page, f"key-{protocol}-1-register")
    page.get_by_role("button", name="Sleutel registreren").click()
    finish_recovery_code(page)
    key = SecurityKey.objects.get(user=world.hr)
    assert key.name == f"Sleutel {protocol}"
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1

    log_out(page)
    log_in(page)
    page.wait_for_url(re.compile(r"/2fa/verify/"))
    page.get_by_role("button", name="Mijn beveiligingssleutel gebruiken").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))
    assert page.get_by_role("heading", name="Welkom, Test").is_visible()
    key.refresh_from_db()
    assert key.last_used_at is not None and not key.clone_warning
    screenshot(page, f"key-{protocol}-2-dashboard")
    assert page.csp_errors == []


def test_a_key_whose_counter_goes_back_is_refused(page, world, relying_party):
    cdp, authenticator = virtual_authenticator(page, "ctap2")
    log_in(page)
    page.get_by_role("link", name="Beveiligingssleutel").click()
    page.get_by_role("button", name="Sleutel registreren").click()
    finish_recovery_code(page)
    log_out(page)
    # The server saw counter N; a copy of the key would present an older one.
    SecurityKey.objects.filter(user=world.hr).update(sign_count=10_000)
    log_in(page)
    page.get_by_role("button", name="Mijn beveiligingssleutel gebruiken").click()
    page.get_by_text("mogelijk gekopieerd", exact=False).first.wait_for()
    assert SecurityKey.objects.get(user=world.hr).clone_warning
    assert "/2fa/verify/" in page.url


def test_recovery_code_after_losing_the_device(page, world):
    AuthenticatorApp.objects.create(user=world.hr, name="Oude telefoon", confirmed=True)
    code = issue_recovery_code(user=world.hr)
    log_in(page)
    page.wait_for_url(re.compile(r"/2fa/verify/"))
    page.get_by_role("link", name="Apparaat kwijt? Gebruik uw herstelcode").click()
    page.get_by_label("Herstelcode").fill("AAAAA-BBBBB-CCCCC-DDDDD")
    page.get_by_role("button", name="Inloggen met herstelcode").click()
    assert page.get_by_text("Deze herstelcode klopt niet").is_visible()
    page.get_by_label("Herstelcode").fill(code.lower())
    page.get_by_role("button", name="Inloggen met herstelcode").click()
    page.wait_for_url(re.compile(r"/2fa/setup/"))
    assert not AuthenticatorApp.objects.filter(user=world.hr).exists()  # the lost device is gone
    page.get_by_role("link", name="Authenticator-app").click()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Bevestigen").click()
    new_code = finish_recovery_code(page)  # a new recovery code, shown once
    assert new_code != code
    screenshot(page, "recovery-dashboard")


def test_my_account_changes_need_a_fresh_second_factor(page, world, relying_party):
    log_in(page)
    page.get_by_role("link", name="Authenticator-app").click()
    secret = page.locator("#totp-secret").inner_text()
    totp = pyotp.TOTP(secret)
    page.get_by_role("textbox", name="Code").fill(totp.now())
    page.get_by_role("button", name="Bevestigen").click()
    finish_recovery_code(page)

    # Twenty minutes later (the session's last confirmation is made older).
    session_key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key)
    session[SESSION_VERIFIED_AT] = time.time() - 20 * 60
    session.save()

    page.goto("/account/")
    assert page.get_by_text("Wijzigingen hier vragen eerst").first.is_visible()
    page.get_by_label("Naam").first.fill("Telefoon werk")
    page.get_by_role("button", name="Hernoemen").first.click()
    page.wait_for_url(re.compile(r"/2fa/confirm/"))
    screenshot(page, "account-1-step-up")
    page.get_by_role("textbox", name="Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(re.compile(r"/account/$"))
    page.get_by_label("Naam").first.fill("Telefoon werk")
    page.get_by_role("button", name="Hernoemen").first.click()
    assert page.get_by_text("De tweede factor heeft een nieuwe naam").is_visible()

    # Add a security key too, make it the default, and remove the app.
    cdp, authenticator = virtual_authenticator(page, "ctap2")
    page.get_by_role("link", name="Beveiligingssleutel").click()
    page.get_by_label("Naam van de sleutel").fill("YubiKey")
    page.get_by_role("button", name="Sleutel registreren").click()
    page.wait_for_url(re.compile(r"/account/$"))
    page.locator("li", has_text="YubiKey").get_by_role(
        "button", name="Als standaard instellen"
    ).click()
    assert page.locator("li", has_text="YubiKey").get_by_text("standaard", exact=True).is_visible()
    page.locator("li", has_text="Telefoon werk").get_by_role("button", name="Verwijderen").click()
    assert not AuthenticatorApp.objects.filter(user=world.hr).exists()
    # The last factor cannot be removed: there is no button for it.
    assert (
        page.locator("li", has_text="YubiKey").get_by_role("button", name="Verwijderen").count()
        == 0
    )
    screenshot(page, "account-2-key-default")

    log_out(page)
    log_in(page)
    page.wait_for_url(re.compile(r"/2fa/verify/"))
    assert page.get_by_role("button", name="Mijn beveiligingssleutel gebruiken").is_visible()
    assert page.csp_errors == []
