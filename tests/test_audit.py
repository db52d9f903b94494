"""The audit trail: what is recorded, that it holds no personal data, that nothing is lost, that
it is append-only and tamper-evident, and that only auditors get it, as an approved export."""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connections, transaction
from django.urls import reverse
from django.utils import timezone

from audit import events
from audit.chain import verify_chain, write_events
from audit.models import AuditEvent, AuditExport, ExportStatus, OutboxEvent
from audit.router import AUDIT_DB
from audit.tasks import drain_outbox
from tests.conftest import PASSWORD, make_employee, search, verified_login
from tests.test_permission_matrix import MATRIX, PERSONAS

RECORDS = AuditEvent.objects.using(AUDIT_DB)


def shipped() -> list[AuditEvent]:
    """Everything recorded so far, with the outbox drained as Celery would."""
    drain_outbox()
    return list(RECORDS.order_by("tenant_key", "sequence"))


def new_records(since: int) -> list[AuditEvent]:
    drain_outbox()
    return list(RECORDS.filter(pk__gt=since).order_by("pk"))


def last_pk() -> int:
    return RECORDS.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- what a record holds ---------------------------------------------------------------------


def test_a_page_view_is_recorded_with_the_nen_7513_fields(client, world):
    verified_login(client, world.hr)
    since = last_pk()
    client.get(
        reverse("employees:detail", kwargs={"key": world.employee.key}), REMOTE_ADDR="198.51.100.4"
    )
    (record,) = [r for r in new_records(since) if r.event_type == "employee.view"]
    assert record.action == "R" and record.outcome == "success"
    assert record.actor_key == world.hr.key and record.actor_domain == "werkgever"
    assert record.actor_roles == "HR-medewerker" and record.actor_account_type == "member"
    assert record.tenant_key == world.tenant.key
    assert record.object_type == "employees.employee" and record.object_key == world.employee.key
    assert record.subject_key == world.employee.key
    assert record.client_ip == "198.51.100.4" and uuid.UUID(record.request_id)
    assert len(record.hash) == 64 and record.sequence >= 1


def test_a_change_records_the_names_of_changed_fields_only(world):
    since = last_pk()
    employee = world.employee
    employee.postcode, employee.bsn = "9999ZZ", "123456782"
    employee.save()
    (record,) = [r for r in new_records(since) if r.event_type == "employees.employee.update"]
    assert record.action == "U"
    assert record.changed_fields == ["bsn", "postcode"]
    assert record.subject_key == employee.key


def test_a_second_factors_secret_never_reaches_the_audit_store(client, world):
    device = verified_login(client, world.hr)
    device.name = "telefoon"
    device.save()
    write_events([row.payload for row in OutboxEvent.objects.all()])
    dump = repr(list(RECORDS.values_list()))
    assert device.bin_key.hex() not in dump
    assert base64.b32encode(device.bin_key).decode().rstrip("=") not in dump


def test_activating_medical_access_is_recorded(world):
    from domains import services as domain_services
    from domains.models import AssignmentStatus, BigCheckStatus, BigRegistration
    from tests.conftest import make_user

    doctor = make_user(world.tenant, "arts2@a.test")
    assignment = domain_services.assign_role(
        user=doctor, role=world.roles["bedrijfsarts"], provider=world.arbo, by=world.beheer
    )
    BigRegistration.objects.create(
        tenant=world.tenant, user=doctor, big_number="19012345601", status=BigCheckStatus.VERIFIED
    )
    since = last_pk()
    domain_services.approve_assignment(assignment=assignment, by=world.beheer2)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ACTIVE
    changes = [r for r in new_records(since) if r.event_type == "domains.roleassignment.update"]
    assert any(r.changed_fields == ["status"] and r.object_key == assignment.key for r in changes)


def test_a_search_records_that_it_ran_and_how_many_it_found_never_the_terms(client, world):
    verified_login(client, world.hr)
    since = last_pk()
    search(client, {"surname": "Jansen"})
    (record,) = [r for r in new_records(since) if r.event_type == "employee.search"]
    assert record.result_count == 1
    assert "Jansen" not in json.dumps(
        [str(getattr(record, f.name)) for f in AuditEvent._meta.fields]
    )


