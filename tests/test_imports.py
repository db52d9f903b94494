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
from core.statistics import planner_rows
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


def confirm(client, employee_import, *, skip_refused=False, add_departments=False):
    data = {"file_hash": employee_import.file_hash}
    if skip_refused:
        data["skip_refused"] = "on"
    if add_departments:
        data["add_departments"] = "on"
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


def test_one_key_written_two_ways_is_the_same_employee_twice(hr_client, world):
    """A key with or without hyphens, braces or capitals names the same employee: both rows
    are refused as doubles (else both would update it, each against its old state)."""
    jansen = world.employee
    spellings = [str(jansen.key), "{" + jansen.key.hex.upper() + "}"]
    rows = [
        row(spelling, "bijwerken", personnel_number=jansen.personnel_number,
            surname=f"Jansen-{number}", department="Productie")
        for number, spelling in enumerate(spellings)
    ]  # fmt: skip
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    assert (employee_import.update_count, employee_import.refused_count) == (0, 2)
    with translation.override("nl"):
        doubled = translation.gettext("This key appears more than once in the file.")
    for refusal in employee_import.refusals:
        assert any(text == doubled for _column, text in refusal["reasons"]), refusal


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


def test_a_database_error_in_the_commit_writes_nothing_and_the_import_can_be_confirmed_again(
    hr_client, world, monkeypatch
):
    from django.db import OperationalError

    from imports.writing import BulkWriter

    with_terms(world)
    rows = [row(personnel_number="ERR-1"), row(personnel_number="ERR-2")]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    before = employee_state()
    store = BulkWriter.store

    def store_then_fail(self, prepared):
        store(self, prepared)
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(BulkWriter, "store", store_then_fail)
    with pytest.raises(OperationalError):
        confirm(hr_client, employee_import)
    assert employee_state() == before  # the first batch's rows went with the transaction
    employee_import.refresh_from_db()
    assert employee_import.status == "previewed"  # not left "importing" for ever
    assert "niets gewijzigd" in employee_import.message  # nothing was changed (in Dutch)
    monkeypatch.setattr(BulkWriter, "store", store)
    confirm(hr_client, employee_import)
    employee_import.refresh_from_db()
    assert employee_import.status == "committed"
    assert Employee.objects.filter(personnel_number__startswith="ERR-").count() == 2


def test_a_number_an_update_frees_stays_taken_for_later_rows_as_in_the_preview(
    hr_client, world, monkeypatch
):
    """The preview checks every row against the employees as they are; the commit, which
    writes as it goes, must not see a number freed by an earlier batch as free."""
    from imports import services

    monkeypatch.setattr(services, "COMMIT_BATCH", 1)  # every row a batch of its own
    monkeypatch.setattr(services, "FIRST_COMMIT_BATCH", 1)
    with_terms(world)
    jansen = world.employee
    old_number = jansen.personnel_number
    rows = [
        row(str(jansen.key), "bijwerken", personnel_number="MOVED-1", surname=jansen.surname,
            department="Productie"),
        row("", "nieuw", personnel_number="FILL-1"),
        row("", "nieuw", personnel_number="FILL-2"),
        row("", "nieuw", personnel_number=old_number, employer=jansen.employer.name),
    ]  # fmt: skip
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    assert (employee_import.update_count, employee_import.new_count) == (1, 2)
    assert [r["row"] for r in employee_import.refusals] == [5]
    confirm(hr_client, employee_import, skip_refused=True)
    employee_import.refresh_from_db()
    assert employee_import.status == "committed", employee_import.message
    jansen.refresh_from_db()
    assert jansen.personnel_number == "MOVED-1"
    assert not Employee.objects.filter(personnel_number=old_number).exists()


# --- audit --------------------------------------------------------------------------------------


