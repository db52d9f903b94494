"""HR enters and changes employees, ends employment, exports; the BSN only where allowed."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import AuditEvent, OutboxEvent
from audit.tasks import drain_outbox
from cases.models import AbsenceCase
from employees.models import Employee, EmploymentTerms
from employees.services import refresh_part_time_factors
from tests.conftest import grant, make_user, search, verified_login

TODAY = timezone.localdate()


def new_employee_data(world, **changes) -> dict:
    data = {
        "personnel_number": "N-001",
        "initials": "A.B.",
        "first_name": "Anna",
        "surname_prefix": "de",
        "surname": "Vries",
        "birth_date": "1990-05-17",
        "gender": "female",
        "postcode": "1234 ab",
        "email": "anna@example.nl",
        "phone": "06 12345678",
        "employer": world.employer.pk,
        "department": world.inpak.pk,
        "employment_start": "2024-02-01",
        "employment_end": "",
        "contract_hours": "32",
        "full_time_hours": "40",
    }
    data.update(changes)
    return data


def edit_data(employee: Employee, **changes) -> dict:
    terms = employee.terms.order_by("-valid_from").first()
    data = {
        "personnel_number": employee.personnel_number,
        "initials": employee.initials,
        "first_name": employee.first_name,
        "surname_prefix": employee.surname_prefix,
        "surname": employee.surname,
        "birth_date": employee.birth_date.isoformat(),
        "gender": employee.gender,
        "postcode": employee.postcode,
        "email": employee.email,
        "phone": employee.phone,
        "employer": employee.employer_id,
        "department": employee.department_id or "",
        "employment_start": employee.employment_start.isoformat(),
        "employment_end": "",
        "contract_hours": str(terms.contract_hours if terms else 40),
        "full_time_hours": str(terms.full_time_hours if terms else 40),
        "version": employee.version,
    }
    data.update(changes)
    return data


def test_hr_adds_an_employee_with_normalised_details_and_dated_hours(hr_client, world):
    response = hr_client.post(reverse("employees:create"), new_employee_data(world))
    assert response.status_code == 302
    employee = Employee.objects.get(personnel_number="N-001")
    assert response.url == reverse("employees:detail", kwargs={"key": employee.key})
    assert "N-001" not in response.url and "Vries" not in response.url
    assert employee.postcode == "1234AB"
    assert employee.phone == "+31612345678"
    assert employee.part_time_factor == Decimal("0.800")
    assert employee.bsn is None and employee.bsn_index == ""  # no BSN typed: none stored
    terms = EmploymentTerms.objects.get(employee=employee)
    assert terms.valid_from == date(2024, 2, 1)
    assert (terms.contract_hours, terms.full_time_hours) == (Decimal("32"), Decimal("40"))
    page = hr_client.get(response.url).content.decode()
    assert "Vries" in page and str(employee.key) in page


def test_the_new_employee_is_found_by_surname(hr_client, world):
    hr_client.post(reverse("employees:create"), new_employee_data(world))
    page = search(hr_client, {"surname": "vries"}).content.decode()
    assert "Vries, Anna de" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("postcode", "123AB"),
        ("postcode", "1234 SS"),
        ("birth_date", "2031-02-30"),
        ("birth_date", (TODAY + timedelta(days=1)).isoformat()),
        ("phone", "12"),
        ("employment_start", "1980-01-01"),
        ("contract_hours", "50"),
        ("department", "kantoor-of-b"),
    ],
)
def test_invalid_input_gives_a_field_error_and_changes_nothing(hr_client, world, field, value):
    if value == "kantoor-of-b":
        value = world.kantoor.pk
        data = new_employee_data(world, employer=world.employer_b.pk, department=value)
    else:
        data = new_employee_data(world, **{field: value})
    response = hr_client.post(reverse("employees:create"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    assert form["surname"].value() == "Vries"  # what was typed stays
    assert not Employee.objects.filter(personnel_number="N-001").exists()


def test_a_duplicate_personnel_number_is_refused(hr_client, world):
    data = new_employee_data(world, personnel_number=world.employee.personnel_number)
    response = hr_client.post(reverse("employees:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Employee.objects.filter(personnel_number=world.employee.personnel_number).count() == 1


def test_an_end_before_the_start_is_refused(hr_client, world):
    data = new_employee_data(world, employment_end="2020-01-01")
    response = hr_client.post(reverse("employees:create"), data)
    assert response.status_code == 200
    assert not Employee.objects.filter(personnel_number="N-001").exists()


def test_changed_hours_start_new_terms_and_keep_the_old_ones(hr_client, world):
    hr_client.post(reverse("employees:create"), new_employee_data(world))
    employee = Employee.objects.get(personnel_number="N-001")
    url = reverse("employees:edit", kwargs={"key": employee.key})
    start = TODAY - timedelta(days=10)
    response = hr_client.post(
        url, edit_data(employee, contract_hours="20", terms_from=start.isoformat())
    )
    assert response.status_code == 302, response.context["form"].errors
    history = list(
        employee.terms.order_by("valid_from").values_list("valid_from", "contract_hours")
    )
    assert history == [(date(2024, 2, 1), Decimal("32")), (start, Decimal("20"))]
    employee.refresh_from_db()
    assert employee.part_time_factor == Decimal("0.500")
    assert employee.version == 2


def test_a_stale_form_is_refused_not_overwritten(hr_client, world):
    employee = world.healthy
    url = reverse("employees:edit", kwargs={"key": employee.key})
    stale = edit_data(employee, first_name="Eerste")
    assert hr_client.post(url, edit_data(employee, first_name="Tweede")).status_code == 302
    response = hr_client.post(url, stale)
    assert response.status_code == 200
    assert "Iemand anders" in response.content.decode()
    employee.refresh_from_db()
    assert employee.first_name == "Tweede"


def test_a_department_scoped_editor_cannot_move_an_employee_out_of_scope(client, world):
    editor = make_user(world.tenant, "productie-hr@a.test")
    grant(editor, world.roles["hr"], departments=[world.department])
    verified_login(client, editor)
    url = reverse("employees:edit", kwargs={"key": world.employee.key})
    response = client.post(url, edit_data(world.employee, department=world.kantoor.pk))
    assert response.status_code == 200
    world.employee.refresh_from_db()
    assert world.employee.department_id == world.department.pk
    # Within the subtree is fine.
    response = client.post(url, edit_data(world.employee, department=world.inpak.pk))
    assert response.status_code == 302
    world.employee.refresh_from_db()
    assert world.employee.department_id == world.inpak.pk


def test_the_manager_cannot_edit_or_move_employees(client, world):
    verified_login(client, world.manager)
    url = reverse("employees:edit", kwargs={"key": world.employee.key})
    assert client.get(url).status_code == 403
    assert (
        client.post(url, edit_data(world.employee, department=world.kantoor.pk)).status_code == 403
    )
    world.employee.refresh_from_db()
    assert world.employee.department_id == world.department.pk


def test_ending_employment_keeps_the_open_case_and_hides_the_leaver_by_default(hr_client, world):
    url = reverse("employees:end", kwargs={"key": world.employee.key})
    page = hr_client.get(url).content.decode()
    assert "vangnet" in page
    last_day = TODAY - timedelta(days=1)
    response = hr_client.post(url, {"last_day": last_day.isoformat(), "version": 1})
    assert response.status_code == 302
    world.employee.refresh_from_db()
    assert world.employee.employment_end == last_day
    assert AbsenceCase.objects.get(pk=world.case.pk).recovered_on is None
    listing = hr_client.get(reverse("employees:list")).content.decode()
    assert "Jansen" not in listing
    listing = search(hr_client, {"former": "on"}).content.decode()
    assert "Jansen" in listing


def test_the_end_of_employment_cannot_precede_its_start(hr_client, world):
    url = reverse("employees:end", kwargs={"key": world.employee.key})
    response = hr_client.post(url, {"last_day": "2000-01-01", "version": 1})
    assert response.status_code == 200
    world.employee.refresh_from_db()
    assert world.employee.employment_end is None


def test_without_the_setting_no_bsn_is_shown_taken_or_searched(hr_client, world):
    world.tenant.bsn_allowed = False
    world.tenant.save()
    page = hr_client.get(reverse("employees:detail", kwargs={"key": world.employee.key}))
    assert "BSN" not in page.content.decode()
    hr_client.post(reverse("employees:create"), new_employee_data(world, bsn="111222333"))
    employee = Employee.objects.get(personnel_number="N-001")
    assert employee.bsn is None
    form = hr_client.get(reverse("employees:create")).context["form"]
    assert "bsn" not in form.fields
    search = hr_client.get(reverse("employees:list")).context["form"]
    assert "bsn" not in search.fields


def test_with_the_setting_the_bsn_is_checked_sealed_masked_and_searchable(hr_client, world):
    response = hr_client.post(reverse("employees:create"), new_employee_data(world, bsn="123"))
    assert response.context["form"].errors["bsn"]
    response = hr_client.post(
        reverse("employees:create"), new_employee_data(world, bsn="111222333")
    )
    assert response.status_code == 302
    employee = Employee.objects.get(personnel_number="N-001")
    assert employee.bsn == "111222333" and b"111222333" not in bytes(employee.bsn_sealed)
    page = hr_client.get(response.url).content.decode()
    assert "•••••2333" in page and "111222333" not in page
    found = search(hr_client, {"bsn": "111222333"}).context["page"]
    assert [e.pk for e in found] == [employee.pk]


def test_revealing_the_full_bsn_is_an_audited_action(hr_client, world):
    world.employee.set_bsn("111222333")
    world.employee.save()
    OutboxEvent.objects.all().delete()
    response = hr_client.post(reverse("employees:reveal_bsn", kwargs={"key": world.employee.key}))
    assert response.status_code == 200 and "111222333" in response.content.decode()
    assert "no-store" in response["Cache-Control"].split(", ")  # and "private", for any user
    drain_outbox()  # what the worker does after the response
    revealed = AuditEvent.objects.using("audit").get(event_type="employee.bsn_reveal")
    assert revealed.subject_key == world.employee.key and revealed.action == "R"
    assert (
        hr_client.get(
            reverse("employees:reveal_bsn", kwargs={"key": world.employee.key})
        ).status_code
        == 405
    )


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_export_has_the_unique_key_first_and_only_visible_employees(hr_client, world):
    world.tenant.bsn_allowed = False
    world.tenant.save()
    world.healthy.first_name = "=HYPERLINK(1)"
    world.healthy.save()
    response = hr_client.get(reverse("employees:export_csv"))
    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0][:2] == ["Unieke sleutel", "Actie"]
    assert "BSN" not in rows[0]
    keys = {row[0] for row in rows[1:]}
    assert str(world.employee.key) in keys and str(world.other_employee.key) not in keys
    healthy = next(row for row in rows if row[0] == str(world.healthy.key))
    assert healthy[1] == "bijwerken" and healthy[4] == "'=HYPERLINK(1)"
    assert "Productie/Inpak" not in {row[13] for row in rows}  # Jansen sits in Productie itself
    assert "Productie" in {row[13] for row in rows}


def test_the_xlsx_export_matches_the_csv_columns(hr_client, world):
    csv_rows = read_csv(hr_client.get(reverse("employees:export_csv")))
    workbook = load_workbook(io.BytesIO(hr_client.get(reverse("employees:export_xlsx")).content))
    header = [cell.value for cell in next(workbook.active.iter_rows(max_row=1))]
    assert header == csv_rows[0] and header[-1] == "BSN"
    assert workbook.active.max_row == len(csv_rows)


def test_the_export_is_audited_with_its_row_count_and_needs_the_permission(
    client, hr_client, world
):
    OutboxEvent.objects.all().delete()
    rows = read_csv(hr_client.get(reverse("employees:export_csv")))
    verified_login(client, world.manager)
    assert client.get(reverse("employees:export_csv")).status_code == 403
    drain_outbox()
    exported = AuditEvent.objects.using("audit").filter(event_type="employee.export")
    assert [event.result_count for event in exported] == [len(rows) - 1]


def test_a_form_without_the_version_it_showed_is_refused(hr_client, world):
    url = reverse("employees:edit", kwargs={"key": world.healthy.key})
    data = edit_data(world.healthy, first_name="Zonder")
    del data["version"]
    assert hr_client.post(url, data).status_code == 200
    world.healthy.refresh_from_db()
    assert world.healthy.first_name != "Zonder"


def test_nobody_is_placed_in_a_closed_department(hr_client, world):
    world.kantoor.closed_on = TODAY - timedelta(days=1)
    world.kantoor.save()
    url = reverse("employees:edit", kwargs={"key": world.employee.key})
    response = hr_client.post(url, edit_data(world.employee, department=world.kantoor.pk))
    assert response.status_code == 200
    world.employee.refresh_from_db()
    assert world.employee.department_id == world.department.pk


def test_an_exporter_who_may_not_edit_gets_no_bsn(client, world):
    world.employee.set_bsn("111222333")
    world.employee.save()
    exporter = make_user(world.tenant, "teamleider@a.test")
    grant(exporter, world.roles["arbo-teamleider"], provider=world.arbo)
    verified_login(client, exporter)
    rows = read_csv(client.get(reverse("employees:export_csv")))
    assert "BSN" not in rows[0] and all("111222333" not in row for row in rows)


def test_hr_exporting_bsns_is_an_event_of_its_own(hr_client, world):
    world.employee.set_bsn("111222333")
    world.employee.save()
    rows = read_csv(hr_client.get(reverse("employees:export_csv")))
    assert rows[0][-1] == "BSN"
    jansen = next(row for row in rows if row[0] == str(world.employee.key))
    assert jansen[-1] == "111222333"
    drain_outbox()
    event = AuditEvent.objects.using("audit").get(event_type="employee.export_bsn")
    assert event.result_count == sum(1 for row in rows[1:] if row[-1])


def test_the_end_page_tells_of_an_open_case_only_to_those_who_see_cases(client, world):
    from domains.models import Role
    from domains.permissions import Perm

    role = Role.objects.create(
        tenant=world.tenant, name="Alleen stamgegevens", domain="werkgever",
        permissions=[Perm.EMPLOYEE_VIEW, Perm.EMPLOYEE_EDIT],
    )  # fmt: skip
    editor = make_user(world.tenant, "stam@a.test")
    grant(editor, role, employers=[world.employer])
    verified_login(client, editor)
    page = client.get(reverse("employees:end", kwargs={"key": world.employee.key}))
    assert page.status_code == 200 and "vangnet" not in page.content.decode()


def test_hours_from_a_future_date_change_the_factor_on_that_date(hr_client, world):
    hr_client.post(reverse("employees:create"), new_employee_data(world))
    employee = Employee.objects.get(personnel_number="N-001")
    later = TODAY + timedelta(days=10)
    url = reverse("employees:edit", kwargs={"key": employee.key})
    hr_client.post(url, edit_data(employee, contract_hours="20", terms_from=later.isoformat()))
    employee.refresh_from_db()
    assert employee.part_time_factor == Decimal("0.800")  # not yet
    assert refresh_part_time_factors(on=TODAY) == 0
    assert refresh_part_time_factors(on=later) == 1
    employee.refresh_from_db()
    assert employee.part_time_factor == Decimal("0.500")