def test_logins_and_failures_are_recorded_by_account_key_not_address(client, world):
    since = last_pk()
    client.post(reverse("auth2fa:login"), {"username": "hr@a.test", "password": "wrong password!"})
    client.post(reverse("auth2fa:login"), {"username": "hr@a.test", "password": PASSWORD})
    logins = [r for r in new_records(since) if r.event_type == "login.password"]
    assert [(r.outcome, r.actor_key) for r in logins] == [
        ("failure", world.hr.key),
        ("success", world.hr.key),
    ]


def test_second_factor_events_are_recorded(client, world):
    import base64

    import pyotp

    device = verified_login(client, world.hr)
    client.logout()
    client.post(reverse("auth2fa:login"), {"username": "hr@a.test", "password": PASSWORD})
    since = last_pk()
    client.post(reverse("auth2fa:verify"), {"token": "000000"})
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    client.post(
        reverse("auth2fa:verify"),
        {"token": pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()},
    )
    outcomes = [r.outcome for r in new_records(since) if r.event_type == "2fa.verify"]
    assert outcomes == ["failure", "success"]


# --- every personal-data view is recorded (walk the URL conf) --------------------------------

NO_PERSONAL_DATA = {
    "health", "auth2fa:login", "auth2fa:password_reset", "auth2fa:password_reset_done",
    "auth2fa:password_reset_confirm", "auth2fa:password_reset_complete", "auth2fa:enrol",
    "auth2fa:enrol_totp", "auth2fa:enrol_sms", "auth2fa:enrol_key", "auth2fa:recovery_code",
    "auth2fa:step_up", "auth2fa:password_change", "auth2fa:account",
    "domains:role_list",
    "domains:role_create", "domains:role_edit", "domains:role_compare", "domains:role_matrix",
    "domains:provider_list", "domains:tenant_settings", "audit:export_list",
    "domains:role_remove", "domains:role_archive", "domains:employer_list",
    "domains:employer_create", "domains:employer_edit", "domains:department_list",
    "domains:department_detail", "domains:department_close", "domains:contract_edit",
    "domains:contract_end", "employees:create", "retention:policy", "imports:upload",
    "imports:template_csv", "imports:template_xlsx", "imports:progress",
}  # fmt: skip
VIEWS = [
    (name, persona)
    for name, entry in MATRIX.items()
    if entry.method == "get" and name not in NO_PERSONAL_DATA
    for persona in PERSONAS
    if entry.code(persona, "own") == 200
]


@pytest.mark.parametrize(("name", "persona"), VIEWS, ids=[f"{n}-{p}" for n, p in VIEWS])
def test_every_personal_data_view_is_recorded(client, world, name, persona):
    entry = MATRIX[name]
    user = getattr(world, persona)
    verified_login(client, user)
    since = last_pk()
    kwargs = entry.kwargs(world, "own") if entry.kwargs else {}
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200
    reads = [r for r in new_records(since) if r.actor_key == user.key and r.action in "RE"]
    assert reads, f"{name} showed data to {persona} without an audit event"


def test_the_list_of_views_without_personal_data_names_real_routes():
    assert set(MATRIX) >= NO_PERSONAL_DATA


# --- no personal data in the audit store -----------------------------------------------------

RECOGNISABLE = [
    "Zwaantje", "Verzuimvogel", "123456782", "1961-07-23", "23-07-1961", "hernia", "Knieletsel",
    "geheim-verslag", "zoekterm", "0699887766", "Koekoeklaan",
]  # fmt: skip


