"""The employee list (search, sort, pages, constant query count) and detail page."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from domains.models import Employer
from employees.forms import normalise_postcode
from employees.models import Employee
from tests.conftest import make_employee, search, search_id


@pytest.fixture
def people(world):
    """Three employees of their own employer, added to the HR user's scope."""
    employer = Employer.objects.create(tenant=world.tenant, name="Werkgever C")
    world.hr.role_assignments.get().employers.add(employer)
    return {
        "anna": make_employee(
            employer, first_name="Anna", surname_prefix="de", surname="Vries",
            personnel_number="10001", birth_date=date(1985, 3, 14), postcode="3511AB",
        ),
        "piet": make_employee(
            employer, first_name="Piet", surname="Bakker", personnel_number="20002",
            birth_date=date(1970, 7, 1), postcode="1012CD",
        ),
        "els": make_employee(
            employer, first_name="Els", surname_prefix="van der", surname="Vries",
            personnel_number="10003", birth_date=date(1990, 12, 31), postcode="3511XY",
        ),
    }  # fmt: skip


def names(response) -> list[str]:
    return [employee.first_name for employee in response.context["page"]]


def test_the_list_shows_the_tenants_employees(hr_client, people):
    response = hr_client.get(reverse("employees:list"))
    assert response.status_code == 200
    assert set(names(response)) >= {"Anna", "Piet", "Els"}
    assert "Buitenstaander" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"surname": "vries"}, {"Anna", "Els"}),
        ({"surname": "van der"}, {"Els"}),
        ({"personnel_number": "1000"}, {"Anna", "Els"}),
        ({"birth_date": "1970-07-01"}, {"Piet"}),
        ({"postcode": "3511 ab"}, {"Anna"}),
        ({"postcode": "3511"}, {"Anna", "Els"}),
        ({"surname": "vries", "postcode": "3511XY"}, {"Els"}),
        ({"surname": "Nobody"}, set()),
    ],
)
def test_search_by_surname_personnel_number_birth_date_and_postcode(
    hr_client, people, query, expected
):
    assert set(names(search(hr_client, query))) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("VRIES", {"Anna", "Els", "Joost"}),  # the surname's beginning, whatever the prefix
        ("vrië", {"Anna", "Els", "Joost"}),  # diacritics count as the plain letter
        ("de vries", {"Anna"}),  # prefix and surname together
        ("vandervries", {"Els"}),  # spaces do not count
        ("van der v", {"Els"}),
        ("'t hart", {"Kees"}),  # nor punctuation
        ("hart", {"Kees"}),
        ("ries", set()),  # the beginning, not any part: "ries" is not a Vries
        ("-", set()),  # nothing searchable finds nobody, not everybody
    ],
)
def test_a_surname_search_matches_the_beginning_ignoring_case_diacritics_and_spaces(
    hr_client, people, world, term, expected
):
    make_employee(world.employer, first_name="Joost", surname="Vriës", personnel_number="30001")
    make_employee(
        world.employer, first_name="Kees", surname_prefix="'t", surname="Hart",
        personnel_number="30002",
    )  # fmt: skip
    assert set(names(search(hr_client, {"surname": term}))) == expected


def test_the_search_keys_are_kept_by_the_database_as_search_key_makes_them(world):
    from employees.models import search_key

    employee = make_employee(
        world.employer, surname_prefix="Van 't", surname="Höfe-Ëlsa", personnel_number="30003"
    )
    employee.refresh_from_db()
    assert employee.surname_key == search_key("Höfe-Ëlsa") == "hofeelsa"
    assert employee.full_surname_key == search_key("Van 'tHöfe-Ëlsa") == "vanthofeelsa"
    Employee.objects.filter(pk=employee.pk).update(surname="Ångström")
    employee.refresh_from_db()
    assert employee.surname_key == "angstrom"


@pytest.mark.parametrize(
    ("prefix", "surname"),
    [
        ("", "Jansen"), ("van der", "Berg"), ("'t", "Hart"), ("", "O'Brien-Smit"),
        ("", "Müller-Lüdenscheidt"), ("de", "Vriës"), ("", "Søren Ørsted"), ("", "Łukasz"),
        ("", "Çelik"), ("", "ÿÝý"), ("", "Nguyễn"), ("", "123 ~!@#"), ("", "Ab\tcd"), ("", ""),
    ],
)  # fmt: skip
def test_the_database_and_search_key_agree_on_every_kind_of_name(world, prefix, surname):
    # The columns skip the accent translation for plain-ASCII names (cheaper writes); the
    # result must be the same as search_key's for any name.
    from employees.models import search_key

    employee = make_employee(world.employer, surname_prefix=prefix, surname=surname or "x")
    employee.refresh_from_db()
    assert employee.surname_key == search_key(employee.surname)
    assert employee.full_surname_key == search_key(prefix + employee.surname)


def test_an_invalid_birth_date_is_an_error_not_a_crash(hr_client, people):
    response = search(hr_client, {"birth_date": "31-02-1990"})
    assert response.status_code == 200
    assert response.context["form"].errors["birth_date"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("surname", ["Piet", "Anna", "Els"]),
        ("-personnel_number", ["Piet", "Els", "Anna"]),
        ("birth_date", ["Piet", "Anna", "Els"]),
        ("-birth_date", ["Els", "Anna", "Piet"]),
    ],
)
def test_the_list_sorts(hr_client, people, sort, expected):
    response = hr_client.get(reverse("employees:list"), {"sort": sort})
    assert [name for name in names(response) if name in {"Anna", "Piet", "Els"}] == expected
    header = response.content.decode()
    assert 'aria-sort="ascending"' in header or 'aria-sort="descending"' in header


