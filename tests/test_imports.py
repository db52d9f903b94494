"""HR imports employees from a spreadsheet: upload, preview (nothing written), commit (all valid
rows or nothing), keyed by our unique key with the four situations of seed 002."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from audit.models import OutboxEvent
from domains.models import Role
from domains.permissions import Perm
from employees.exports import columns
from employees.models import Employee, EmploymentTerms
from imports.models import EmployeeImport
from imports.parsing import FileRefused, read_rows
from tests.conftest import make_employee, verified_login

TODAY = timezone.localdate()


def header(language="nl", *, with_bsn=False):
    with translation.override(language):
        return columns(with_bsn=with_bsn)


def row(key="", action="nieuw", **cells):
    values = {
        "personnel_number": "IMP-1", "initials": "A.", "first_name": "Anna",
        "surname_prefix": "", "surname": "Import", "birth_date": "17-05-1990",
        "gender": "Vrouw", "postcode": "1234 ab", "email": "", "phone": "",
        "employer": "Werkgever A", "department": "Productie/Inpak",
        "employment_start": "01-02-2020", "employment_end": "",
        "contract_hours": "32", "full_time_hours": "40",
    }  # fmt: skip
    values.update(cells)
    return [key, action, *values.values()]


def csv_bytes(rows, *, language="nl", delimiter=";", encoding="utf-8-sig", head=None):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(head or header(language))
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(client, data, name="werknemers.csv"):
    """Upload; the background check runs in-process (CELERY_TASK_ALWAYS_EAGER) after commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data)})


def preview_of(response) -> EmployeeImport:
    assert response.status_code == 302, response.content.decode()[:2000]
    return EmployeeImport.objects.get(key=response.url.rstrip("/").rsplit("/", 1)[-1])


def confirm(client, employee_import, *, skip_refused=False):
    data = {"file_hash": employee_import.file_hash}
    if skip_refused:
        data["skip_refused"] = "on"
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("imports:preview", kwargs={"key": employee_import.key}), data)


def with_terms(world):
    """The world's employees were made without terms (save_employee always makes them)."""
    for employee in Employee.objects.filter(tenant=world.tenant):
        employee.terms.create(
            tenant=world.tenant, valid_from=employee.employment_start, contract_hours=40,
            full_time_hours=40,
        )  # fmt: skip


def employee_state():
    """Every employee row and term of every tenant, to prove nothing changed."""
    employees = list(Employee.unscoped.order_by("pk").values())
    terms = list(EmploymentTerms.unscoped.order_by("pk").values())
    return employees, terms


# --- permission -------------------------------------------------------------------------------


def test_hr_reference_role_holds_the_import_permission_and_existing_tenants_get_it(world):
    hr_role = world.roles["hr"]
    assert Perm.EMPLOYEE_IMPORT in hr_role.permissions
    hr_role.permissions = [perm for perm in hr_role.permissions if perm != Perm.EMPLOYEE_IMPORT]
    hr_role.save()
    migration = __import__(
        "domains.migrations.0012_role_permission_employee_import", fromlist=["x"]
    )
    migration.give_hr_reference_roles_import(django_apps, None)
    assert Perm.EMPLOYEE_IMPORT in Role.objects.get(pk=hr_role.pk).permissions
    manager_role = world.roles["leidinggevende"]
    assert Perm.EMPLOYEE_IMPORT not in Role.objects.get(pk=manager_role.pk).permissions


def test_a_manager_without_the_import_permission_cannot_upload(client, world):
    verified_login(client, world.manager)
    assert upload(client, csv_bytes([row()])).status_code == 403


# --- upload and parsing -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_template_is_the_export_without_rows(hr_client, world, kind):
    response = hr_client.get(reverse(f"imports:template_{kind}"))
    assert response.status_code == 200
    if kind == "csv":
        text = response.content.decode("utf-8-sig")
        assert text.strip().split(";") == header("nl", with_bsn=True)
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert [c.value for c in next(sheet.iter_rows())] == header("nl", with_bsn=True)
        assert sheet.max_row == 1