def test_an_import_is_one_event_with_counts_and_every_change_is_captured(hr_client, world):
    with_terms(world)
    jansen = world.employee
    rows = [
        row(str(jansen.key), "update", personnel_number=jansen.personnel_number,
            surname="Zwaantje", postcode="1234AB", department="Productie",
            birth_date="01-01-1980", employment_start="01-01-2015", contract_hours="20"),
        row("", "nieuw", personnel_number="IMP-9", surname="Verzuimvogel"),
    ]  # fmt: skip
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    OutboxEvent.objects.all().delete()
    confirm(hr_client, employee_import)
    created = Employee.objects.get(personnel_number="IMP-9")
    # The import's own event and every change wait in the outbox for the worker.
    events = [SimpleNamespace(**row.payload) for row in OutboxEvent.objects.all()]
    by_type = {}
    for event in events:
        by_type.setdefault(event.event_type, []).append(event)
    [imported] = by_type["employee.import"]
    assert imported.result_count == 2
    assert imported.actor_key == str(world.hr.key)
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


# --- planner statistics -------------------------------------------------------------------------


def test_a_big_commit_refreshes_the_planners_statistics_of_the_tables_it_wrote(
    hr_client, world, monkeypatch
):
    from imports import services

    monkeypatch.setattr(services, "ANALYZE_FROM_ROWS", 30)
    # As known before the commit: the table held less than ten times what it writes. (What
    # the planner knows here depends on the tests before: ANALYZE outlives a rollback.)
    monkeypatch.setattr(services, "planner_rows", lambda model: 0.0)
    rows = [row(personnel_number=f"STAT-{number}") for number in range(40)]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    assert employee_import.new_count == 40
    confirm(hr_client, employee_import)
    assert Employee.objects.filter(personnel_number__startswith="STAT-").count() == 40
    # ANALYZE ran inside the commit's transaction: it counted every row, the new ones too (a
    # table this small is read whole, so the estimate is exact).
    assert planner_rows(Employee) == Employee.unscoped.count()
    assert planner_rows(EmploymentTerms) == EmploymentTerms.unscoped.count()


def test_a_commit_does_not_wait_for_statistics_another_transaction_is_refreshing(
    hr_client, world, monkeypatch
):
    """ANALYZE keeps its table lock to the end of the transaction; a commit waiting for it
    while holding employees the other needs would deadlock both. It goes on without."""
    from django.db import connections

    from imports import services

    monkeypatch.setattr(services, "ANALYZE_FROM_ROWS", 30)
    monkeypatch.setattr(services, "planner_rows", lambda model: 0.0)  # as above
    rows = [row(personnel_number=f"BUSY-{number}") for number in range(40)]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:  # another transaction refreshing the same statistics
            cursor.execute("LOCK TABLE employees_employee IN SHARE UPDATE EXCLUSIVE MODE")
        confirm(hr_client, employee_import)
    finally:
        other.rollback()
        other.close()
    assert Employee.objects.filter(personnel_number__startswith="BUSY-").count() == 40
    assert planner_rows(EmploymentTerms) == EmploymentTerms.unscoped.count()  # not locked


def test_key_lookups_are_priced_for_an_index_and_the_setting_is_put_back(world):
    from django.db import connection

    from core.statistics import priced_for_index_lookups

    def cost() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('random_page_cost')")
            return cursor.fetchone()[0]

    before = cost()
    with priced_for_index_lookups():
        assert cost() == "1.1"
    assert cost() == before
    with pytest.raises(ZeroDivisionError), priced_for_index_lookups():
        1 / 0  # noqa: B018 - an error inside
    assert cost() == before


def test_a_commit_writing_less_than_a_tenth_of_the_table_leaves_the_statistics_as_they_are(
    hr_client, world, monkeypatch
):
    """As autovacuum would: below a tenth of the table the old statistics still describe it,
    and sampling a large table costs more than the small commit itself."""
    from imports import services

    monkeypatch.setattr(services, "ANALYZE_FROM_ROWS", 30)
    rows = [row(personnel_number=f"TENTH-{number}") for number in range(37)]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    before = planner_rows(Employee), planner_rows(EmploymentTerms)
    # The planner believes the table holds 1,000 employees: 37 are less than a tenth.
    monkeypatch.setattr(services, "planner_rows", lambda model: 1000.0)
    confirm(hr_client, employee_import)
    assert Employee.objects.filter(personnel_number__startswith="TENTH-").count() == 37
    # (ANALYZE's figures outlive a rollback, so earlier tests may have left any.)
    assert (planner_rows(Employee), planner_rows(EmploymentTerms)) == before
    assert planner_rows(Employee) != Employee.unscoped.count()


