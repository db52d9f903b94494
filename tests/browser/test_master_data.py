"""Master data in real Chromium, in Dutch: HR enters an employee and follows them to the end of
their employment; invalid input is shown on the form and saves nothing; a manager cannot change
an employee and an HR user scoped to one department cannot move one out of it; the functional
admin adds a department and ends a contract with the arbodienst."""

from __future__ import annotations

import base64
import re
from datetime import date, timedelta
from decimal import Decimal

import pyotp
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from auth2fa.models import AuthenticatorApp
from cases.models import AbsenceCase
from domains.models import Department, ServiceContract
from employees.models import Employee, EmploymentTerms
from tests.browser.conftest import screenshot
from tests.browser.test_second_factors import log_in, log_out
from tests.conftest import grant, make_user

pytestmark = pytest.mark.browser

MONTHS = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]  # fmt: skip
DETAIL_URL = re.compile(r"/employees/[0-9a-f-]{36}/$")


def dutch(day: date) -> str:
    """A date as the pages show it ("j F Y" in Dutch)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def log_in_with_app(page, user) -> None:
    """Password, then the code of an authenticator app the user already has (a known key)."""
    page.set_default_timeout(10_000)
    device = AuthenticatorApp.objects.create(user=user, name="Telefoon", confirmed=True)
    log_in(page, user.email)
    page.wait_for_url(re.compile(r"/2fa/verify/"))
    secret = base64.b32encode(device.bin_key).decode()
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Controleren").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))


def field(root, label: str):
    """The input with exactly this label (Django adds a colon to it)."""
    return root.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def field_error(page, label: str):
    """The error text shown in the field group of the input with this label."""
    return page.locator(".field--error").filter(has=field(page, label))


def fill_new_employee(page, world, **overrides: str) -> None:
    values = {
        "Personeelsnummer": "MD-1001",
        "Voorletters": "A.",
        "Voornaam": "Anna",
        "Tussenvoegsel": "de",
        "Achternaam": "Boer",
        "Geboortedatum": "1985-03-14",
        "Postcode": "1234 ab",
        "E-mailadres": "anna.deboer@example.nl",
        "Telefoonnummer": "06 12345678",
        "Datum in dienst": "2024-01-01",
        "Contracturen per week": "32",
        "Voltijduren per week": "40",
        **overrides,
    }
    for label, value in values.items():
        field(page, label).fill(value)
    field(page, "Geslacht").select_option(label="Vrouw")
    field(page, "Werkgever").select_option(label="Werkgever A")
    field(page, "Afdeling").select_option(label="Werkgever A › — Inpak")


def expect_date(page, label: str, day: date) -> None:
    """A date input shows its stored or default date (an <input type="date"> takes only ISO
    yyyy-mm-dd; a value in another format is dropped and the field shows empty)."""
    value = field(page, label).input_value()
    assert value == day.isoformat(), f"{label!r} shows {value!r}, not {day.isoformat()}"


def employment_details(page):
    return page.locator("dl.details").nth(1)


def add_employee(page, world) -> Employee:
    page.goto("/employees/")
    page.get_by_role("link", name="Werknemer toevoegen").click()
    page.wait_for_url(re.compile(r"/employees/new/$"))
    assert page.get_by_role("heading", name="Nieuwe werknemer").is_visible()
    fill_new_employee(page, world)
    screenshot(page, "md-1-new-employee")
    page.get_by_role("button", name="Opslaan").click()

    page.wait_for_url(DETAIL_URL)
    employee = Employee.objects.get(employer=world.employer, personnel_number="MD-1001")
    assert page.get_by_text("De werknemer is toegevoegd.").is_visible()
    assert page.get_by_role("heading", name="Anna de Boer").is_visible()
    assert page.locator("#employee-key").inner_text() == str(employee.key)
    employment = employment_details(page).inner_text()
    assert "Deeltijdfactor\n0,800" in employment  # Dutch: a decimal comma
    assert "Werkgever A" in employment and "Afdeling\nInpak" in employment
    assert "Postcode\n1234AB" in page.locator("dl.details").first.inner_text()
    screenshot(page, "md-1-detail")
    assert (employee.postcode, employee.phone, employee.gender) == (
        "1234AB",
        "+31612345678",
        "female",
    )
    assert (employee.department, employee.part_time_factor) == (world.inpak, Decimal("0.800"))
    assert (employee.surname_prefix, employee.email) == ("de", "anna.deboer@example.nl")
    assert employee.employment_end is None
    return employee


def change_hours(page, employee: Employee, changed_from: date) -> None:
    page.get_by_role("link", name="Wijzigen").click()
    page.wait_for_url(re.compile(r"/edit/$"))
    assert field(page, "Contracturen per week").input_value() in ("32", "32.00", "32,00")
    expect_date(page, "Geboortedatum", date(1985, 3, 14))
    expect_date(page, "Datum in dienst", date(2024, 1, 1))
    field(page, "Contracturen per week").fill("20")
    field(page, "Nieuwe uren gelden vanaf").fill(changed_from.isoformat())
    screenshot(page, "md-1-edit-hours")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(DETAIL_URL)
    assert page.get_by_text("De wijzigingen zijn opgeslagen.").is_visible()
    hours = employment_details(page).locator("ul.plainlist li")
    assert hours.all_inner_texts() == [
        f"vanaf {dutch(changed_from)}: 20 van 40 uur per week",
        "vanaf 1 januari 2024: 32 van 40 uur per week",
    ]
    assert "Deeltijdfactor\n0,500" in employment_details(page).inner_text()
    screenshot(page, "md-1-two-hours-lines")
    assert list(
        EmploymentTerms.objects.filter(employee=employee)
        .order_by("valid_from")
        .values_list("valid_from", "contract_hours")
    ) == [(date(2024, 1, 1), Decimal("32")), (changed_from, Decimal("20"))]


def sick_and_recovered(page, employee: Employee, today: date) -> None:
    first_sick_day, recovered_on = today - timedelta(days=10), today - timedelta(days=2)
    page.get_by_role("link", name="Ziek melden").click()
    page.wait_for_url(re.compile(r"/cases/report/"))
    expect_date(page, "Eerste ziektedag", today)  # the form's default
    field(page, "Eerste ziektedag").fill(first_sick_day.isoformat())
    screenshot(page, "md-1-report-sick")
    page.get_by_role("button", name="Ziekmelding vastleggen").click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}/$"))
    assert page.get_by_text("De ziekmelding is vastgelegd.").is_visible()
    recovery = page.locator("form[action$='/recovery/']")
    expect_date(recovery, "Datum", today)  # the form's default
    assert field(recovery, "Resterende arbeidsongeschiktheid %").input_value() == "0"
    field(recovery, "Datum").fill(recovered_on.isoformat())
    screenshot(page, "md-1-case")
    recovery.get_by_role("button", name="Herstel melden").click()
    assert page.get_by_text("Het herstel is vastgelegd.").is_visible()
    assert page.locator("form[action$='/recovery/']").count() == 0
    screenshot(page, "md-1-recovered")
    case = AbsenceCase.objects.get(employee=employee)
    assert (case.first_sick_day, case.recovered_on) == (first_sick_day, recovered_on)


def end_employment(page, employee: Employee, today: date) -> None:
    last_day = today - timedelta(days=1)
    page.goto(f"/employees/{employee.key}/")
    page.get_by_role("link", name="Dienstverband beëindigen").click()
    page.wait_for_url(re.compile(r"/end/$"))
    expect_date(page, "Laatste dag van het dienstverband", today)  # the form's default
    field(page, "Laatste dag van het dienstverband").fill(last_day.isoformat())
    screenshot(page, "md-1-end-employment")
    page.get_by_role("button", name="Dienstverband beëindigen").click()
    page.wait_for_url(DETAIL_URL)
    assert page.get_by_text("Het einde van het dienstverband is vastgelegd.").is_visible()
    assert page.locator("h1 .badge", has_text="oud-werknemer").is_visible()
    assert f"Datum uit dienst\n{dutch(last_day)}" in employment_details(page).inner_text()
    assert page.get_by_role("link", name="Dienstverband beëindigen").count() == 0
    screenshot(page, "md-1-former-employee")
    employee.refresh_from_db()
    assert employee.employment_end == last_day


def test_hr_follows_an_employee_from_hiring_to_leaving(page, world):
    today = timezone.localdate()
    log_in_with_app(page, world.hr)
    employee = add_employee(page, world)

    # Found again by surname in the list.
    page.goto("/employees/")
    field(page, "Achternaam").fill("boer")
    page.get_by_role("button", name="Zoeken").click()
    assert page.locator("table tbody tr").count() == 1
    assert page.get_by_text("1 werknemer", exact=True).is_visible()
    page.get_by_role("link", name="Boer, Anna de").click()
    page.wait_for_url(re.compile(rf"/employees/{employee.key}/$"))

    change_hours(page, employee, changed_from=today.replace(day=1))
    sick_and_recovered(page, employee, today)
    end_employment(page, employee, today)

    # Gone from the default list; back with "Ook oud-werknemers".
    page.goto("/employees/")
    field(page, "Achternaam").fill("Boer")
    page.get_by_role("button", name="Zoeken").click()
    assert page.get_by_role("link", name="Boer, Anna de").count() == 0
    assert page.get_by_text("Geen werknemers gevonden.").is_visible()
    assert page.get_by_text("0 werknemers", exact=True).is_visible()
    field(page, "Ook oud-werknemers").check()
    page.get_by_role("button", name="Zoeken").click()
    assert page.get_by_role("link", name="Boer, Anna de").is_visible()
    assert field(page, "Ook oud-werknemers").is_checked()
    screenshot(page, "md-1-list-former")
    assert page.csp_errors == []


def test_invalid_input_is_shown_on_the_form_and_saves_nothing(page, world):
    before = Employee.objects.count()
    log_in_with_app(page, world.hr)
    page.goto("/employees/new/")

    fill_new_employee(page, world, Postcode="12345")
    page.get_by_role("button", name="Opslaan").click()
    error = field_error(page, "Postcode")
    expect(
        error.get_by_text("Vul een Nederlandse postcode in: vier cijfers en twee letters.")
    ).to_be_visible()
    assert field(page, "Postcode").input_value() == "12345"
    assert field(page, "Achternaam").input_value() == "Boer"
    assert field(page, "Afdeling").locator("option:checked").inner_text() == "Werkgever A › — Inpak"
    screenshot(page, "md-2-postcode")

    future = (timezone.localdate() + timedelta(days=30)).isoformat()
    field(page, "Postcode").fill("1234 ab")
    field(page, "Geboortedatum").fill(future)
    page.get_by_role("button", name="Opslaan").click()
    # expect() waits: the page before the click has an error block (the postcode's) as well.
    expect(
        field_error(page, "Geboortedatum").get_by_text(
            "Vul een geboortedatum in van tussen 100 en 13 jaar geleden."
        )
    ).to_be_visible()
    assert field(page, "Geboortedatum").input_value() == future
    assert field(page, "Postcode").input_value() == "1234 ab"
    assert field_error(page, "Postcode").count() == 0
    screenshot(page, "md-2-birth-date")

    field(page, "Geboortedatum").fill("1985-03-14")
    field(page, "Personeelsnummer").fill(world.employee.personnel_number)
    page.get_by_role("button", name="Opslaan").click()
    page.locator(".field--error, .alert--error").first.wait_for()
    screenshot(page, "md-2-duplicate-number")
    assert field(page, "Personeelsnummer").input_value() == world.employee.personnel_number
    assert field(page, "Voornaam").input_value() == "Anna"
    # The refusal is shown on the personnel number, in Dutch.
    refusal = field_error(page, "Personeelsnummer").inner_text()
    assert "personeelsnummer" in refusal and "werkgever" in refusal, refusal

    assert "/employees/new/" in page.url
    assert Employee.objects.count() == before
    assert not Employee.objects.filter(surname="Boer").exists()


def manager_cannot_change(page, world) -> None:
    """The manager (leidinggevende of Productie) sees Jansen but has no way to change him."""
    jansen = world.employee
    edit_url = f"/employees/{jansen.key}/edit/"
    log_in_with_app(page, world.manager)
    page.goto(f"/employees/{jansen.key}/")
    assert page.get_by_role("heading", name="Test Jansen").is_visible()
    assert page.get_by_role("link", name="Wijzigen").count() == 0
    assert page.get_by_role("link", name="Dienstverband beëindigen").count() == 0
    screenshot(page, "md-3-manager-detail")
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.goto(edit_url)
    assert response is not None and response.status == 403
    assert page.get_by_role("heading", name="Geen toegang").is_visible()
    screenshot(page, "md-3-manager-edit-403")
    forged = page.request.post(
        edit_url,
        form={
            "csrfmiddlewaretoken": token,
            "personnel_number": jansen.personnel_number,
            "first_name": jansen.first_name,
            "surname": jansen.surname,
            "birth_date": jansen.birth_date.isoformat(),
            "postcode": jansen.postcode,
            "employer": str(world.employer.pk),
            "department": str(world.kantoor.pk),
            "employment_start": jansen.employment_start.isoformat(),
            "contract_hours": "40",
            "full_time_hours": "40",
            "version": str(jansen.version),
        },
    )
    assert forged.status == 403
    assert "Geen toegang" in forged.text()  # refused for the role, not for the CSRF token
    jansen.refresh_from_db()
    assert jansen.department == world.department
    log_out(page)


FORGE_OPTION = """(select, pk) => {
    select.add(new Option("Werkgever A › Kantoor", pk));
    select.value = pk;
}"""


def test_placement_stays_within_the_users_scope(page, world):
    manager_cannot_change(page, world)
    jansen = world.employee

    # HR for Productie only: Kantoor is not on offer, and a forged option is refused.
    hr_productie = make_user(world.tenant, "hr-productie@a.test")
    grant(hr_productie, world.roles["hr"], departments=[world.department])
    log_in_with_app(page, hr_productie)
    page.goto(f"/employees/{jansen.key}/")
    page.get_by_role("link", name="Wijzigen").click()
    page.wait_for_url(re.compile(r"/edit/$"))
    screenshot(page, "md-3-hr-productie-edit")
    department = field(page, "Afdeling")
    offered = department.locator("option").all_inner_texts()
    assert offered == ["---------", "Werkgever A › Productie", "Werkgever A › — Inpak"]
    expect_date(page, "Geboortedatum", jansen.birth_date)
    expect_date(page, "Datum in dienst", jansen.employment_start)
    if not field(page, "Contracturen per week").input_value():
        field(page, "Contracturen per week").fill("40")  # Jansen came without hours
    department.evaluate(FORGE_OPTION, str(world.kantoor.pk))
    page.get_by_role("button", name="Opslaan").click()
    screenshot(page, "md-3-move-to-kantoor-refused")
    assert (
        field_error(page, "Afdeling")
        .get_by_text("Selecteer een geldige keuze. Deze keuze is niet beschikbaar.")
        .is_visible()
    )
    assert page.locator(".field--error").count() == 1
    jansen.refresh_from_db()
    assert jansen.department == world.department

    # No department at all would take him out of Productie too: the service refuses it.
    field(page, "Afdeling").select_option(label="---------")
    page.get_by_role("button", name="Opslaan").click()
    screenshot(page, "md-3-no-department-refused")
    assert (
        field_error(page, "Afdeling")
        .get_by_text("U kunt werknemers alleen plaatsen binnen uw eigen werkgevers en afdelingen.")
        .is_visible()
    )
    jansen.refresh_from_db()
    assert jansen.department == world.department

    # Within Productie: Inpak is fine.
    field(page, "Afdeling").select_option(label="Werkgever A › — Inpak")
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(DETAIL_URL)
    assert page.get_by_text("De wijzigingen zijn opgeslagen.").is_visible()
    assert "Afdeling\nInpak" in employment_details(page).inner_text()
    screenshot(page, "md-3-moved-to-inpak")
    jansen.refresh_from_db()
    assert jansen.department == world.inpak
    assert page.csp_errors == []


def test_functional_admin_adds_a_department_and_ends_a_contract(page, world):
    log_in_with_app(page, world.beheer)
    page.goto("/manage/employers/")
    page.get_by_role("link", name="Werkgever A", exact=True).click()
    page.get_by_role("link", name="Afdelingen", exact=True).click()
    page.wait_for_url(re.compile(r"/departments/$"))
    assert page.get_by_role("heading", name="Afdelingen van Werkgever A").is_visible()
    form = page.locator("form[action$='/departments/new/']")
    field(form, "Naam").fill("Verzending")
    field(form, "Onder afdeling").select_option(label="Werkgever A › Productie")
    screenshot(page, "md-4-new-department")
    form.get_by_role("button", name="Toevoegen").click()
    assert page.get_by_text("De afdeling is toegevoegd.").is_visible()
    assert page.get_by_role("link", name="Verzending").is_visible()
    screenshot(page, "md-4-departments")
    added = Department.objects.get(employer=world.employer, name="Verzending")
    assert added.parent == world.department and added.closed_on is None

    last_day = timezone.localdate() + timedelta(days=31)
    page.goto("/manage/providers/")
    arbo = page.locator("section.card", has=page.get_by_role("heading", name="Arbo Gezond"))
    contract_line = arbo.locator("li", has_text="Werkgever A")
    assert "geen einddatum" in contract_line.inner_text()
    screenshot(page, "md-4-providers")
    contract_line.get_by_role("link", name="Beëindigen").click()
    page.wait_for_url(re.compile(r"/contracts/[0-9a-f-]{36}/end/$"))
    assert page.get_by_role(
        "heading", name="Het contract van Arbo Gezond met Werkgever A beëindigen?"
    ).is_visible()
    expect_date(page, "Laatste dag van het contract", timezone.localdate())  # the default
    field(page, "Laatste dag van het contract").fill(last_day.isoformat())
    screenshot(page, "md-4-end-contract")
    page.get_by_role("button", name="Contract beëindigen").click()
    page.wait_for_url(re.compile(r"/manage/providers/$"))
    assert page.get_by_text("Het contract is beëindigd.").is_visible()
    assert dutch(last_day) in arbo.locator("li", has_text="Werkgever A").inner_text()
    screenshot(page, "md-4-contract-ended")
    ended = ServiceContract.objects.get(provider=world.arbo, employer=world.employer)
    assert ended.ends_on == last_day
    still = ServiceContract.objects.get(provider=world.arbo, employer=world.employer_b)
    assert still.ends_on is None
    assert page.csp_errors == []
