"""Retention in real Chromium: HR selects leavers past their term on the overview (select all,
static JS), is asked for a fresh second factor before the review, types the confirmation, and
the deletion runs and leaves its report."""

from __future__ import annotations

import base64
import re
import time
from importlib import import_module

import pyotp
import pytest
from django.conf import settings
from playwright.sync_api import expect

from auth2fa.models import AuthenticatorApp
from auth2fa.stepup import SESSION_VERIFIED_AT
from employees.models import Employee
from retention.models import DeletionRequest, DeletionStatus
from retention.scan import scan_tenant
from tests.browser.conftest import screenshot
from tests.browser.test_master_data import log_in_with_app
from tests.test_retention_deletion import leaver

pytestmark = pytest.mark.browser


def make_second_factor_stale(page) -> None:
    """As if the sign-in was an hour ago: the next sensitive step asks for a fresh code."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(cookie["value"])
    session[SESSION_VERIFIED_AT] = time.time() - 3600
    session.save()


def test_hr_bulk_deletes_leavers_with_a_fresh_second_factor_and_typed_confirmation(page, world):
    first, _case = leaver(world, surname="Vertrokken")
    second, _case = leaver(world, surname="Weggegaan")
    scan_tenant(world.tenant)
    log_in_with_app(page, world.hr)
    make_second_factor_stale(page)

    page.goto("/retention/")
    selection = page.locator("form#selection")
    boxes = selection.locator("input[name=due]")
    expect(boxes.first).to_be_visible()
    selection.locator("[data-check-all=due]").check()  # app.js ticks every row
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    selection.locator("button[type=submit]").click()

    # The review needs a fresh second factor: the step-up page, then back to the review.
    page.wait_for_url(re.compile(r"/2fa/"))
    device = AuthenticatorApp.objects.get(user=world.hr)
    secret = base64.b32encode(device.bin_key).decode()
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(re.compile(r"/retention/review/"))
    expect(page.locator('[data-count="employees"]')).to_have_text("2")
    expect(page.locator('[data-count="cases"]')).to_have_text("2")
    expect(page.locator('[data-count="documents"]')).to_have_text("2")
    assert "Vertrokken" not in page.content()  # counts, no names
    screenshot(page, "retention-review")

    typed = page.locator("input[name=typed]")
    typed.fill("ja")  # a wrong confirmation deletes nothing
    page.locator("form:has(input[name=typed]) button[type=submit]").click()
    expect(page.locator(".alert--error, .field--error").first).to_be_visible()
    assert Employee.objects.filter(pk__in=[first.pk, second.pk]).count() == 2

    phrase = page.locator("strong").filter(has_text=re.compile(r"\d$")).first.inner_text()
    page.locator("input[name=typed]").fill(phrase)
    page.locator("form:has(input[name=typed]) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/retention/deletions/[0-9a-f-]{36}/$"))
    expect(page.locator('[data-count="deleted"]')).to_have_text("2")
    screenshot(page, "retention-deleted")

    request = DeletionRequest.objects.get(tenant=world.tenant)
    assert request.status == DeletionStatus.DONE
    assert not Employee.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert Employee.objects.filter(pk=world.employee.pk).exists()
    assert page.csp_errors == []