def test_an_exported_file_reimports_as_unchanged(hr_client, world):
    with_terms(world)
    exported = hr_client.get(reverse("employees:export_csv")).content
    response = upload(hr_client, exported)
    employee_import = preview_of(response)
    visible = Employee.objects.filter(tenant=world.tenant).count()
    assert employee_import.unchanged_count == visible, employee_import.refusals
    assert (employee_import.new_count, employee_import.update_count) == (0, 0)
    assert employee_import.refused_count == 0


def test_an_exported_workbook_reimports_as_unchanged(hr_client, world):
    with_terms(world)
    exported = hr_client.get(reverse("employees:export_xlsx")).content
    employee_import = preview_of(upload(hr_client, exported, "werknemers.xlsx"))
    assert employee_import.refused_count == 0, employee_import.refusals
    assert employee_import.unchanged_count == Employee.objects.filter(tenant=world.tenant).count()


@pytest.mark.parametrize(
    ("encoding", "delimiter", "language"),
    [("utf-8-sig", ";", "nl"), ("utf-8", ",", "en"), ("cp1252", ";", "nl"), ("cp1252", ",", "en")],
)
def test_csv_in_each_encoding_and_separator_makes_a_new_employee(
    hr_client, world, encoding, delimiter, language
):
    data = csv_bytes(
        [row(surname="Müller-Ëlsa", gender="Female" if language == "en" else "Vrouw")],
        language=language, delimiter=delimiter, encoding=encoding,
    )  # fmt: skip
    employee_import = preview_of(upload(hr_client, data))
    assert (employee_import.new_count, employee_import.refused_count) == (1, 0), (
        employee_import.refusals
    )
    confirm(hr_client, employee_import)
    created = Employee.objects.get(personnel_number="IMP-1")
    assert created.surname == "Müller-Ëlsa"
    assert created.gender == "female"
    assert created.postcode == "1234AB"
    assert created.birth_date == date(1990, 5, 17)
    assert created.department == world.inpak


def test_headers_in_any_order_after_the_first_two_and_dutch_decimals(hr_client, world):
    head = header("nl")
    values = row(contract_hours="32,5", full_time_hours="40,0", postcode="1234AB")
    order = [0, 1, *reversed(range(2, len(head)))]
    data = csv_bytes([[values[i] for i in order]], head=[head[i] for i in order])
    confirm(hr_client, preview_of(upload(hr_client, data)))
    created = Employee.objects.get(personnel_number="IMP-1")
    terms = created.terms.get()
    assert terms.contract_hours == Decimal("32.5")
    assert terms.valid_from == date(2020, 2, 1)
    assert created.part_time_factor == Decimal("0.812")


def test_xlsx_with_excel_dates_and_numbers(hr_client, world):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header("en"))
    values = row(action="new")
    values[7] = datetime(1990, 5, 17)  # noqa: DTZ001 - a real Excel date has no zone
    values[14] = 43862  # an Excel serial number: 1 February 2020
    values[16], values[17] = 32.5, 40
    sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    employee_import = preview_of(upload(hr_client, buffer.getvalue(), "import.xlsx"))
    assert employee_import.new_count == 1, employee_import.refusals
    confirm(hr_client, employee_import)
    created = Employee.objects.get(personnel_number="IMP-1")
    assert (created.birth_date, created.employment_start) == (date(1990, 5, 17), date(2020, 2, 1))
    assert created.terms.get().contract_hours == Decimal("32.5")