def test_the_audit_store_holds_no_personal_data(client, world):
    from datetime import date

    from django.core.files.uploadedfile import SimpleUploadedFile

    person = make_employee(
        world.employer, first_name="Zwaantje", surname="Verzuimvogel", bsn="123456782",
        birth_date=date(1961, 7, 23), department=world.department,
    )  # fmt: skip
    verified_login(client, world.hr)
    client.post(
        reverse("cases:report_sick", kwargs={"key": person.key}),
        {"case_type": "sickness", "first_sick_day": timezone.localdate(),
         "expected_duration": "days", "contact_phone": "0699887766",
         "contact_address": "Koekoeklaan 1"},
    )  # fmt: skip
    case = person.absence_cases.get()
    client.post(
        reverse("cases:add_note", kwargs={"key": case.key}), {"text": "Gesprek over Koekoeklaan"}
    )
    search(client, {"surname": "zoekterm"})
    search(client, {"surname": "Verzuimvogel"})
    client.get(reverse("employees:detail", kwargs={"key": person.key}))
    client.get(reverse("cases:detail", kwargs={"key": case.key}))
    client.logout()
    verified_login(client, world.bedrijfsarts)
    client.post(reverse("cases:medical", kwargs={"key": case.key}), {"text": "hernia, Knieletsel"})
    client.post(
        reverse("cases:add_medical_document", kwargs={"key": case.key}),
        {
            "title": "Knieletsel",
            "file": SimpleUploadedFile("geheim-verslag.pdf", b"%PDF-1.4 hernia"),
        },
    )
    client.get(reverse("cases:medical", kwargs={"key": case.key}))
    for name, entry in MATRIX.items():  # and every other page, as the doctor
        if entry.method == "get":
            client.get(reverse(name, kwargs=entry.kwargs(world, "own") if entry.kwargs else {}))
    records = shipped()
    assert len(records) > 30
    with connections[AUDIT_DB].cursor() as cursor:
        cursor.execute("SELECT * FROM audit_auditevent")
        dump = repr(cursor.fetchall())
    hits = [value for value in RECOGNISABLE if value.lower() in dump.lower()]
    assert hits == [], f"personal data in the audit store: {hits}"


# --- nothing lost --------------------------------------------------------------------------


def test_a_change_and_its_event_commit_together(world):
    before = OutboxEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_employee(world.employer, surname="Teruggedraaid")
        assert OutboxEvent.objects.count() > before
        raise RuntimeError
    assert OutboxEvent.objects.count() == before  # rolled back together


def test_a_views_events_are_in_the_outbox_before_the_response_whatever_the_broker_does(
    client, world, monkeypatch
):
    from audit import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    verified_login(client, world.hr)
    monkeypatch.setattr(tasks.drain_outbox, "apply_async", broker_down)
    response = client.get(reverse("employees:detail", kwargs={"key": world.employee.key}))
    assert response.status_code == 200
    waiting = [row.payload["event_type"] for row in OutboxEvent.objects.all()]
    assert "employee.view" in waiting
    monkeypatch.undo()
    since = last_pk()
    assert "employee.view" in [r.event_type for r in new_records(since)]  # drained when woken
    assert not OutboxEvent.objects.exists()


def test_when_the_database_cannot_take_a_pages_events_the_page_is_503(client, world):
    verified_login(client, world.hr)
    with connections["default"].cursor() as cursor:
        # The main database refuses the outbox row, as a full disk would (SQLSTATE 53100); it
        # goes with the test's transaction.
        cursor.execute(REFUSE_OUTBOX_ROWS)
    response = client.get(reverse("employees:detail", kwargs={"key": world.employee.key}))
    assert response.status_code == 503
    assert "Jansen" not in response.content.decode()


REFUSE_OUTBOX_ROWS = """
CREATE FUNCTION audit_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100';
END $$;
CREATE TRIGGER audit_test_disk_full BEFORE INSERT ON audit_outboxevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_test_disk_full();
"""


def test_writing_is_idempotent(world):
    event = events.build_event("test.event", "E", tenant=world.tenant)
    assert write_events([event, event]) == 1
    assert write_events([event]) == 0
    assert RECORDS.filter(event_id=event["event_id"]).count() == 1


# --- append-only and tamper-evident ----------------------------------------------------------


@pytest.fixture
def chain(world):
    batch = [events.build_event(f"test.{n}", "E", tenant=world.tenant) for n in range(5)]
    write_events(batch)
    return RECORDS.filter(tenant_key=world.tenant.key).order_by("sequence")


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_auditevent SET outcome = 'failure'", "DELETE FROM audit_auditevent",
     "TRUNCATE audit_auditevent"],
    ids=["update", "delete", "truncate"],
)  # fmt: skip
def test_the_audit_store_is_append_only(chain, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(using=AUDIT_DB),
        connections[AUDIT_DB].cursor() as cursor,
    ):
        cursor.execute(statement)


