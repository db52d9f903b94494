"""The medical file: sealed at rest, the company doctor only, behind a fresh second factor."""

from __future__ import annotations

import base64
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from auth2fa.stepup import SESSION_VERIFIED_AT
from cases import services
from cases.models import MedicalDocument, MedicalNote
from core import encryption
from core.models import TenantDataKey
from tests.conftest import verified_login
from tests.urlwalk import all_routes

SECRET = "Diagnose: hernia L5-S1, MRI gepland"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n" + b"Uitslag MRI rug" + b"\n%%EOF"


@pytest.fixture
def medical(world):
    note = services.add_medical_note(case=world.case, by=world.bedrijfsarts, text=SECRET)
    document = services.add_medical_document(
        case=world.case,
        by=world.bedrijfsarts,
        title="MRI-verslag rug",
        upload=SimpleUploadedFile("mri-rug.pdf", PDF, content_type="application/pdf"),
    )
    return note, document


def test_the_company_doctor_reads_and_writes_the_medical_file(client, world, medical):
    verified_login(client, world.bedrijfsarts)
    url = reverse("cases:medical", kwargs={"key": world.case.key})
    page = client.get(url)
    assert page.status_code == 200 and SECRET in page.content.decode()
    assert "no-store" in page["Cache-Control"].split(", ")  # and "private", for any user
    client.post(url, {"text": "Controle over zes weken."})
    assert MedicalNote.objects.filter(case=world.case).count() == 2
    _note, document = medical
    download = client.get(
        reverse(
            "cases:medical_document", kwargs={"key": world.case.key, "document_key": document.key}
        )
    )
    assert download.content == PDF


def raw_rows(table: str) -> list[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - a fixed table name from the test
        return [repr(row).encode() for row in cursor.fetchall()]


def test_the_database_holds_no_plaintext_of_the_medical_file(world, medical):
    for table in ("cases_medicalnote", "cases_medicaldocument"):
        for row in raw_rows(table):
            for plaintext in (
                b"hernia L5",
                b"MRI gepland",
                b"Uitslag MRI",
                b"mri-rug",
                b"%PDF-1.4",
            ):
                assert plaintext not in row, (table, plaintext)


@pytest.mark.parametrize(
    "persona", ["hr", "manager", "casemanager", "verzekeraar", "beheer", "auditor", "outsider"]
)
def test_no_other_persona_can_read_the_medical_file(client, world, medical, persona):
    _note, document = medical
    verified_login(client, getattr(world, persona))
    urls = [
        reverse("cases:medical", kwargs={"key": world.case.key}),
        reverse(
            "cases:medical_document", kwargs={"key": world.case.key, "document_key": document.key}
        ),
    ]
    for url in urls:
        assert client.get(url).status_code in (403, 404)
    # Nor through any page they can reach: lists, the case, the employee, the work list.
    pages = [
        reverse("dashboard"), reverse("employees:list"),
        reverse("cases:list"), reverse("cases:worklist"),
        reverse("cases:detail", kwargs={"key": world.case.key}),
        reverse("employees:detail", kwargs={"key": world.employee.key}),
    ]  # fmt: skip
    for url in pages:
        content = client.get(url).content.decode()
        # Whole phrases: a bare "MRI" can turn up inside a random CSRF token.
        assert "hernia L5" not in content and "MRI-verslag" not in content, url


def test_the_doctors_general_pages_show_no_medical_text_either(client, world, medical):
    verified_login(client, world.bedrijfsarts)
    page = client.get(reverse("cases:detail", kwargs={"key": world.case.key})).content.decode()
    assert (
        "hernia L5" not in page and reverse("cases:medical", kwargs={"key": world.case.key}) in page
    )


def test_the_medical_file_asks_for_a_fresh_factor_after_15_minutes(client, world, medical):
    device = verified_login(client, world.bedrijfsarts)
    session = client.session
    session[SESSION_VERIFIED_AT] = time.time() - 16 * 60  # a live session, verified 16 minutes ago
    session.save()
    url = reverse("cases:medical", kwargs={"key": world.case.key})
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("auth2fa:step_up"))
    assert (
        client.get(reverse("dashboard")).status_code == 200
    )  # the rest of the session still works
    import pyotp

    code = pyotp.TOTP(base64.b32encode(device.bin_key).decode()).now()
    confirmed = client.post(response.url, {"token": code})
    assert confirmed.url == url
    assert SECRET in client.get(url).content.decode()


