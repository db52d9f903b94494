"""The first login of a demo persona, in a real browser: password, wizard, recovery code."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_first_login_walks_through_the_wizard_to_the_dashboard(page, world):
    page.goto("/employees/")
    assert "/login/" in page.url

    page.get_by_label("E-mailadres").fill("hr@a.test")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Volgende").click()

    page.wait_for_url(re.compile(r"/2fa/setup/\?next="))
    assert page.get_by_role("heading", name="Tweestapsverificatie instellen").is_visible()
    assert "e-mail" not in page.locator(".choices").inner_text().lower()
    screenshot(page, "1-enrol")
    page.get_by_role("link", name="Authenticator-app").click()

    page.wait_for_url(re.compile(r"/2fa/setup/app/$"))
    assert page.locator(".qr svg").is_visible()
    secret = page.locator("#totp-secret").inner_text()
    screenshot(page, "2-totp")
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Bevestigen").click()

    page.wait_for_url(re.compile(r"/2fa/recovery-code/$"))
    code = page.locator("#recovery-code").inner_text()
    assert len(code.replace("-", "")) == 20
    screenshot(page, "3-recovery")
    page.get_by_role("link", name="Ik heb hem bewaard, verder").click()

    page.wait_for_url(re.compile(r"/employees/$"))
    assert page.get_by_role("link", name="Jansen, Test").is_visible()
    whoami = page.locator(".whoami").inner_text()
    assert world.tenant.name in whoami and "HR-medewerker" in whoami
    screenshot(page, "4-employees")

    # Log out and back in: this time the app's code is asked for, and a replayed code refused.
    page.get_by_role("button", name="Uitloggen").first.click()
    page.goto("/")
    page.get_by_label("E-mailadres").fill("hr@a.test")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url(re.compile(r"/2fa/verify/"))
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Controleren").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))
    assert page.get_by_role("heading", name="Welkom, Test").is_visible()
    screenshot(page, "5-dashboard")
    assert page.csp_errors == []