def tamper(sql: str, params=()) -> None:
    """What an attacker with the database owner's rights could do: switch the guard off."""
    with connections[AUDIT_DB].cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_no_update_or_delete")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_no_update_or_delete")


def run_verify() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def test_audit_verify_passes_an_intact_chain(chain):
    assert run_verify()[0] == 0 and verify_chain(chain.first().tenant_key) is None


def test_audit_verify_catches_an_edited_record(chain):
    third = chain[2]
    tamper("UPDATE audit_auditevent SET outcome = 'failure' WHERE id = %s", [third.pk])
    code, out = run_verify()
    assert code == 1 and "record 3: content changed" in out


def test_audit_verify_catches_a_deleted_record(chain):
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [chain[1].pk])
    code, out = run_verify()
    assert code == 1 and "record 2: missing" in out


def test_audit_verify_catches_an_inserted_record(chain, world):
    last = chain.last()
    forged = events.build_event("forged.event", "R", tenant=world.tenant)
    RECORDS.create(
        **{k: v for k, v in forged.items() if k not in {"occurred_at", "changed_fields"}},
        occurred_at=timezone.now(), changed_fields=[], sequence=last.sequence + 1,
        prev_hash="f" * 64, hash="e" * 64,
    )  # fmt: skip
    code, out = run_verify()
    assert code == 1 and f"record {last.sequence + 1}: does not follow" in out


# --- exports for auditors ---------------------------------------------------------------------


@pytest.fixture
def auditor2(world):
    from auth2fa.models import AccountType
    from tests.conftest import make_user

    return make_user(world.tenant, "auditor2@a.test", account_type=AccountType.AUDITOR)


def request_export(client, **fields):
    today = timezone.localdate()
    data = {
        "reason": "security_incident",
        "period_start": today - timedelta(days=1),
        "period_end": today,
    }
    data.update(fields)
    return client.post(reverse("audit:export_list"), data)


def test_an_auditor_exports_after_a_second_persons_approval(client, world, settings, tmp_path):
    settings.AUDIT_EXPORT_DIR = str(tmp_path)
    seen = events.build_event(
        "employee.view", "R", tenant=world.tenant, subject=world.employee.key, actor=world.hr
    )
    write_events([seen])
    verified_login(client, world.auditor)
    response = request_export(client, employee_key=world.employee.key)
    export = AuditExport.objects.filter(tenant=world.tenant).exclude(pk=world.export.pk).get()
    assert response.url == reverse("audit:export_detail", kwargs={"key": export.key})
    # The requester cannot approve it.
    client.post(reverse("audit:export_decide", kwargs={"key": export.key}), {"decision": "approve"})
    export.refresh_from_db()
    assert export.status == ExportStatus.REQUESTED
    client.logout()
    verified_login(client, world.beheer)  # a functional admin may approve, not download
    with transaction.atomic():  # on_commit runs the build (in-process in tests)
        client.post(
            reverse("audit:export_decide", kwargs={"key": export.key}), {"decision": "approve"}
        )
    drain_outbox()
    from audit.tasks import build_export

    build_export(export.pk)
    export.refresh_from_db()
    assert (
        export.status == ExportStatus.READY
        and export.rows_total >= 1
        and export.progress_percent == 100
    )
    assert (
        client.get(
            reverse("audit:export_download", kwargs={"key": export.key, "extension": "csv"})
        ).status_code
        == 403
    )
    client.logout()
    verified_login(client, world.auditor)
    csv_response = client.get(
        reverse("audit:export_download", kwargs={"key": export.key, "extension": "csv"})
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(csv_response.streaming_content).decode())))
    assert rows and all(row["subject_key"] == str(world.employee.key) for row in rows)
    assert {
        "event_id",
        "occurred_at",
        "actor_key",
        "actor_domain",
        "outcome",
        "client_ip",
        "hash",
    } <= set(rows[0])
    json_response = client.get(
        reverse("audit:export_download", kwargs={"key": export.key, "extension": "json"})
    )
    assert json.loads(b"".join(json_response.streaming_content))[0]["subject_key"] == str(
        world.employee.key
    )
    types = {r.event_type for r in shipped()}
    assert {
        "audit_export.request",
        "audit_export.decide",
        "audit_export.build",
        "audit_export.download",
    } <= types


