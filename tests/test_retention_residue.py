"""Retention (issue 14, deliverable 8): after a person deletes an employee, nothing of them is
left — not in any column of any table of either database, not in any stored file — except the
audit store's pseudonymous key.

Every text-like column (text, varchar, char, json, jsonb), every bytea column (searched for the
plain bytes: a sealed column holds only ciphertext, so plaintext there would be a leak) and
every date column (for the birth date) is read, through information_schema, in the default and
the audit database."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from django.db import connections
from django.utils import timezone

from audit.tasks import drain_outbox
from auth2fa.models import SMSDevice, SMSMessage
from auth2fa.sms import FileBackend
from cases.models import CaseDocument, CaseNote, MedicalDocument, MedicalNote
from employees.models import Employee
from imports.models import EmployeeImport
from retention import deletion
from retention.models import Category, LegalHold, RetentionDue
from retention.scan import scan_tenant
from tests.conftest import make_employee, make_import, make_user, report_sick
from tests.test_retention_deletion import phrase

TODAY = timezone.localdate()
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def columns(alias: str) -> list[tuple[str, str, str]]:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "JOIN information_schema.tables USING (table_schema, table_name) "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
            "AND data_type = ANY(%s)",
            [[*TEXT_TYPES, "bytea", "date"]],
        )
        return cursor.fetchall()


def residue(alias: str, needles: list[str], birth_date: date) -> list[str]:
    """Every (table, column, needle) where a needle is still found."""
    found = []
    connection = connections[alias]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column, data_type in columns(alias):
            where = f"{quote(table)}.{quote(column)}"
            if data_type == "date":
                sql = f"SELECT count(*) FROM {quote(table)} WHERE {where} = %s"  # noqa: S608
                cursor.execute(sql, [birth_date])
                if cursor.fetchone()[0]:
                    found.append(f"{alias}:{table}.{column}: birth date")
                continue
            for needle in needles:
                if data_type == "bytea":
                    sql = (
                        f"SELECT count(*) FROM {quote(table)} "  # noqa: S608
                        f"WHERE position(convert_to(%s, 'UTF8') in {where}) > 0"
                    )
                else:
                    sql = f"SELECT count(*) FROM {quote(table)} WHERE {where}::text ILIKE %s"  # noqa: S608
                    needle_param = f"%{needle}%"
                cursor.execute(sql, [needle if data_type == "bytea" else needle_param])
                if cursor.fetchone()[0]:
                    found.append(f"{alias}:{table}.{column}: {needle}")
    return found


def files_with(directories: list[Path], needles: list[str]) -> list[str]:
    found = []
    for directory in directories:
        for path in [directory] if directory.is_file() else directory.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            found += [f"{path}: {n}" for n in needles if n.encode() in data or n in path.name]
    return found


def test_nothing_of_a_deleted_employee_is_left_in_either_database_or_any_stored_file(
    world, settings, tmp_path
):
    settings.SMS_FILE_PATH = str(tmp_path / "sms-outbox.txt")
    settings.AUDIT_EXPORT_DIR = str(tmp_path / "audit-exports")
    birth_date = date(1931, 2, 17)
    person = make_employee(
        world.employer, department=world.kantoor, personnel_number="PQX77123",
        first_name="Zwaantje", surname="Quirijnsma", birth_date=birth_date, postcode="9431QX",
        phone="+31687654321", email="z.quirijnsma@example.test",
        employment_end=TODAY - timedelta(days=3 * 365),
    )  # fmt: skip
    person.set_bsn("023456784")
    person.save()
    bsn_index = person.bsn_index
    case = report_sick(
        person,
        first_sick_day=TODAY - timedelta(days=30 * 365),
        recovered_on=TODAY - timedelta(days=30 * 365 - 200),
        contact_phone="+31687654321",
        remarks="Bereikbaar via Zwaantje Quirijnsma",
    )
    CaseNote.objects.create(
        tenant=case.tenant, case=case, text="Gesprek met Quirijnsma", author=world.hr
    )
    CaseDocument.objects.create(
        tenant=case.tenant, case=case, title="Plan Quirijnsma", file_name="quirijnsma-pva.pdf",
        content_type="application/pdf", size=9, content=b"Quirijnsma", uploaded_by=world.hr,
    )  # fmt: skip
    note = MedicalNote.objects.create(
        tenant=case.tenant, case=case, text="Quirijnsma medisch", author=world.bedrijfsarts
    )
    document = MedicalDocument.objects.create(
        tenant=case.tenant, case=case, title="MRI Quirijnsma", file_name="mri-quirijnsma.pdf",
        content_type="application/pdf", size=9, content=b"Quirijnsma",
        uploaded_by=world.bedrijfsarts,
    )  # fmt: skip
    twenty_one_years_ago = timezone.now() - timedelta(days=21 * 366)
    MedicalNote.objects.filter(pk=note.pk).update(created_at=twenty_one_years_ago)
    MedicalDocument.objects.filter(pk=document.pk).update(uploaded_at=twenty_one_years_ago)
    LegalHold.objects.create(
        tenant=world.tenant, employee=person, case=case, reason="labour_conflict",
        ends_on=TODAY - timedelta(days=400), placed_by=world.hr,
    )  # fmt: skip
    account = make_user(
        world.tenant, "z.quirijnsma@example.test", employee=person, last_name="Quirijnsma"
    )
    account.first_name = "Zwaantje"
    account.save()
    SMSDevice.objects.create(user=account, name="telefoon", number="+31687654321", confirmed=True)
    SMSMessage.objects.create(tenant=world.tenant, user=account, purpose="login", status="sent")
    FileBackend().send("+31687654321", "Uw code is 123456")
    FileBackend().send("+31600000000", "Uw code is 654321")  # someone else's: stays
    the_import = make_import(
        world.hr,
        b"personeelsnummer;voornaam;achternaam;geboortedatum;postcode\n"
        b"PQX77123;Zwaantje;Quirijnsma;17-02-1931;9431QX\n",
    )
    EmployeeImport.objects.filter(pk=the_import.pk).update(status="committed")
    needles = [
        "Zwaantje", "Quirijnsma", "PQX77123", "023456784", "9431QX", "687654321",
        "z.quirijnsma", "quirijnsma-pva.pdf", "mri-quirijnsma.pdf", "17-02-1931", "1931-02-17",
        bsn_index,
    ]  # fmt: skip
    drain_outbox()
    assert residue("default", needles, birth_date)  # the search finds them before

    scan_tenant(world.tenant)

    def keys():
        rows = RetentionDue.objects.filter(employee=person)
        return [str(key) for key in rows.values_list("key", flat=True)]

    # The company doctor deletes the medical file, then HR the rest (each with their rights).
    plan = deletion.build_plan(world.bedrijfsarts, due_keys=keys(), import_keys=[])
    assert plan.categories == [Category.MEDICAL]
    request = deletion.request_deletion(by=world.bedrijfsarts, plan=plan, typed=phrase(1))
    deletion.run_deletion(request.pk)
    plan = deletion.build_plan(world.hr, due_keys=keys(), import_keys=[])
    assert plan.whole == 1
    request = deletion.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    deletion.run_deletion(request.pk)
    request.refresh_from_db()
    assert request.employees_deleted == 1
    assert not Employee.objects.filter(pk=person.pk).exists()
    drain_outbox()  # the deletion's audit events reach the audit store too

    assert residue("default", needles, birth_date) == []
    assert residue("audit", needles, birth_date) == []
    assert files_with([tmp_path], needles) == []
    assert "+31600000000" in Path(settings.SMS_FILE_PATH).read_text()  # only theirs was removed
    # The audit trail keeps its records of the deletion under the pseudonymous key.
    with connections["audit"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM audit_auditevent WHERE subject_key = %s AND action = 'D'",
            [person.key],
        )
        assert cursor.fetchone()[0] > 0