def test_a_small_commit_leaves_the_statistics_to_autovacuum(hr_client, world):
    employee_import = preview_of(upload(hr_client, csv_bytes([row()])))
    confirm(hr_client, employee_import)
    assert Employee.objects.filter(personnel_number="IMP-1").exists()
    # Not analysed in this transaction: whatever the planner knows, it is not this row.
    assert planner_rows(Employee) != Employee.unscoped.count()


# --- departments ------------------------------------------------------------------------------


def test_missing_departments_are_listed_and_added_only_when_chosen(hr_client, world):
    from domains.models import Department

    rows = [
        row("", "nieuw", personnel_number="D-1", department="Productie/Nachtploeg/Team 1"),
        row("", "nieuw", personnel_number="D-2", department="productie/nachtploeg"),
        row("", "nieuw", personnel_number="D-3", department="Productie/Inpak"),
    ]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    assert employee_import.missing_departments == [
        ["Werkgever A", "Productie/Nachtploeg"],
        ["Werkgever A", "Productie/Nachtploeg/Team 1"],
    ]
    assert (employee_import.new_count, employee_import.refused_count) == (3, 0)
    assert employee_import.outcomes == [
        [2, "new", "new-department"], [3, "new", "new-department"], [4, "new"],
    ]  # fmt: skip
    page = hr_client.get(reverse("imports:preview", kwargs={"key": employee_import.key}))
    assert "Productie/Nachtploeg/Team 1" in page.content.decode()
    assert 'name="add_departments"' in page.content.decode()
    before = employee_state()
    departments_before = Department.objects.count()

    # Not chosen: those rows would be refused, and refused rows block the import.
    confirm(hr_client, employee_import)
    assert employee_state() == before
    assert Department.objects.count() == departments_before

    # Chosen: the departments are added under Productie, and the employees placed in them.
    OutboxEvent.objects.all().delete()
    confirm(hr_client, employee_import, add_departments=True)
    employee_import.refresh_from_db()
    assert employee_import.status == "committed", employee_import.message
    night = Department.objects.get(employer=world.employer, name="Nachtploeg")
    team = Department.objects.get(employer=world.employer, name="Team 1")
    assert night.parent == world.department
    assert team.parent == night
    assert team.path == f"{night.path}{team.pk}/"
    placed = dict(Employee.objects.filter(personnel_number__startswith="D-").values_list(
        "personnel_number", "department"
    ))  # fmt: skip
    assert placed == {"D-1": team.pk, "D-2": night.pk, "D-3": world.inpak.pk}
    created = [e.payload for e in OutboxEvent.objects.all()
               if e.payload["event_type"] == "domains.department.create"]  # fmt: skip
    assert sorted(e["object_key"] for e in created) == sorted([str(night.key), str(team.key)])
    assert {e["actor_key"] for e in created} == {str(world.hr.key)}


def test_imports_adding_departments_take_turns(hr_client, world):
    """Two imports adding the same path at once would each find it missing and add it twice:
    an import adds departments only under the tenant's department lock, and reads what exists
    after it has the lock."""
    from django.db import OperationalError, connection, connections

    from domains.models import Department
    from imports import services

    rows = [row("", "nieuw", personnel_number="D-1", department="Productie/Nachtploeg")]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    services.request_commit(
        employee_import=employee_import, by=world.hr, file_hash_seen=employee_import.file_hash,
        skip_refused=False, add_departments=True,
    )  # fmt: skip
    # A connection of its own, as Django makes them (the embedded server's socket included).
    other = connections.create_connection("default")
    try:
        # Another import of this tenant is adding departments: this one waits for it.
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s, %s)",
                [services.DEPARTMENT_LOCK_NAMESPACE, world.tenant.pk],
            )
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '200ms'")
        with pytest.raises(OperationalError, match="lock timeout"):
            services.commit_import(employee_import=employee_import)
        assert not Department.objects.filter(name="Nachtploeg").exists()
    finally:
        other.close()  # releases the lock
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = 0")
    services.commit_import(employee_import=employee_import)
    assert Department.objects.filter(name="Nachtploeg").count() == 1
    assert Employee.objects.get(personnel_number="D-1").department.name == "Nachtploeg"


