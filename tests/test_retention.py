"""Retention (issue 14): the tenant's terms per category, legal holds, the nightly scan."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import OutboxEvent
from cases.models import (
    AbsenceCase,
    AbsencePeriod,
    CaseDocument,
    MedicalDocument,
    MedicalNote,
    Milestone,
)
from domains.models import Employer
from employees.models import Employee
from retention.models import (
    DEFAULT_TERMS,
    Category,
    LegalHold,
    RetentionDue,
    RetentionTerm,
    StartEvent,
    Term,
)
from retention.scan import scan_all_tenants, scan_tenant
from retention.selectors import terms_of
from retention.services import lift_hold, place_hold, save_terms
from tests.conftest import make_employee, report_sick, verified_login


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
    assert [terms[c].years for c in Category.values] == [2, 2, 5, 10, 20, 2, 1]
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


# --- 3. the nightly scan ------------------------------------------------------------------------


def due_of(employee) -> dict[str, RetentionDue]:
    return {row.category: row for row in RetentionDue.objects.filter(employee=employee)}


def leaver(world, *, left: date, sick: date, recovered: date, employer=None, **fields):
    person = make_employee(
        employer or world.employer, employment_start=date(2000, 1, 1), employment_end=left,
        **fields,
    )  # fmt: skip
    report_sick(person, sick, recovered_on=recovered)
    return person


def test_the_scan_dates_a_leavers_absence_data_two_years_after_employment_ends(world):
    person = leaver(
        world, left=date(2022, 3, 31), sick=date(2021, 5, 3), recovered=date(2021, 6, 1)
    )
    scan_tenant(world.tenant, today=date(2026, 11, 30))
    due = due_of(person)
    assert set(due) == {"absence", "master_data"}
    assert due["absence"].started_on == date(2022, 3, 31)
    assert due["absence"].deletable_on == date(2024, 3, 31)
    assert due["master_data"].deletable_on == date(2024, 3, 31)
    assert not due["absence"].on_hold


def test_nothing_is_deletable_while_employed_or_while_a_case_is_open(world):
    scan_tenant(world.tenant, today=date(2026, 11, 30))
    employed = due_of(world.employee)  # employed, with an open case
    assert employed["absence"].deletable_on is None
    assert employed["master_data"].deletable_on is None
    assert set(due_of(world.healthy)) == {"master_data"}  # no case: no absence data


def test_erd_zw_data_keeps_the_case_data_five_years_after_recovery(world):
    erd = Employer.objects.create(tenant=world.tenant, name="ERD BV", own_risk_zw=True)
    person = leaver(
        world, employer=erd, left=date(2021, 12, 31), sick=date(2021, 9, 1),
        recovered=date(2021, 10, 1),
    )  # fmt: skip
    scan_tenant(world.tenant, today=date(2026, 11, 30))
    due = due_of(person)
    assert due["erd_zw"].started_on == date(2021, 10, 1)
    # The cases are one set of rows: absence data goes with the ERD-ZW term, the latest.
    assert due["absence"].deletable_on == due["erd_zw"].deletable_on == date(2026, 10, 1)
    assert due["master_data"].deletable_on == date(2026, 10, 1)


def test_wga_data_applies_after_104_weeks_at_an_own_risk_bearer_for_the_wga(world):
    wga = Employer.objects.create(tenant=world.tenant, name="WGA BV", own_risk_wga=True)
    short = leaver(
        world, employer=wga, left=date(2020, 1, 31), sick=date(2019, 1, 1),
        recovered=date(2019, 2, 1),
    )  # fmt: skip
    long = leaver(
        world, employer=wga, left=date(2020, 1, 31), sick=date(2016, 1, 1),
        recovered=date(2018, 3, 1),
    )  # fmt: skip
    scan_tenant(world.tenant, today=date(2026, 11, 30))
    assert "wga" not in due_of(short)
    assert due_of(long)["wga"].deletable_on == date(2028, 3, 1)
    assert due_of(long)["absence"].deletable_on == date(2028, 3, 1)


def test_the_medical_file_runs_twenty_years_from_its_last_change(world):
    person = leaver(
        world, left=date(2003, 1, 31), sick=date(2002, 1, 1), recovered=date(2002, 3, 1)
    )
    case = person.absence_cases.get()
    note = MedicalNote.objects.create(tenant=world.tenant, case=case, text="x", author=world.hr)
    MedicalNote.objects.filter(pk=note.pk).update(created_at=datetime(2004, 5, 6, 12, tzinfo=UTC))
    scan_tenant(world.tenant, today=date(2026, 11, 30))
    due = due_of(person)
    assert due["medical"].started_on == date(2004, 5, 6)
    assert due["medical"].deletable_on == date(2024, 5, 6)
    assert due["absence"].deletable_on == date(2005, 1, 31)
    assert due["master_data"].deletable_on == date(2024, 5, 6)  # the employee row goes last


def test_a_tenants_own_term_is_used(world):
    person = leaver(
        world, left=date(2022, 3, 31), sick=date(2021, 5, 3), recovered=date(2021, 6, 1)
    )
    save_terms(tenant=world.tenant, terms=[Term("absence", 1, "recovery")])
    scan_tenant(world.tenant, today=date(2026, 11, 30))
    assert due_of(person)["absence"].deletable_on == date(2022, 6, 1)


def test_an_active_hold_marks_the_employee_and_an_ended_one_does_not(world):
    person = leaver(
        world, left=date(2022, 3, 31), sick=date(2021, 5, 3), recovered=date(2021, 6, 1)
    )
    hold = place_hold(
        employee=person, by=world.hr, reason="labour_conflict", ends_on=date(2099, 1, 1),
        case=person.absence_cases.get(),
    )  # fmt: skip
    scan_tenant(world.tenant)
    assert all(row.on_hold for row in due_of(person).values())
    lift_hold(hold=hold, by=world.hr)
    scan_tenant(world.tenant)
    assert not any(row.on_hold for row in due_of(person).values())


def test_the_scan_only_marks_and_touches_no_other_tenant(world):
    leaver(world, left=date(2022, 3, 31), sick=date(2021, 5, 3), recovered=date(2021, 6, 1))
    counted = (Employee, AbsenceCase, AbsencePeriod, MedicalDocument, CaseDocument, Milestone)
    before = [model.objects.count() for model in counted]
    scan_all_tenants()
    assert [model.objects.count() for model in counted] == before
    assert RetentionDue.objects.filter(tenant=world.other_tenant).exists()
    scan_tenant(world.tenant)
    assert RetentionDue.objects.filter(tenant=world.other_tenant).exists()


def test_the_scan_is_a_nightly_beat_entry(settings):
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "retention.tasks.scan_all_tenants" in entries
    from verzuim.celery import app

    app.loader.import_default_modules()
    assert "retention.tasks.scan_all_tenants" in app.tasks


def test_the_scans_query_count_does_not_grow_with_the_data(world):
    with CaptureQueriesContext(connection) as small:
        scan_tenant(world.tenant)
    people = [
        leaver(world, left=date(2022, 3, 31), sick=date(2021, 5, 3), recovered=date(2021, 6, 1))
        for _ in range(20)
    ]
    with CaptureQueriesContext(connection) as large:
        stored = scan_tenant(world.tenant)
    assert len(large) == len(small)
    assert stored >= 2 * len(people)


# --- 4. the overview ----------------------------------------------------------------------------


def overview(client, **params):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client.get(reverse("retention:overview"), params)


def with_medical_file(world, person, when=datetime(2004, 5, 6, 12, tzinfo=UTC)):
    case = person.absence_cases.get()
    note = MedicalNote.objects.create(tenant=world.tenant, case=case, text="x", author=world.hr)
    MedicalNote.objects.filter(pk=note.pk).update(created_at=when)


def test_hr_sees_employees_past_their_term_by_key_without_names_nor_the_medical_file(client, world):
    person = leaver(
        world, left=date(2003, 1, 31), sick=date(2002, 1, 1), recovered=date(2002, 3, 1),
        surname="Vertrokken", department=world.kantoor,
    )  # fmt: skip
    with_medical_file(world, person)
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    page = overview(client).content.decode()
    assert str(person.key)[:8] in page
    assert "Vertrokken" not in page
    assert "Absence and re-integration data" in page and "Medical file" not in page
    assert str(world.employee.key)[:8] not in page  # employed: nothing past
    detail = client.get(reverse("retention:employee", kwargs={"key": person.key}))
    text = detail.content.decode()
    assert "Vertrokken" in text and "31 January 2005" in text and "Medical file" not in text


def test_the_company_doctor_sees_only_the_medical_file(client, world):
    person = leaver(
        world, left=date(2003, 1, 31), sick=date(2002, 1, 1), recovered=date(2002, 3, 1)
    )
    with_medical_file(world, person)
    scan_tenant(world.tenant)
    verified_login(client, world.bedrijfsarts)
    page = overview(client).content.decode()
    assert "Medical file" in page and "Absence and re-integration data" not in page
    detail = client.get(reverse("retention:employee", kwargs={"key": person.key}))
    assert "6 May 2024" in detail.content.decode()


def test_the_overview_filters_by_employer_department_category_and_how_long_past(client, world):
    old = leaver(
        world, left=date(2010, 1, 31), sick=date(2009, 1, 1), recovered=date(2009, 3, 1),
        department=world.inpak,
    )  # fmt: skip
    recent = leaver(
        world, employer=world.employer_b, left=date(2025, 6, 30), sick=date(2025, 1, 1),
        recovered=date(2025, 3, 1),
    )  # fmt: skip
    scan_tenant(world.tenant, today=date(2026, 11, 30))
    verified_login(client, world.hr)

    def keys(**params):
        rows = overview(client, **params).context["page"].object_list
        return {row.employee_id for row in rows}

    assert keys() == {old.pk}  # the recent leaver's term ends on 30 June 2027
    RetentionDue.objects.filter(employee=recent).update(deletable_on=date(2026, 11, 1))
    assert keys() == {old.pk, recent.pk}
    assert keys(employer=world.employer_b.pk) == {recent.pk}
    assert keys(department=world.department.pk) == {old.pk}  # Inpak is under Productie
    assert keys(category="master_data", past="365") == {old.pk}


def test_the_overview_costs_the_same_queries_for_many_rows(client, world):
    leaver(world, left=date(2010, 1, 31), sick=date(2009, 1, 1), recovered=date(2009, 3, 1))
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    overview(client)
    with CaptureQueriesContext(connection) as few:
        overview(client)
    for _ in range(15):
        leaver(world, left=date(2010, 1, 31), sick=date(2009, 1, 1), recovered=date(2009, 3, 1))
    scan_tenant(world.tenant)
    with CaptureQueriesContext(connection) as many:
        response = overview(client)
    assert response.context["page"].paginator.count == 32
    assert len(many) == len(few)


def test_the_detail_shows_an_active_hold(client, world):
    person = leaver(
        world, left=date(2010, 1, 31), sick=date(2009, 1, 1), recovered=date(2009, 3, 1)
    )
    place_hold(employee=person, by=world.hr, reason="benefit_dispute", ends_on=date(2099, 1, 1))
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    overview(client)
    page = client.get(reverse("retention:employee", kwargs={"key": person.key})).content.decode()
    assert "Legal hold (Dispute about a benefit) until 1 January 2099" in page
    assert "Deletion suspended" in page
