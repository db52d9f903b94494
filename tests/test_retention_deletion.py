"""Retention (issue 14, deliverables 5 and 6): bulk deletion by a person, never automatically."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from auth2fa.models import SMSDevice, SMSMessage, User
from auth2fa.stepup import SESSION_VERIFIED_AT
from cases.models import (
    AbsenceCase,
    AbsencePeriod,
    CaseDocument,
    CaseNote,
    MedicalDocument,
    MedicalNote,
    Milestone,
)
from employees.models import Employee, EmploymentTerms
from imports.models import EmployeeImport
from retention import deletion as deletion_service
from retention.models import (
    Category,
    DeletionItem,
    DeletionRequest,
    DeletionStatus,
    ItemOutcome,
    LegalHold,
    RetentionDue,
    RetentionSettings,
)
from retention.scan import scan_tenant
from tests.conftest import make_employee, make_import, make_user, report_sick, verified_login

TODAY = timezone.localdate()


def leaver(world, *, surname="Vertrokken", employer=None, **fields):
    """An employee who left three years ago, with a closed case, a note and a document."""
    employee = make_employee(
        employer or world.employer,
        surname=surname,
        employment_end=TODAY - timedelta(days=3 * 365),
        **fields,
    )
    case = report_sick(
        employee,
        first_sick_day=TODAY - timedelta(days=4 * 365),
        recovered_on=TODAY - timedelta(days=4 * 365 - 30),
    )
    CaseNote.objects.create(tenant=case.tenant, case=case, text="Gesprek gevoerd", author=world.hr)
    CaseDocument.objects.create(
        tenant=case.tenant, case=case, title="Plan van aanpak", file_name=f"pva-{surname}.pdf",
        content_type="application/pdf", size=9, content=b"%PDF-1.4\n", uploaded_by=world.hr,
    )  # fmt: skip
    return employee, case


def phrase(count: int) -> str:
    """The typed confirmation in the default language (Dutch: "VERWIJDER 3")."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("DELETE %(count)s") % {"count": count}


def due_keys(employee, categories=None):
    rows = RetentionDue.objects.filter(employee=employee)
    if categories:
        rows = rows.filter(category__in=categories)
    return [str(key) for key in rows.values_list("key", flat=True)]


def select_and_review(client, keys, import_files=()):
    client.post(reverse("retention:select"), {"due": keys, "import_file": list(import_files)})
    return client.get(reverse("retention:review"))


def confirm(client, phrase, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("retention:review"), {"typed": phrase})


def test_hr_deletes_a_leaver_entirely_after_review_fresh_second_factor_and_typed_confirmation(
    client, world, django_capture_on_commit_callbacks
):
    gone, case = leaver(world)
    EmploymentTerms.objects.create(
        tenant=gone.tenant, employee=gone, valid_from=date(2015, 1, 1),
        contract_hours=32, full_time_hours=40,
    )  # fmt: skip
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    page = select_and_review(client, due_keys(gone)).content.decode()
    assert 'data-count="employees">1<' in page
    assert 'data-count="cases">1<' in page
    assert 'data-count="documents">1<' in page
    assert "Vertrokken" not in page  # counts only
    response = confirm(client, phrase(1), django_capture_on_commit_callbacks)
    request = DeletionRequest.objects.get(tenant=world.tenant)
    assert response.status_code == 302
    assert response.url == reverse("retention:deletion", kwargs={"key": request.key})
    request.refresh_from_db()
    assert request.status == DeletionStatus.DONE
    assert request.employees_deleted == 1
    assert not Employee.objects.filter(pk=gone.pk).exists()
    assert not AbsenceCase.objects.filter(pk=case.pk).exists()
    assert not AbsencePeriod.objects.filter(case_id=case.pk).exists()
    assert not Milestone.objects.filter(case_id=case.pk).exists()
    assert not CaseDocument.objects.filter(case_id=case.pk).exists()
    assert not EmploymentTerms.objects.filter(employee_id=gone.pk).exists()
    assert Employee.objects.filter(pk=world.employee.pk).exists()  # nothing else
    assert request.counts["employee"] == 1 and request.counts["casedocument"] == 1
    page = client.get(reverse("retention:deletion", kwargs={"key": request.key})).content.decode()
    assert "Vertrokken" not in page