def test_rows_in_missing_departments_are_left_out_when_not_chosen(hr_client, world):
    from domains.models import Department

    rows = [
        row("", "nieuw", personnel_number="D-1", department="Productie/Nachtploeg"),
        row("", "nieuw", personnel_number="D-2", department="Productie"),
    ]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    confirm(hr_client, employee_import, skip_refused=True)
    employee_import.refresh_from_db()
    assert employee_import.status == "committed", employee_import.message
    assert list(
        Employee.objects.filter(personnel_number__startswith="D-").values_list(
            "personnel_number", flat=True
        )
    ) == ["D-2"]
    assert not Department.objects.filter(name="Nachtploeg").exists()


def test_departments_are_added_only_within_the_users_scope(client, world):
    from tests.conftest import grant

    # An HR user for the Productie subtree only.
    grant(world.manager, world.roles["hr"], departments=[world.department])
    verified_login(client, world.manager)
    rows = [
        row("", "nieuw", personnel_number="S-1", department="Productie/Nieuw"),
        row("", "nieuw", personnel_number="S-2", department="Kantoor/Nieuw"),
        row("", "nieuw", personnel_number="S-3", department="Geheel nieuw"),
    ]
    employee_import = preview_of(upload(client, csv_bytes(rows)))
    assert employee_import.missing_departments == [["Werkgever A", "Productie/Nieuw"]]
    assert [outcome[1] for outcome in employee_import.outcomes] == ["new", "refused", "refused"]
    for refusal in employee_import.refusals:
        assert [column for column, _reason in refusal["reasons"]] == ["Afdeling"]


def test_a_department_added_meanwhile_is_used_not_added_twice(hr_client, world):
    from domains.models import Department

    rows = [row("", "nieuw", personnel_number="D-1", department="Kantoor/Balie")]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    balie = Department.objects.create(
        tenant=world.tenant, employer=world.employer, parent=world.kantoor, name="Balie"
    )
    confirm(hr_client, employee_import, add_departments=True)
    assert Department.objects.filter(name="Balie").count() == 1
    assert Employee.objects.get(personnel_number="D-1").department == balie


# --- hours ------------------------------------------------------------------------------------


def test_empty_hours_of_a_new_employee_are_the_employers_full_time_week(hr_client, world):
    world.employer.full_time_hours = Decimal("38")
    world.employer.save()
    rows = [
        row("", "nieuw", personnel_number="H-1", contract_hours="", full_time_hours=""),
        row("", "nieuw", personnel_number="H-2", contract_hours="19", full_time_hours=""),
    ]
    employee_import = preview_of(upload(hr_client, csv_bytes(rows)))
    assert employee_import.new_count == 2, employee_import.refusals
    confirm(hr_client, employee_import)
    terms = {
        e.personnel_number: (e.terms.get().contract_hours, e.terms.get().full_time_hours,
                             e.part_time_factor)
        for e in Employee.objects.filter(personnel_number__startswith="H-")
    }  # fmt: skip
    assert terms == {
        "H-1": (Decimal("38"), Decimal("38"), Decimal("1.000")),
        "H-2": (Decimal("19"), Decimal("38"), Decimal("0.500")),
    }


