"""The figures page in real Chromium: Chart.js from our static files draws both charts under
the strict CSP (no inline script), and the numbers are in the tables as well."""

from __future__ import annotations

import pytest

from domains.models import RoleAssignment
from tests.browser.conftest import screenshot
from tests.browser.test_master_data import log_in_with_app
from tests.test_reports import worked_example  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_the_figures_page_draws_its_charts_under_the_csp(page, world, worked_example):  # noqa: F811
    RoleAssignment.objects.get(user=world.hr).employers.add(worked_example)
    log_in_with_app(page, world.hr)
    page.goto(f"/reports/?from=2025-01-01&to=2025-03-31&employer={worked_example.key}")
    page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length === 2")
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".map((canvas) => Boolean(window.Chart && window.Chart.getChart(canvas)))"
    )
    assert drawn == [True, True]
    assert "11,07" in page.content()
    screenshot(page, "reports-figures")
    assert page.csp_errors == []