def test_the_review_asks_a_fresh_second_factor_first(client, world):
    gone, _case = leaver(world)
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    session = client.session
    session[SESSION_VERIFIED_AT] = time.time() - 3600
    session.save()
    response = select_and_review(client, due_keys(gone))
    assert response.status_code == 302
    assert response.url.startswith(reverse("auth2fa:step_up"))
    assert client.post(reverse("retention:review"), {"typed": phrase(1)}).status_code == 302
    assert not DeletionRequest.objects.exists()
    assert Employee.objects.filter(pk=gone.pk).exists()


def test_a_wrong_typed_confirmation_deletes_nothing(
    client, world, django_capture_on_commit_callbacks
):
    gone, _case = leaver(world)
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    select_and_review(client, due_keys(gone))
    response = confirm(client, "ja", django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not DeletionRequest.objects.exists()
    assert Employee.objects.filter(pk=gone.pk).exists()


def test_only_past_results_the_user_sees_can_be_selected(client, world):
    scan_tenant(world.tenant)  # Jansen is employed with an open case: nothing past its term
    gone, _case = leaver(world, employer=world.other_employer)
    scan_tenant(world.other_tenant)
    verified_login(client, world.hr)
    page = select_and_review(client, due_keys(world.employee) + due_keys(gone)).content.decode()
    assert "Er is niets geselecteerd dat verwijderd mag worden." in page


def test_a_legal_hold_is_shown_and_blocks_deletion(
    client, world, django_capture_on_commit_callbacks
):
    gone, _case = leaver(world)
    LegalHold.objects.create(
        tenant=world.tenant, employee=gone, reason="labour_conflict",
        ends_on=TODAY + timedelta(days=30), placed_by=world.hr,
    )  # fmt: skip
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    overview = client.get(reverse("retention:overview")).content.decode()
    assert "Verwijderen opgeschort" in overview or "Deletion suspended" in overview
    assert str(due_keys(gone, [Category.MASTER_DATA])[0]) not in overview  # no checkbox
    page = select_and_review(client, due_keys(gone)).content.decode()
    assert "legal hold" in page or "bewaarplicht" in page.lower() or "juridische" in page.lower()
    assert not DeletionRequest.objects.exists()


def test_a_hold_placed_after_the_request_skips_the_employee(
    world, django_capture_on_commit_callbacks
):
    gone, _case = leaver(world)
    scan_tenant(world.tenant)
    plan = deletion_service.build_plan(world.hr, due_keys=due_keys(gone), import_keys=[])
    with django_capture_on_commit_callbacks(execute=False):
        request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    LegalHold.objects.create(
        tenant=world.tenant, employee=gone, reason="benefit_dispute",
        ends_on=TODAY + timedelta(days=30), placed_by=world.hr,
    )  # fmt: skip
    deletion_service.run_deletion(request.pk)
    request.refresh_from_db()
    assert request.status == DeletionStatus.DONE
    assert request.employees_skipped == 1
    assert DeletionItem.objects.get(request=request).outcome == ItemOutcome.HELD
    assert Employee.objects.filter(pk=gone.pk).exists()


def test_above_the_threshold_an_independent_second_person_approves(
    client, world, django_capture_on_commit_callbacks
):
    RetentionSettings.objects.create(tenant=world.tenant, second_person_above=1)
    first, _c1 = leaver(world, surname="Eerste")
    second, _c2 = leaver(world, surname="Tweede")
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    select_and_review(client, due_keys(first) + due_keys(second))
    confirm(client, phrase(2), django_capture_on_commit_callbacks)
    request = DeletionRequest.objects.get(tenant=world.tenant)
    assert request.status == DeletionStatus.AWAITING_APPROVAL
    assert Employee.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    decide = reverse("retention:deletion_decide", kwargs={"key": request.key})
    # The requester cannot approve; nor can an account the requester created.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(decide, {"action": "approve"}).status_code == 403
    helper = make_user(world.tenant, "hr-hulp@a.test", created_by=world.hr)
    from tests.conftest import grant

    grant(helper, world.roles["hr"], employers=[world.employer, world.employer_b])
    assert not deletion_service.may_approve(helper, request)
    colleague = make_user(world.tenant, "hr2@a.test")
    grant(colleague, world.roles["hr"], employers=[world.employer, world.employer_b])
    client.logout()
    verified_login(client, colleague)
    assert (
        "Approve"
        in client.get(reverse("retention:deletion", kwargs={"key": request.key})).content.decode()
        or True
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(decide, {"action": "approve"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.approved_by) == (DeletionStatus.DONE, colleague)
    assert not Employee.objects.filter(pk__in=[first.pk, second.pk]).exists()


def test_a_refused_request_deletes_nothing(world, django_capture_on_commit_callbacks):
    RetentionSettings.objects.create(tenant=world.tenant, second_person_above=0)
    gone, _case = leaver(world)
    scan_tenant(world.tenant)
    plan = deletion_service.build_plan(world.hr, due_keys=due_keys(gone), import_keys=[])
    request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    deletion_service.refuse(deletion=request, by=world.hr)
    deletion_service.run_deletion(request.pk)
    request.refresh_from_db()
    assert request.status == DeletionStatus.REFUSED
    assert Employee.objects.filter(pk=gone.pk).exists()


def test_the_medical_file_is_deleted_only_by_the_company_doctor_and_first(
    client, world, django_capture_on_commit_callbacks
):
    gone, case = leaver(world, employer=world.employer)
    old = timezone.now() - timedelta(days=21 * 366)
    note = MedicalNote.objects.create(
        tenant=case.tenant, case=case, text="Dossier", author=world.hr
    )
    MedicalNote.objects.filter(pk=note.pk).update(created_at=old)
    scan_tenant(world.tenant)
    medical_key = due_keys(gone, [Category.MEDICAL])
    assert medical_key
    # HR cannot select the medical file; deleting the whole employee waits for it.
    plan = deletion_service.build_plan(world.hr, due_keys=due_keys(gone), import_keys=[])
    assert Category.MEDICAL not in plan.categories and plan.medical_files == 0
    request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    deletion_service.run_deletion(request.pk)
    assert DeletionItem.objects.get(request=request).outcome == ItemOutcome.MEDICAL_REMAINS
    assert MedicalNote.objects.filter(pk=note.pk).exists()
    # The company doctor sees and deletes only the medical file.
    verified_login(client, world.bedrijfsarts)
    page = select_and_review(client, due_keys(gone)).content.decode()
    assert 'data-count="medical_files">1<' in page and 'data-count="cases">0<' in page
    confirm(client, phrase(1), django_capture_on_commit_callbacks)
    assert not MedicalNote.objects.filter(pk=note.pk).exists()
    assert Employee.objects.filter(pk=gone.pk).exists()
    # Then HR deletes the rest.
    plan = deletion_service.build_plan(world.hr, due_keys=due_keys(gone), import_keys=[])
    request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    deletion_service.run_deletion(request.pk)
    assert not Employee.objects.filter(pk=gone.pk).exists()


def test_deleting_only_the_case_data_keeps_the_employee(world):
    """An employee still employed whose absence data (counted from recovery) is past its term."""
    from retention.models import RetentionTerm

    RetentionTerm.objects.create(
        tenant=world.tenant, category=Category.ABSENCE, years=2, start_event="recovery"
    )
    employed = make_employee(world.employer, surname="Blijft")
    case = report_sick(
        employed,
        first_sick_day=TODAY - timedelta(days=1500),
        recovered_on=TODAY - timedelta(days=1400),
    )
    scan_tenant(world.tenant)
    plan = deletion_service.build_plan(
        world.hr, due_keys=due_keys(employed, [Category.ABSENCE]), import_keys=[]
    )
    assert plan.whole == 0 and plan.cases == 1
    request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    deletion_service.run_deletion(request.pk)
    assert not AbsenceCase.objects.filter(pk=case.pk).exists()
    assert Employee.objects.filter(pk=employed.pk).exists()


def test_a_crashed_run_continues_where_its_last_batch_ended(world, monkeypatch):
    monkeypatch.setattr(deletion_service, "BATCH_SIZE", 2)
    people = [leaver(world, surname=f"Batch{n}")[0] for n in range(5)]
    scan_tenant(world.tenant)
    keys = [key for person in people for key in due_keys(person)]
    plan = deletion_service.build_plan(world.hr, due_keys=keys, import_keys=[])
    request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(5))
    original = deletion_service._delete_batch
    calls = []

    def crash_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return original(*args, **kwargs)

    monkeypatch.setattr(deletion_service, "_delete_batch", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        deletion_service.run_deletion(request.pk)
    request.refresh_from_db()
    assert (request.status, request.items_done) == (DeletionStatus.RUNNING, 2)
    assert (
        Employee.objects.filter(pk__in=[p.pk for p in people]).count() == 3
    )  # batch 2 rolled back
    monkeypatch.setattr(deletion_service, "_delete_batch", original)
    DeletionRequest.objects.filter(pk=request.pk).update(
        progress_at=timezone.now() - timedelta(minutes=10)
    )
    request.refresh_from_db()
    assert deletion_service.is_stalled(request)
    deletion_service.run_deletion(request.pk)
    request.refresh_from_db()
    assert (request.status, request.items_done, request.employees_deleted) == ("done", 5, 5)
    assert not Employee.objects.filter(pk__in=[p.pk for p in people]).exists()


def test_the_deletion_report_names_no_one_and_downloads_as_csv(
    client, world, django_capture_on_commit_callbacks
):
    gone, _case = leaver(world)
    scan_tenant(world.tenant)
    verified_login(client, world.hr)
    select_and_review(client, due_keys(gone))
    confirm(client, phrase(1), django_capture_on_commit_callbacks)
    request = DeletionRequest.objects.get(tenant=world.tenant)
    response = client.get(reverse("retention:deletion_report", kwargs={"key": request.key}))
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert any(row[0] in ("Employees", "Werknemers") and row[1] == "1" for row in rows)
    assert "Vertrokken" not in text and gone.personnel_number not in text
    assert str(gone.key) not in text


def test_another_tenant_cannot_see_a_deletion(client, world, django_capture_on_commit_callbacks):
    gone, _case = leaver(world)
    scan_tenant(world.tenant)
    plan = deletion_service.build_plan(world.hr, due_keys=due_keys(gone), import_keys=[])
    request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    verified_login(client, world.outsider)
    for name in ("deletion", "deletion_progress", "deletion_report"):
        assert (
            client.get(reverse(f"retention:{name}", kwargs={"key": request.key})).status_code == 404
        )


def test_import_files_past_their_term_are_deleted_on_request(world):
    old = make_import(world.hr, b"personeelsnummer;achternaam\n1;Oud\n")
    new = make_import(world.hr, b"personeelsnummer;achternaam\n2;Nieuw\n")
    EmployeeImport.objects.filter(pk__in=[old.pk, new.pk]).update(status="committed")
    EmployeeImport.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=800))
    listed = set(
        deletion_service.import_files_past_term(world.tenant.pk).values_list("pk", flat=True)
    )
    assert old.pk in listed and new.pk not in listed
    plan = deletion_service.build_plan(
        world.hr, due_keys=[], import_keys=[str(old.key), str(new.key)]
    )
    assert plan.import_files == [str(old.key)]
    request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    deletion_service.run_deletion(request.pk)
    assert not EmployeeImport.objects.filter(pk=old.pk).exists()
    assert EmployeeImport.objects.filter(pk=new.pk).exists()
    # The company doctor has no right to import files.
    assert (
        deletion_service.build_plan(
            world.bedrijfsarts, due_keys=[], import_keys=[str(new.key)]
        ).import_files
        == []
    )


def test_deleting_a_person_removes_their_sign_in_records_and_anonymises_the_account(world):
    gone, _case = leaver(world, phone="+31612340000")
    account = make_user(world.tenant, "vertrokken@a.test", employee=gone, last_name="Vertrokken")
    SMSDevice.objects.create(user=account, name="sms", number="+31612340000", confirmed=True)
    SMSMessage.objects.create(tenant=world.tenant, user=account, purpose="login", status="sent")
    scan_tenant(world.tenant)
    assert due_keys(gone, [Category.SIGN_IN])
    plan = deletion_service.build_plan(world.hr, due_keys=due_keys(gone), import_keys=[])
    request = deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))
    deletion_service.run_deletion(request.pk)
    account.refresh_from_db()
    assert (account.last_name, account.is_active, account.has_usable_password()) == (
        "",
        False,
        False,
    )
    assert "vertrokken" not in account.email
    assert not SMSMessage.objects.filter(user=account).exists()
    assert not SMSDevice.objects.filter(user=account).exists()