def test_an_expired_export_cannot_be_downloaded(client, world, settings, tmp_path):
    settings.AUDIT_EXPORT_DIR = str(tmp_path)
    export = world.export
    from audit.services import build_export_files

    build_export_files(export)
    AuditExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    verified_login(client, world.auditor)
    assert (
        client.get(
            reverse("audit:export_download", kwargs={"key": export.key, "extension": "csv"})
        ).status_code
        == 410
    )


def test_only_the_requester_downloads(client, world, auditor2, settings, tmp_path):
    settings.AUDIT_EXPORT_DIR = str(tmp_path)
    from audit.services import build_export_files

    build_export_files(world.export)
    verified_login(client, auditor2)
    assert (
        client.get(
            reverse("audit:export_download", kwargs={"key": world.export.key, "extension": "csv"})
        ).status_code
        == 403
    )


def test_functional_admins_cannot_request_or_browse(client, world):
    verified_login(client, world.beheer)
    assert request_export(client).status_code == 403
    page = client.get(reverse("audit:export_list")).content.decode()
    assert (
        "event_id" not in page
        and "Request an export" not in page
        and "Export aanvragen" not in page
    )


# --- refused access ----------------------------------------------------------------------------

REFUSALS = [
    # (persona, route, scope): 403 = too few rights, 404 = outside the scope or another tenant
    ("hr", "domains:role_list", "own"),
    ("beheer", "employees:list", "own"),
    ("casemanager", "employees:detail", "other"),
    ("hr", "employees:detail", "tenant"),
    ("manager", "cases:detail", "other"),
    ("bedrijfsarts", "domains:user_list", "own"),
]


@pytest.mark.parametrize(
    ("persona", "name", "scope"), REFUSALS, ids=["-".join(r) for r in REFUSALS]
)
def test_every_refusal_is_an_access_denied_event(client, world, persona, name, scope):
    entry = MATRIX[name]
    expected = entry.code(persona, scope)
    assert expected in (403, 404)
    user = getattr(world, persona)
    verified_login(client, user)
    kwargs = entry.kwargs(world, scope) if entry.kwargs else {}
    since = last_pk()
    response = getattr(client, entry.method)(reverse(name, kwargs=kwargs))
    assert response.status_code == expected
    (record,) = [r for r in new_records(since) if r.event_type == "access.denied"]
    assert (record.action, record.outcome, record.actor_key) == ("E", "denied", user.key)
    assert record.object_type == f"route:{name}"
    assert record.subject_key is None and record.result_count is None
    if expected == 404:
        assert record.object_key is None  # a 404 tells nothing, not even what was asked for
    requested = [str(value) for value in kwargs.values()]
    if expected == 404:
        dump = json.dumps([str(getattr(record, f.name)) for f in AuditEvent._meta.fields])
        assert not any(value in dump for value in requested)


def test_an_unknown_url_is_refused_and_recorded_without_a_route(client, world):
    verified_login(client, world.hr)
    since = last_pk()
    assert client.get("/employees/no-such-page/").status_code == 404
    (record,) = [r for r in new_records(since) if r.event_type == "access.denied"]
    assert record.object_type == "route:" and record.object_key is None


def test_refusals_to_anonymous_visitors_are_not_recorded(client, world):
    since = last_pk()
    assert client.get("/no-such-page/").status_code in (302, 404)
    assert not [r for r in new_records(since) if r.event_type == "access.denied"]


@pytest.mark.parametrize(
    ("persona", "name", "scope"),
    [("hr", "domains:role_list", "own"), ("hr", "employees:detail", "tenant")],
)
def test_refused_pages_answer_as_before(client, world, settings, persona, name, scope):
    """The audit middleware changes neither the status nor the page of a refusal."""
    import re

    entry = MATRIX[name]
    url = reverse(name, kwargs=entry.kwargs(world, scope) if entry.kwargs else {})
    verified_login(client, getattr(world, persona))

    def page():
        response = client.get(url)
        body = re.sub(r'value="[^"]*"', "", response.content.decode())  # per-request CSRF tokens
        return response.status_code, body

    audited = page()
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if not m.endswith("AccessDeniedMiddleware")
    ]
    assert page() == audited
    assert audited[0] == entry.code(persona, scope)
