"""The SMS cost report: per tenant and employer, per month, at the tenant's price; CSV too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse

from auth2fa.models import SMSMessage
from tests.conftest import verified_login

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def sent(world, employer, when, status=SMSMessage.Status.SENT, tenant=None):
    SMSMessage.unscoped.create(
        tenant=tenant or world.tenant, employer=employer, user=world.hr, purpose="login",
        status=status, sent_at=datetime(*when, tzinfo=AMSTERDAM),
    )  # fmt: skip


def test_counts_and_costs_per_month_and_employer(client, world):
    for _ in range(3):
        sent(world, world.employer, (2026, 3, 5, 9))
    sent(world, world.employer_b, (2026, 3, 31, 23, 30))  # still March in Amsterdam
    sent(world, None, (2026, 4, 1, 8))
    sent(world, world.employer, (2026, 4, 2, 8), status=SMSMessage.Status.FAILED)  # not charged
    sent(world, world.employer, (2025, 12, 31, 8))  # another year
    sent(world, world.other_employer, (2026, 3, 5, 9), tenant=world.other_tenant)
    verified_login(client, world.beheer)
    response = client.get(reverse("domains:sms_costs") + "?year=2026")
    report = response.context["report"]
    rows = [(r["month"].month, r["employer"], r["count"], str(r["cost"])) for r in report["rows"]]
    assert rows == [
        (3, "Werkgever A", 3, "0.24"), (3, "Werkgever B", 1, "0.08"), (4, None, 1, "0.08"),
    ]  # fmt: skip
    assert report["count"] == 5 and str(report["cost"]) == "0.40"
    page = response.content.decode()
    assert "Werkgever Z" not in page and "maart 2026" in page


def test_the_price_is_the_tenants(client, world):
    world.tenant.sms_price_cents = 12
    world.tenant.save()
    sent(world, world.employer, (2026, 5, 1, 12))
    verified_login(client, world.beheer)
    report = client.get(reverse("domains:sms_costs") + "?year=2026").context["report"]
    assert str(report["cost"]) == "0.12"


def test_csv_export(client, world):
    sent(world, world.employer, (2026, 3, 5, 9))
    sent(world, world.employer, (2026, 3, 6, 9))
    verified_login(client, world.beheer)
    response = client.get(reverse("domains:sms_costs_csv") + "?year=2026")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Maand;Werkgever;Aantal sms'jes;Kosten (EUR)"
    assert lines[1] == "2026-03;Werkgever A;2;0,16"
    assert lines[-1] == "Totaal;;2;0,16"


def test_only_functional_admins_see_it(client, world):
    verified_login(client, world.hr)
    assert client.get(reverse("domains:sms_costs")).status_code == 403