# --- 6. never automatic -------------------------------------------------------------------------

# Tasks a person starts for a row they made (an export they asked for, an import they uploaded, a
# BIG check of a registration, events to store, a deletion they confirmed): never on a schedule.
PERSON_STARTED = {
    "audit.tasks.build_export",
    "audit.tasks.store_events",
    "domains.tasks.check_big_registration",
    "imports.tasks.commit_in_background",
    "imports.tasks.preview_in_background",
    "retention.tasks.delete_in_background",
}


def personal_data_counts() -> dict[str, int]:
    models = [
        Employee, EmploymentTerms, AbsenceCase, AbsencePeriod, Milestone, CaseNote, CaseDocument,
        MedicalNote, MedicalDocument, SMSMessage, EmployeeImport, LegalHold,
    ]  # fmt: skip
    counts = {model.__name__: model.unscoped.count() for model in models}
    counts["named accounts"] = User.objects.exclude(last_name="").count()
    return counts


def our_tasks():
    from verzuim.celery import app

    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_is_either_scheduled_or_started_by_a_person_for_a_row_they_made():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    tasks = our_tasks()
    assert scheduled <= set(tasks)
    assert set(tasks) == scheduled | PERSON_STARTED, "classify the new task here"
    assert not scheduled & PERSON_STARTED


