"""`manage.py create_environment`: a tenant, its reference roles and a first functional admin
whose password nobody knows (they choose it through the e-mailed link)."""

from __future__ import annotations

import io
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from auth2fa.models import AccountType, User
from core.accounts import independent_of
from domains.models import Role, Tenant
from domains.permissions import REFERENCE_ROLES


def create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_environment", *args, stdout=out)
    return out.getvalue()


def test_a_new_environment_gets_reference_roles_and_an_admin_without_a_password(db, settings):
    settings.SITE_URL = "https://verzuim.example.nl"
    output = create("Nieuwe Arbo", "Beheer@Example.nl")
    tenant = Tenant.objects.get(name="Nieuwe Arbo")
    admin = User.objects.get(email="beheer@example.nl")
    assert admin.tenant == tenant and admin.account_type == AccountType.FUNCTIONAL_ADMIN
    assert not admin.has_usable_password()
    keys = set(Role.objects.filter(tenant=tenant).values_list("reference_key", flat=True))
    assert keys == {role.key for role in REFERENCE_ROLES}
    assert "Nieuwe Arbo" in output and "beheer@example.nl" in output
    assert tenant.bsn_allowed is False


def test_the_admin_receives_a_working_link_on_the_site_url(db, client, settings):
    settings.SITE_URL = "https://verzuim.example.nl"
    create("Nieuwe Arbo", "beheer@example.nl")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["beheer@example.nl"]
    link = re.search(r"https://verzuim\.example\.nl(/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    path = link.group(1)
    assert path.startswith(reverse("auth2fa:password_reset").rstrip("/"))
    page = client.get(path, follow=True)
    assert page.status_code == 200 and page.context["validlink"]


def test_the_default_site_url_is_local(db, settings):
    settings.SITE_URL = "http://localhost:8000"
    create("Lokaal", "lokaal@example.nl")
    assert "http://localhost:8000/" in mail.outbox[0].body


def test_a_duplicate_environment_name_is_refused(db):
    create("Dubbel", "een@example.nl")
    with pytest.raises(CommandError):
        create("dubbel", "twee@example.nl")
    assert not User.objects.filter(email="twee@example.nl").exists()
    assert Tenant.objects.filter(name__iexact="dubbel").count() == 1


def test_an_existing_e_mail_address_is_refused(db):
    create("Eerste", "zelfde@example.nl")
    with pytest.raises(CommandError):
        create("Tweede", "ZELFDE@example.nl")
    assert not Tenant.objects.filter(name="Tweede").exists()
    assert len(mail.outbox) == 1


def test_an_invalid_e_mail_address_is_refused(db):
    with pytest.raises(CommandError):
        create("Ongeldig", "geen-adres")
    assert not Tenant.objects.filter(name="Ongeldig").exists()


def test_two_first_admins_are_independent_and_can_approve_each_others_requests(db):
    create("Tweetal", "een@tweetal.nl", "--second-admin", "twee@tweetal.nl")
    first = User.objects.get(email="een@tweetal.nl")
    second = User.objects.get(email="twee@tweetal.nl")
    assert {first.account_type, second.account_type} == {AccountType.FUNCTIONAL_ADMIN}
    assert independent_of(second, first) and independent_of(first, second)
    assert sorted(address for message in mail.outbox for address in message.to) == [
        "een@tweetal.nl",
        "twee@tweetal.nl",
    ]
