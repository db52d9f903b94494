"""Retention (issue 14): the tenant's terms per category, legal holds."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import OutboxEvent
from retention.models import DEFAULT_TERMS, Category, RetentionTerm, StartEvent
from retention.selectors import terms_of
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