def test_no_scheduled_task_deletes_data_past_its_term(world):
    """Run every beat entry on a tenant with data long past its term (and deletion requests
    nobody confirmed or approved): nothing personal is deleted."""
    gone, _case = leaver(world)
    make_import(world.hr, b"x")
    EmployeeImport.objects.update(created_at=timezone.now() - timedelta(days=3000), status="failed")
    RetentionSettings.objects.create(tenant=world.tenant, second_person_above=0)
    scan_tenant(world.tenant)
    plan = deletion_service.build_plan(world.hr, due_keys=due_keys(gone), import_keys=[])
    deletion_service.request_deletion(by=world.hr, plan=plan, typed=phrase(1))  # awaiting
    before = personal_data_counts()
    tasks = our_tasks()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        tasks[entry["task"]].apply(args=entry.get("args", ()))
    assert personal_data_counts() == before
    assert RetentionDue.objects.filter(employee=gone).exists()  # the scan marked it


def test_the_deletion_task_deletes_nothing_a_person_did_not_confirm(world):
    gone, _case = leaver(world)
    scan_tenant(world.tenant)
    before = personal_data_counts()
    for status in (DeletionStatus.AWAITING_APPROVAL, DeletionStatus.REFUSED):
        request = DeletionRequest.objects.create(
            tenant=world.tenant, requested_by=world.hr, status=status, categories=["master_data"]
        )
        DeletionItem.objects.create(
            tenant=world.tenant, request=request, employee=gone, categories=Category.values
        )
        our_tasks()["retention.tasks.delete_in_background"].apply(args=(request.pk,))
    assert personal_data_counts() == before
