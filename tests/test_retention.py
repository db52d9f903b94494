"""Retention (issue 14): the tenant's terms per category, legal holds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import OutboxEvent
from retention.models import DEFAULT_TERMS, Category, LegalHold, RetentionTerm, StartEvent
from retention.selectors import terms_of
from retention.services import place_hold
from tests.conftest import verified_login


def policy_post(**overrides):
    data = {}
    for category, term in DEFAULT_TERMS.items():
        data[f"{category}_years"] = term.years
        data[f"{category}_start"] = term.start_event
    data.update(overrides)
    return data


# --- 1. the policy ------------------------------------------------------------------------------


def test_a_tenant_without_own_terms_has_the_legal_defaults(world):
    terms = terms_of(world.tenant)
    assert [terms[c].years for c in Category.values] == [2, 2, 5, 10, 20, 2]
    assert terms[Category.MEDICAL].start_event == StartEvent.LAST_CHANGE
    assert terms[Category.ABSENCE].start_event == StartEvent.EMPLOYMENT_END
    assert terms[Category.ERD_ZW].start_event == StartEvent.RECOVERY


def test_the_functional_admin_sees_every_category_with_its_term(client, world):
    verified_login(client, world.beheer)
    page = client.get(reverse("retention:policy")).content.decode()
    for category in Category:
        assert str(category.label) in page or category.label.__html__() in page


def test_the_functional_admin_changes_a_term_and_the_change_is_audited(client, world):
    verified_login(client, world.beheer)
    before = set(OutboxEvent.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("retention:policy"), policy_post(wga_years=12, wga_start="employment_end")
    )
    assert response.status_code == 302
    terms = terms_of(world.tenant)
    assert (terms[Category.WGA].years, terms[Category.WGA].start_event) == (12, "employment_end")
    assert RetentionTerm.objects.filter(tenant=world.tenant).count() == 1  # only the change
    events = [row.payload["event_type"] for row in OutboxEvent.objects.exclude(pk__in=before)]
    assert events == ["retention.retentionterm.create"]


def test_the_other_tenant_keeps_its_own_terms(client, world):
    verified_login(client, world.beheer)
    client.post(reverse("retention:policy"), policy_post(wga_years=12))
    assert terms_of(world.other_tenant)[Category.WGA].years == 10


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("medical_years", 15),  # art. 7:454 BW: 20 years since 2020, the seed's 15 is outdated
        ("erd_zw_years", 4),  # the ERD-ZW regulation: at least 5 years
        ("absence_years", 3),  # the AP: at most 2 years (longer only under a hold)
        ("medical_start", "employment_end"),  # the medical file counts from its last change
        ("master_data_start", "recovery"),
    ],
)
def test_a_term_the_law_does_not_allow_is_refused(client, world, field, value):
    verified_login(client, world.beheer)
    response = client.post(reverse("retention:policy"), policy_post(**{field: value}))
    assert response.status_code == 200
    assert not RetentionTerm.objects.filter(tenant=world.tenant).exists()


def test_only_functional_admins_set_the_terms(client, world):
    verified_login(client, world.hr)
    assert client.post(reverse("retention:policy"), policy_post(wga_years=12)).status_code == 403
    assert not RetentionTerm.objects.filter(tenant=world.tenant).exists()


# --- 2. legal holds -----------------------------------------------------------------------------


def test_hr_places_a_hold_on_a_case_and_it_is_audited(client, world):
    verified_login(client, world.hr)
    before = set(OutboxEvent.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("retention:holds", kwargs={"key": world.employee.key}),
        {"case": world.case.pk, "reason": "wage_sanction", "ends_on": "2099-06-30"},
    )
    assert response.status_code == 302
    hold = LegalHold.objects.get(employee=world.employee)
    assert (hold.case, hold.reason, hold.placed_by) == (world.case, "wage_sanction", world.hr)
    assert hold.is_active()
    events = [row.payload for row in OutboxEvent.objects.exclude(pk__in=before)]
    assert [e["event_type"] for e in events] == ["retention.legalhold.create"]
    assert events[0]["subject_key"] == str(world.employee.key)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("retention:holds", kwargs={"key": world.employee.key}))
    assert "Active: deletion suspended" in page.content.decode()


def test_a_hold_cannot_end_in_the_past_nor_name_another_employees_case(client, world):
    verified_login(client, world.hr)
    url = reverse("retention:holds", kwargs={"key": world.employee.key})
    past = client.post(url, {"reason": "labour_conflict", "ends_on": "2020-01-01"})
    other = client.post(
        url, {"case": world.other_case.pk, "reason": "labour_conflict", "ends_on": "2099-01-01"}
    )
    assert past.status_code == other.status_code == 400
    assert not LegalHold.objects.filter(employee=world.employee).exists()


def test_lifting_a_hold_asks_first_and_keeps_the_record(client, world):
    hold = place_hold(
        employee=world.employee, by=world.hr, reason="benefit_dispute",
        ends_on=date(2099, 1, 1),
    )  # fmt: skip
    verified_login(client, world.hr)
    url = reverse("retention:hold_lift", kwargs={"key": hold.key})
    assert client.get(url).status_code == 200
    hold.refresh_from_db()
    assert hold.is_active()
    assert client.post(url).status_code == 302
    hold.refresh_from_db()
    assert not hold.is_active() and hold.lifted_by == world.hr


def test_a_hold_past_its_end_date_no_longer_suspends_deletion(world):
    hold = place_hold(
        employee=world.employee, by=world.hr, reason="benefit_dispute",
        ends_on=timezone.localdate(),
    )  # fmt: skip
    assert hold.is_active()
    assert not hold.is_active(today=timezone.localdate() + timedelta(days=1))
    active = LegalHold.objects.filter(LegalHold.active_condition())
    assert list(active) == [hold]


def test_a_manager_without_the_retention_right_cannot_place_a_hold(client, world):
    verified_login(client, world.manager)
    response = client.post(
        reverse("retention:holds", kwargs={"key": world.employee.key}),
        {"reason": "labour_conflict", "ends_on": "2099-01-01"},
    )
    assert response.status_code == 403
    assert not LegalHold.objects.exists()


def test_the_reference_roles_carry_the_retention_rights(world):
    assert "retention.manage" in world.roles["hr"].permissions
    assert "retention.medical" in world.roles["bedrijfsarts"].permissions
    assert "retention.manage" not in world.roles["leidinggevende"].permissions


def test_the_retention_rights_stay_within_their_domains():
    from domains.permissions import DOMAIN_CEILINGS, MEDICAL_PERMISSIONS, Domain, Perm

    assert Perm.RETENTION_MEDICAL in MEDICAL_PERMISSIONS
    holders = [d for d, ceiling in DOMAIN_CEILINGS.items() if Perm.RETENTION_MEDICAL in ceiling]
    assert holders == [Domain.BEDRIJFSARTS]
    assert [d for d, c in DOMAIN_CEILINGS.items() if Perm.RETENTION_MANAGE in c] == [
        Domain.WERKGEVER
    ]


def test_the_migration_gives_existing_reference_roles_the_retention_rights(world):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("domains.migrations.0011_retention_permissions")
    hr, doctor = world.roles["hr"], world.roles["bedrijfsarts"]
    for role, perm in ((hr, "retention.manage"), (doctor, "retention.medical")):
        role.permissions = [p for p in role.permissions if p != perm]
        role.save(update_fields=["permissions"])
    migration.add_retention_rights(apps, None)
    hr.refresh_from_db()
    doctor.refresh_from_db()
    assert "retention.manage" in hr.permissions
    assert "retention.medical" in doctor.permissions