def test_a_file_over_the_limit_is_refused_before_parsing(hr_client, world, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr("imports.services.read_rows", never)
    with override_settings(IMPORT_MAX_BYTES=100):
        response = upload(hr_client, csv_bytes([row()]))
    assert response.status_code == 200
    assert "MB" in response.content.decode()
    assert not EmployeeImport.objects.exists()


# --- preview and the four situations ----------------------------------------------------------


def test_the_four_situations_and_broken_rows_are_previewed_without_writing(hr_client, world):
    before = employee_state()
    jansen = world.employee
    rows = [
        row(str(jansen.key), "bijwerken", personnel_number=jansen.personnel_number,
            surname="Jansen-Nieuw", department="Productie"),  # 1: update
        row(str(world.healthy.key), "nieuw", personnel_number="IMP-2"),  # 2: known + new
        row("", "update", personnel_number="IMP-3"),  # 3: unknown + update
        row("", "nieuw", personnel_number="IMP-4"),  # 4: new
        row(str(world.other_employee.key), "update", personnel_number="IMP-5"),  # other tenant
        row("3f1d7c52-0000-4000-8000-000000000000", "update", personnel_number="IMP-6"),
        row("", "nieuw", personnel_number="IMP-7", birth_date="31-02-1990"),  # invalid date
        row("", "nieuw", personnel_number="IMP-8", surname="=HYPERLINK(\"http://x\")"),
        row("", "nieuw", personnel_number="IMP-9", postcode="12345"),
        row("", "nieuw", personnel_number="DUP"),
        row("", "nieuw", personnel_number="DUP"),
        row("", "nieuw", personnel_number="IMP-10", department="Nergens"),
        row("", "misschien", personnel_number="IMP-11"),
        row("", "nieuw", personnel_number="IMP-12", phone="@SUM(1)"),
    ]  # fmt: skip
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    assert employee_state() == before
    # Row 13 names a department that does not exist yet: it may be added (see below).
    assert (employee_import.new_count, employee_import.update_count) == (2, 1)
    assert employee_import.refused_count == 11
    reasons = {r["row"]: r["reasons"] for r in employee_import.refusals}
    assert reasons[3] == [["Unieke sleutel", "This employee is already known: use update."]] or (
        reasons[3][0][1].startswith("Deze werknemer")
    )
    # Another tenant's key reads exactly as a key that does not exist.
    assert reasons[6] == reasons[7]
    assert any(column == "Geboortedatum" for column, _ in reasons[8])
    assert any(column == "Achternaam" for column, _ in reasons[9])
    assert any(column == "Postcode" for column, _ in reasons[10])
    assert reasons[11] == reasons[12]
    assert 13 not in reasons
    assert employee_import.missing_departments == [["Werkgever A", "Nergens"]]
    assert any(column == "Actie" for column, _ in reasons[14])
    assert any(column == "Telefoonnummer" for column, _ in reasons[15])
    assert employee_import.outcomes[:4] == [
        [2, "update"],
        [3, "refused"],
        [4, "refused"],
        [5, "new"],
    ]
    page = hr_client.get(reverse("imports:preview", kwargs={"key": employee_import.key}))
    assert page.status_code == 200
    with translation.override("nl"):
        assert translation.gettext("refused") in page.content.decode()
    report = hr_client.get(reverse("imports:refused_report", kwargs={"key": employee_import.key}))
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    assert {line[0] for line in lines[1:]} == {str(n) for n in range(3, 16) if n not in (5, 13)}


def test_refused_rows_block_the_commit_unless_left_out(hr_client, world):
    rows = [row("", "nieuw", personnel_number="IMP-1"), row("", "update", personnel_number="X")]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    before = employee_state()
    confirm(hr_client, employee_import)
    assert employee_state() == before
    confirm(hr_client, employee_import, skip_refused=True)
    assert Employee.objects.filter(personnel_number="IMP-1").exists()
    assert not Employee.objects.filter(personnel_number="X").exists()


def test_a_department_outside_the_users_scope_is_refused(client, world):
    manager_hr = world.manager  # scope: Productie only; give them import rights there
    from tests.conftest import grant

    grant(manager_hr, world.roles["hr"], departments=[world.department])
    verified_login(client, manager_hr)
    rows = [
        row("", "nieuw", department="Kantoor"),
        row("", "nieuw", personnel_number="I-2", department="Productie"),
    ]
    employee_import = preview_of(upload(client, csv_bytes(rows)))
    assert employee_import.new_count == 1
    reasons = employee_import.refusals[0]["reasons"]
    assert reasons[0][0] == "Afdeling"


def test_commit_updates_with_dated_terms_and_a_new_version(hr_client, world):
    jansen = world.employee
    with_terms(world)
    rows = [
        row(str(jansen.key), "update", personnel_number=jansen.personnel_number,
            surname="Jansen", postcode="1234AB", department="Productie",
            birth_date="01-01-1980", employment_start="01-01-2015", contract_hours="20"),
    ]  # fmt: skip
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    assert employee_import.update_count == 1, employee_import.refusals
    confirm(hr_client, employee_import)
    jansen.refresh_from_db()
    assert jansen.version == 2
    assert jansen.first_name == "Anna"
    assert jansen.part_time_factor == Decimal("0.500")
    assert [(t.valid_from, t.contract_hours) for t in jansen.terms.order_by("valid_from")] == [
        (date(2015, 1, 1), Decimal("40")),
        (TODAY, Decimal("20")),
    ]
    assert jansen.bsn == "111222333"  # an empty BSN cell keeps it


def test_a_confirmed_import_is_not_run_twice(hr_client, world):
    employee_import = preview_of(upload(hr_client, csv_bytes([row()])))
    confirm(hr_client, employee_import)
    confirm(hr_client, employee_import)
    assert Employee.objects.filter(personnel_number="IMP-1").count() == 1
    again = preview_of(upload(hr_client, csv_bytes([row()])))
    confirm(hr_client, again)
    assert Employee.objects.filter(personnel_number="IMP-1").count() == 1
    assert EmployeeImport.objects.get(pk=again.pk).status == "previewed"


def test_a_change_between_preview_and_commit_writes_nothing(hr_client, world):
    rows = [row("", "nieuw", personnel_number="IMP-1"), row("", "nieuw", personnel_number="I-2")]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    make_employee(world.employer, personnel_number="I-2")
    before = employee_state()
    confirm(hr_client, employee_import)
    assert employee_state() == before


def test_the_preview_costs_constant_queries_per_batch(world):
    from imports.services import evaluate

    def queries(count):
        data = csv_bytes([row(personnel_number=f"Q-{n}") for n in range(count)])
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            list(evaluate(data, "x.csv", by=world.hr))
        return [q["sql"] for q in captured]

    queries(1)  # the user's roles, read once per request
    few, many = queries(5), queries(300)
    assert len(few) == len(many), many[-5:]


# --- BSN --------------------------------------------------------------------------------------


def test_a_bsn_is_sealed_with_its_index_where_allowed(hr_client, world):
    data = csv_bytes([[*row(), "123456782"]], head=header("nl", with_bsn=True))
    confirm(hr_client, preview_of(upload(hr_client, data)))
    created = Employee.objects.get(personnel_number="IMP-1")
    assert created.bsn == "123456782"
    assert created.bsn_index
    assert b"123456782" not in bytes(created.bsn_sealed)


def test_an_invalid_bsn_is_refused(hr_client, world):
    data = csv_bytes([[*row(), "123456789"]], head=header("nl", with_bsn=True))
    employee_import = preview_of(upload(hr_client, data))
    assert employee_import.refusals[0]["reasons"][0][0] == "BSN"


def test_a_bsn_column_is_refused_as_a_whole_where_the_tenant_records_none(client, world):
    verified_login(client, world.outsider)  # the other tenant records no BSN
    data = csv_bytes([[*row(employer="Werkgever Z", department=""), "123456782"]],
                     head=header("nl", with_bsn=True))  # fmt: skip
    response = upload(client, data)
    assert response.status_code == 200
    assert "BSN" in response.content.decode()
    assert not EmployeeImport.objects.exists()


def test_the_template_has_no_bsn_column_where_the_tenant_records_none(client, world):
    verified_login(client, world.outsider)
    text = client.get(reverse("imports:template_csv")).content.decode("utf-8-sig")
    assert "BSN" not in text


# --- malformed files change nothing -----------------------------------------------------------


def _xlsx(rows):
    workbook = Workbook()
    for values in rows:
        workbook.active.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


MALFORMED = {
    "empty": (b"", "x.csv"),
    "only blank lines": (b"\n\n\n", "x.csv"),
    "binary junk renamed": (bytes(range(256)) * 40, "x.csv"),
    "junk named xlsx": (b"PK\x03\x04 not a zip at all", "x.xlsx"),
    "not xlsx at all": (b"hello", "x.xlsx"),
    "missing columns": (b"Unieke sleutel;Actie;Achternaam\n;nieuw;X\n", "x.csv"),
    "unknown column": (b"Unieke sleutel;Actie;Schoenmaat\n", "x.csv"),
    "wrong first columns": (b"Actie;Unieke sleutel\n", "x.csv"),
    "a wrong sheet": (_xlsx([["Omzet", "2025"], [1, 2]]), "x.xlsx"),
    "a 10 MB cell": (b'Unieke sleutel;Actie\n;"' + b"x" * (10 * 1024 * 1024) + b'"\n', "x.csv"),
    "mixed encodings": (
        b"Unieke sleutel;Actie\n" + "é".encode("cp1252") + "é".encode() + b"\x81\x8d",
        "x.csv",
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_file_gets_a_message_and_changes_nothing(hr_client, world, name):
    data, file_name = MALFORMED[name]
    before = employee_state()
    with override_settings(IMPORT_MAX_BYTES=20 * 1024 * 1024):
        response = upload(hr_client, data, file_name)
    if response.status_code == 302:  # refused by the background check, with its message
        employee_import = preview_of(response)
        assert employee_import.status == "failed"
        assert employee_import.message
        page = hr_client.get(response.url).content.decode()
        assert employee_import.message in page
    else:  # refused at once: the format or the header is wrong
        page = response.content.decode()
        assert 'role="alert"' in page or "field--error" in page
        assert not EmployeeImport.objects.exists()
    assert employee_state() == before


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr("imports.parsing.MAX_ROWS", 3)
    data = csv_bytes([row(personnel_number=f"R{n}") for n in range(5)])
    with pytest.raises(FileRefused):
        list(read_rows(data, "x.csv", bsn_allowed=True))


def test_formula_starts_are_refused_but_numbers_and_phone_numbers_are_not():
    data = csv_bytes([
        row(surname="=1+1"), row(surname="+A1"), row(surname="-A1"), row(surname="@A1"),
        row(phone="+31 6 12345678", surname="Plain"),
    ])  # fmt: skip
    parsed = list(read_rows(data, "x.csv", bsn_allowed=True))
    assert [r.formulas for r in parsed] == [{"surname"}] * 4 + [set()]
    assert parsed[-1].cells["phone"] == "+31 6 12345678"


def test_random_bytes_never_change_an_employee(hr_client, world):
    """A table of corrupted variants of a good file: each is refused as a whole or row by row;
    none changes a stored row before a confirmation."""
    import random

    good = csv_bytes([row(str(world.employee.key), "update", surname="Veranderd")])
    generator = random.Random(13)  # noqa: S311 - reproducible test data
    before = employee_state()
    for _ in range(25):
        corrupted = bytearray(good)
        for _ in range(generator.randint(1, 20)):
            corrupted[generator.randrange(len(corrupted))] = generator.randrange(256)
        response = upload(hr_client, bytes(corrupted))
        assert response.status_code in (200, 302)
    assert employee_state() == before


# --- background work, progress and history ----------------------------------------------------


def test_the_page_shows_progress_while_the_file_is_checked_and_the_result_after(hr_client, world):
    data = csv_bytes([row()])
    # Without running the on-commit task: the file waits, as when a worker is busy.
    response = hr_client.post(
        reverse("imports:upload"), {"file": SimpleUploadedFile("w.csv", data)}
    )
    employee_import = preview_of(response)
    assert employee_import.status == "queued"
    page = hr_client.get(response.url).content.decode()
    assert "data-progress-url" in page
    assert "<script>" not in page
    progress = hr_client.get(reverse("imports:progress", kwargs={"key": employee_import.key}))
    assert progress.json()["done"] is False
    from imports.services import preview_in_background

    preview_in_background(employee_import.pk)
    state = hr_client.get(reverse("imports:progress", kwargs={"key": employee_import.key})).json()
    assert state == {"percent": 100, "text": state["text"], "done": True}
    page = hr_client.get(response.url).content.decode()
    assert "data-progress-url" not in page


def test_the_history_lists_the_tenants_imports_with_counts(hr_client, world):
    confirm(hr_client, preview_of(upload(hr_client, csv_bytes([row()]), "maart.csv")))
    page = hr_client.get(reverse("imports:history")).content.decode()
    assert "maart.csv" in page
    imported = EmployeeImport.objects.get()
    assert (imported.status, imported.new_count, imported.rows_done) == ("committed", 1, 1)
    assert bytes(imported.file_name_sealed).find(b"maart") == -1  # sealed at rest


def test_a_stale_preview_keeps_its_reason_on_the_page(hr_client, world):
    employee_import = preview_of(upload(hr_client, csv_bytes([row()])))
    make_employee(world.employer, personnel_number="IMP-1")
    confirm(hr_client, employee_import)
    employee_import.refresh_from_db()
    assert employee_import.status == "previewed"
    assert employee_import.message


# --- audit --------------------------------------------------------------------------------------


def test_an_import_is_one_event_with_counts_and_every_change_is_captured(hr_client, world):
    from audit.models import AuditEvent

    with_terms(world)
    jansen = world.employee
    rows = [
        row(str(jansen.key), "update", personnel_number=jansen.personnel_number,
            surname="Zwaantje", postcode="1234AB", department="Productie",
            birth_date="01-01-1980", employment_start="01-01-2015", contract_hours="20"),
        row("", "nieuw", personnel_number="IMP-9", surname="Verzuimvogel"),
    ]  # fmt: skip
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    since = AuditEvent.objects.using("audit").order_by("-pk").values_list("pk", flat=True).first()
    OutboxEvent.objects.all().delete()
    confirm(hr_client, employee_import)
    created = Employee.objects.get(personnel_number="IMP-9")
    # The import's own event is handed over at once; the changes wait in the outbox with them.
    [imported] = AuditEvent.objects.using("audit").filter(
        pk__gt=since or 0, event_type="employee.import"
    )
    events = [SimpleNamespace(**row.payload) for row in OutboxEvent.objects.all()]
    by_type = {}
    for event in events:
        by_type.setdefault(event.event_type, []).append(event)
    assert imported.result_count == 2
    assert imported.actor_key == world.hr.key
    [update] = by_type["employees.employee.update"]
    assert update.subject_key == str(jansen.key)
    assert {"surname", "first_name", "part_time_factor"} <= set(update.changed_fields)
    [create] = by_type["employees.employee.create"]
    assert create.subject_key == str(created.key)
    assert {e.subject_key for e in by_type["employees.employmentterms.create"]} == {
        str(jansen.key),
        str(created.key),
    }
    stored = repr([vars(event) for event in events])
    assert "Zwaantje" not in stored and "Verzuimvogel" not in stored


@pytest.mark.parametrize("seed", range(6))
def test_a_corrupted_workbook_is_refused_and_changes_nothing(hr_client, world, seed):
    import random

    workbook = Workbook()
    workbook.active.append(header("nl"))
    workbook.active.append(row(str(world.employee.key), "update", surname="Veranderd"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    good = buffer.getvalue()
    generator = random.Random(seed)  # noqa: S311 - reproducible test data
    before = employee_state()
    for _ in range(10):
        corrupted = bytearray(good)
        for _ in range(generator.randint(1, 30)):
            corrupted[generator.randrange(len(corrupted))] = generator.randrange(256)
        response = upload(hr_client, bytes(corrupted), "w.xlsx")
        assert response.status_code in (200, 302)
    assert employee_state() == before