def test_empty_hours_of_an_update_keep_the_hours_and_new_hours_are_dated_today(hr_client, world):
    with_terms(world)
    jansen = world.employee
    unchanged = row(
        str(jansen.key), "update", personnel_number=jansen.personnel_number,
        first_name=jansen.first_name, surname=jansen.surname, initials=jansen.initials,
        postcode=jansen.postcode, department="Productie",
        birth_date=jansen.birth_date.strftime("%d-%m-%Y"), gender="",
        employment_start=jansen.employment_start.strftime("%d-%m-%Y"),
        contract_hours="", full_time_hours="",
    )  # fmt: skip
    employee_import = preview_of(upload(hr_client, csv_bytes([unchanged])))
    assert employee_import.unchanged_count == 1, employee_import.refusals
    changed = list(unchanged)
    changed[16] = "24"  # contract hours; the full-time hours stay 40
    employee_import = preview_of(upload(hr_client, csv_bytes([changed])))
    assert employee_import.update_count == 1, employee_import.refusals
    confirm(hr_client, employee_import)
    jansen.refresh_from_db()
    assert [(t.valid_from, t.contract_hours, t.full_time_hours)
            for t in jansen.terms.order_by("valid_from")] == [
        (jansen.employment_start, Decimal("40"), Decimal("40")),
        (TODAY, Decimal("24"), Decimal("40")),
    ]  # fmt: skip
    assert jansen.part_time_factor == Decimal("0.600")


# --- round trip -------------------------------------------------------------------------------


def _escaped_world(world):
    """Employees whose cells our export must quote: phone numbers, a name starting with -."""
    with_terms(world)
    Employee.objects.filter(pk=world.employee.pk).update(phone="+31612345678")
    Employee.objects.filter(pk=world.healthy.pk).update(
        phone="+3225551212", surname="-Streep", email="a@b.nl"
    )


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_edit_import_round_trip_is_unchanged_for_every_row(hr_client, world, kind):
    _escaped_world(world)
    exported = hr_client.get(reverse(f"employees:export_{kind}")).content
    assert b"'+31612345678" in exported or kind == "xlsx"
    before = employee_state()
    employee_import = preview_of(upload(hr_client, exported, f"werknemers.{kind}"))
    assert employee_import.refused_count == 0, employee_import.refusals
    visible = Employee.objects.filter(tenant=world.tenant).count()
    assert [outcome[1] for outcome in employee_import.outcomes] == ["unchanged"] * visible
    confirm(hr_client, employee_import)
    assert employee_state() == before


def test_the_export_quoting_is_taken_off_but_a_real_formula_is_refused():
    data = csv_bytes([
        row(phone="'+31612345678", surname="'-Streep"),
        row(phone="=HYPERLINK(\"http://x\")", surname="Plain"),
        row(phone="+31612345678", surname="'=1+1"),
    ])  # fmt: skip
    parsed = list(read_rows(data, "x.csv", bsn_allowed=True))
    assert (parsed[0].cells["phone"], parsed[0].cells["surname"]) == ("+31612345678", "-Streep")
    assert parsed[0].formulas == set()
    assert parsed[1].formulas == {"phone"} and parsed[1].cells["phone"] == ""
    assert parsed[2].cells["surname"] == "=1+1"  # quoted text, as the export wrote it


# --- the fast row check -----------------------------------------------------------------------


FAST_CASES = [
    {},
    {"postcode": "1234 ab"},
    {"postcode": " 1234AB "},
    {"postcode": "1234  AB"},  # too long before normalising: the form refuses it
    {"postcode": "1234SA"},
    {"phone": "06 12345678"},
    {"phone": "+31 6 1234 5678"},
    {"phone": "+31 (0)6 1234 5678"},
    {"phone": "12"},
    {"email": "a@b.nl"},
    {"email": "not an address"},
    {"contract_hours": "32.50"},
    {"contract_hours": "32.505"},
    {"contract_hours": "0.4"},
    {"contract_hours": "41"},
    {"full_time_hours": "80.00"},
    {"full_time_hours": "1E+1"},
    {"contract_hours": "NaN"},
    {"gender": "female"},
    {"gender": "x"},
    {"surname": ""},
    {"surname": "x" * 151},
    {"personnel_number": " P-1 "},
    {"initials": "A.\x00"},
    {"birth_date": date(1800, 1, 1)},
    {"employment_start": date(1970, 1, 1)},
    {"employment_end": date(2019, 1, 1)},
    {"employment_end": date(2030, 1, 1)},
    {"bsn": "123456782"},
    {"bsn": "1234.567.82"},
    {"bsn": "123456789"},
]