def test_the_step_up_window_is_a_tenant_setting(client, world, medical):
    world.tenant.medical_step_up_minutes = 5
    world.tenant.save()
    verified_login(client, world.bedrijfsarts)
    session = client.session
    session[SESSION_VERIFIED_AT] = time.time() - 6 * 60
    session.save()
    assert client.get(reverse("cases:medical", kwargs={"key": world.case.key})).status_code == 302


@pytest.mark.parametrize(
    "content",
    [b"MZ\x90\x00 an executable", b"%PDF-" + b"0" * (10 * 1024 * 1024)],
    ids=["type", "size"],
)
def test_only_pdf_and_images_up_to_10_mb_are_accepted(world, content):
    from django.core.exceptions import ValidationError

    upload = SimpleUploadedFile("x.pdf", content, content_type="application/pdf")
    with pytest.raises(ValidationError):
        services.add_medical_document(
            case=world.case, by=world.bedrijfsarts, title="x", upload=upload
        )


def test_only_the_company_doctor_may_write_medical_notes(world):
    from django.core.exceptions import PermissionDenied

    for persona in ("hr", "casemanager", "verzekeraar"):
        with pytest.raises(PermissionDenied):
            services.add_medical_note(case=world.case, by=getattr(world, persona), text="x")


def test_key_rotation_keeps_the_medical_file_readable(world, medical, settings):
    before = {row.pk: bytes(row.wrapped_key) for row in TenantDataKey.objects.all()}
    current = encryption.master_keys()
    settings.VERZUIM_MASTER_KEYS = ",".join(
        [
            *(f"{i}:{base64.b64encode(k).decode()}" for i, k in current.items()),
            f"9:{base64.b64encode(os.urandom(32)).decode()}",
        ]
    )
    encryption.rotate_master_key()
    assert all(
        bytes(TenantDataKey.objects.get(pk=pk).wrapped_key) != wrapped
        for pk, wrapped in before.items()
    )
    encryption._data_keys.clear()
    settings.VERZUIM_MASTER_KEYS = settings.VERZUIM_MASTER_KEYS.split(",")[
        -1
    ]  # only the new key left
    note, document = medical
    assert MedicalNote.objects.get(pk=note.pk).text == SECRET
    assert MedicalDocument.objects.get(pk=document.pk).content == PDF
    encryption._data_keys.clear()


def test_every_medical_url_needs_the_fresh_factor(client, world, medical):
    """Walk the URL conf: each medical URL sends a doctor with a stale factor to confirm first."""
    _note, document = medical
    kwargs = {"key": world.case.key, "document_key": document.key}
    medical_routes = [route for route in all_routes() if "medical" in route.name]
    assert {route.name for route in medical_routes} == {
        "cases:medical", "cases:add_medical_document", "cases:medical_document"
    }  # fmt: skip
    verified_login(client, world.bedrijfsarts)
    session = client.session
    session[SESSION_VERIFIED_AT] = time.time() - 16 * 60
    session.save()
    for route in medical_routes:
        url = reverse(route.name, kwargs={name: kwargs[name] for name in route.converters})
        for method in (client.get, client.post):
            response = method(url)
            if response.status_code == 405:
                continue  # that method is not offered at all
            assert response.status_code == 302 and response.url.startswith(
                reverse("auth2fa:step_up")
            ), url