def test_an_unknown_sort_falls_back_to_the_default(hr_client, people):
    assert hr_client.get(reverse("employees:list"), {"sort": "bsn_sealed"}).status_code == 200


def test_the_list_is_paginated(hr_client, world):
    Employee.objects.bulk_create(
        Employee(
            tenant=world.tenant,
            employer=world.employer,
            personnel_number=f"X{i}",
            surname=f"Naam{i:03d}",
            birth_date=date(1980, 1, 1),
            employment_start=date(2010, 1, 1),
        )
        for i in range(60)
    )
    first = hr_client.get(reverse("employees:list"))
    assert len(first.context["page"]) == 25
    third = search(hr_client, {"surname": "Naam"}, page=3)
    assert len(third.context["page"]) == 10
    assert f"?q={search_id(third)}&amp;page=2" in third.content.decode()
    assert "Naam&" not in third.content.decode() and "=Naam" not in third.content.decode()


def query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_number_of_queries_for_10_and_500_rows(hr_client, world):
    def add(count, start):
        Employee.objects.bulk_create(
            Employee(
                tenant=world.tenant,
                employer=world.employer,
                department=world.department,
                personnel_number=f"Q{start + i}",
                surname=f"Q{start + i}",
                birth_date=date(1980, 1, 1),
                employment_start=date(2010, 1, 1),
            )
            for i in range(count)
        )

    url = reverse("employees:list") + "?sort=employer"
    already = Employee.objects.filter(tenant=world.tenant).count()
    add(10 - already, 0)
    ten = query_count(hr_client, url)
    add(490, 1000)
    assert Employee.objects.filter(tenant=world.tenant).count() == 500
    five_hundred = query_count(hr_client, url)
    assert ten == five_hundred


def test_the_detail_page_shows_the_unique_key_and_masks_the_bsn(hr_client, world):
    page = hr_client.get(
        reverse("employees:detail", kwargs={"key": world.employee.key})
    ).content.decode()
    assert str(world.employee.key) in page
    assert 'data-copy="#employee-key"' in page
    assert "111222333" not in page
    assert "•••••2333" in page


@pytest.mark.parametrize(
    ("raw", "stored"), [("1234 ab", "1234AB"), ("1234AB", "1234AB"), (" 1234 ", "1234")]
)
def test_postcodes_are_normalised(raw, stored):
    assert normalise_postcode(raw) == stored


def test_an_employee_renders_without_personal_data_in_str(world):
    assert "Jansen" not in str(world.employee)
    assert str(world.employee.key) in str(world.employee)


def test_search_terms_never_reach_a_url(hr_client, people):
    import re

    posted = hr_client.post(reverse("employees:list"), {"surname": "Vries", "postcode": "3511"})
    assert posted.status_code == 302 and "Vries" not in posted.url
    assert re.fullmatch(r"/employees/\?q=[\w-]+", posted.url)
    page = hr_client.get(posted.url)
    assert set(names(page)) == {"Anna", "Els"}
    body = page.content.decode()
    links = re.findall(r'(?:href|action)="([^"]*)"', body)
    assert links and not [link for link in links if "vries" in link.lower()]
    assert page.context["searched"]
    for column in page.context["columns"]:  # the sort links keep the search by its id only
        assert column["url"].startswith(f"?q={search_id(page)}&sort=")
        sorted_page = hr_client.get(reverse("employees:list") + column["url"])
        assert set(names(sorted_page)) == {"Anna", "Els"}


def test_sorting_and_paging_keep_the_search(hr_client, people):
    page = search(hr_client, {"surname": "vries"}, sort="-personnel_number")
    assert names(page) == ["Els", "Anna"]
    assert 'aria-sort="descending"' in page.content.decode()


def test_the_sort_chosen_before_a_search_is_kept(hr_client, people):
    posted = hr_client.post(reverse("employees:list"), {"surname": "vries", "sort": "-birth_date"})
    assert "sort=-birth_date" in posted.url
    assert names(hr_client.get(posted.url)) == ["Els", "Anna"]


def test_an_unknown_or_expired_search_shows_the_whole_list_with_a_message(hr_client, people):
    from employees import searches

    unknown = hr_client.get(reverse("employees:list"), {"q": "made-up"})
    assert unknown.status_code == 200 and not unknown.context["searched"]
    assert set(names(unknown)) >= {"Anna", "Piet", "Els"}
    assert [m.level_tag for m in unknown.context["messages"]] == ["warning"]
    found = search(hr_client, {"surname": "Bakker"})
    assert names(found) == ["Piet"]
    session = hr_client.session
    session[searches.SESSION_KEY][search_id(found)]["until"] = 0  # 30 minutes later
    session.save()
    expired = hr_client.get(found.wsgi_request.get_full_path())
    assert set(names(expired)) >= {"Anna", "Piet", "Els"} and not expired.context["searched"]


def test_a_search_id_works_only_for_the_user_who_searched(client, hr_client, people, world):
    from employees import searches

    found = search(hr_client, {"surname": "Bakker"})
    session = hr_client.session
    session[searches.SESSION_KEY][search_id(found)]["user"] = world.manager.pk
    session.save()
    assert not hr_client.get(found.wsgi_request.get_full_path()).context["searched"]


def test_the_bsn_searched_for_is_not_kept_in_the_session(hr_client, world):
    from employees import searches

    world.employee.set_bsn("111222333")  # with its search index
    world.employee.save()
    found = search(hr_client, {"bsn": "111222333"})
    assert [employee.pk for employee in found.context["page"]] == [world.employee.pk]
    assert "111222333" not in repr(dict(hr_client.session)[searches.SESSION_KEY])