@pytest.mark.parametrize("change", FAST_CASES, ids=[repr(c)[:40] for c in FAST_CASES])
def test_the_fast_row_check_cleans_exactly_as_the_employee_form(world, change):
    from imports.forms import FastRowCheck, ImportRowForm

    employers = {str(world.employer.pk): world.employer}
    departments = {str(world.department.pk): world.department}
    fields = ImportRowForm.shared_fields(
        employers=employers, departments=departments, bsn_allowed=True
    )
    data = {
        "personnel_number": "P-1", "initials": "A.", "first_name": "Anna", "surname_prefix": "",
        "surname": "Import", "birth_date": date(1990, 5, 17), "gender": "", "postcode": "",
        "email": "", "phone": "", "employer": str(world.employer.pk),
        "department": str(world.department.pk), "employment_start": date(2020, 2, 1),
        "employment_end": "", "contract_hours": "32", "full_time_hours": "40", "bsn": "",
        **change,
    }  # fmt: skip
    form = ImportRowForm(
        data, instance=Employee(tenant_id=world.tenant.pk), fields=fields, bsn_allowed=True,
        taken={},
    )  # fmt: skip
    fast = FastRowCheck(today=TODAY, bsn_allowed=True).clean(
        data, employer=world.employer, department=world.department, instance_pk=None, taken={}
    )
    if form.is_valid():
        assert fast is None or fast == form.cleaned_data
        # The plain cases take the fast path.
        if set(change) <= {"postcode", "email", "gender", "bsn", "personnel_number"}:
            assert fast is not None
    else:
        assert fast is None, form.errors


def valid_bsn(number: int) -> str:
    """A BSN that passes the eleven test: eight digits from `number`, then the check digit."""
    for start in range(number * 10, number * 10 + 10):
        digits = f"{start:08d}"[-8:]
        check = sum(int(d) * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:  # noqa: PLR2004 - a check digit of 10 does not exist
            return digits + str(check)
    raise AssertionError(number)


def test_the_commit_starts_with_a_small_batch_and_goes_on_in_large_ones(world):
    """Nothing is stored until the first batch is checked: it is small, to start sooner."""
    from imports.services import _batches

    data = csv_bytes([row(personnel_number=f"B-{n}") for n in range(11)])
    sizes = [len(rows) for rows in _batches(data, "x.csv", world.hr, 4, first=2)]
    assert sizes == [2, 4, 4, 1]
    assert [len(rows) for rows in _batches(data, "x.csv", world.hr, 4)] == [4, 4, 3]


@pytest.mark.parametrize("with_bsn", [False, True], ids=["without BSN", "with BSN"])
def test_the_commit_costs_constant_queries_per_batch(world, monkeypatch, with_bsn):
    """Also with a BSN on every row: each is sealed with the tenant's data key read once per
    commit (core.encryption.pinned_data_key), not once per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from imports import services

    monkeypatch.setattr(services, "COMMIT_BATCH", 20)
    monkeypatch.setattr(services, "FIRST_COMMIT_BATCH", 20)
    head = header("nl", with_bsn=with_bsn)

    def commit_queries(count, prefix):
        rows = [row(personnel_number=f"{prefix}-{n}") for n in range(count)]
        if with_bsn:
            rows = [[*cells, valid_bsn(1000 * len(prefix) + n)] for n, cells in enumerate(rows)]
        data = csv_bytes(rows, head=head)
        employee_import = services.start_import(by=world.hr, file_name="x.csv", data=data)
        services.run_preview(employee_import)
        employee_import.refresh_from_db()
        assert employee_import.refused_count == 0, employee_import.refusals[:1]
        services.request_commit(
            employee_import=employee_import, by=world.hr,
            file_hash_seen=employee_import.file_hash, skip_refused=False,
        )  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            services.commit_import(employee_import=employee_import)
        written = Employee.objects.filter(personnel_number__startswith=f"{prefix}-")
        assert written.count() == count
        if with_bsn:
            assert all(employee.bsn and employee.bsn_index for employee in written)
        return len(captured)

    commit_queries(1, "W")  # warm-up: the user's roles, the tenant's key
    one, two, three = (commit_queries(n, f"Q{n}") for n in (20, 40, 60))
    assert two - one == three - two, (one, two, three)
    assert two - one <= 10  # per batch: read, lock, check, copy employees, terms and events
