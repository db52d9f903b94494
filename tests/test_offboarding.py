"""Retention (issue 14, deliverable 7): `manage.py offboard_environment` — two operators, an
export for the customer, the data keys destroyed (crypto-shredding), the rows deleted."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from auth2fa.models import User
from cases.models import AbsenceCase, MedicalNote
from core import encryption
from core.encryption import DecryptionError, associated_data
from core.models import TenantDataKey
from domains.models import Employer, Tenant
from employees.models import Employee
from retention.models import Offboarding


def run(*args) -> str:
    out = io.StringIO()
    call_command("offboard_environment", *args, stdout=out)
    return out.getvalue()


def test_offboarding_exports_destroys_the_keys_and_deletes_the_rows(world, tmp_path):
    tenant = world.tenant
    MedicalNote.objects.create(
        tenant=tenant, case=world.case, text="Medisch verslag", author=world.bedrijfsarts
    )
    sealed_bsn = bytes(Employee.objects.get(pk=world.employee.pk).bsn_sealed)
    key = str(tenant.key)

    run(key, "--request", "--operator", "alice")
    with pytest.raises(CommandError, match="second operator"):
        run(key, "--approve", "--operator", "alice")
    code = re.search(r"Approval code: (\w+)", run(key, "--approve", "--operator", "bob"))[1]
    with pytest.raises(CommandError, match="approval code"):
        run(key, "--operator", "alice", "--approval-code", "wrong", "--confirm", tenant.name,
            "--export-dir", str(tmp_path))  # fmt: skip
    with pytest.raises(CommandError, match="name"):
        run(key, "--operator", "alice", "--approval-code", code, "--confirm", "ja",
            "--export-dir", str(tmp_path))  # fmt: skip
    assert Tenant.objects.filter(pk=tenant.pk).exists()

    output = run(key, "--operator", "alice", "--approval-code", code, "--confirm", tenant.name,
                 "--export-dir", str(tmp_path))  # fmt: skip
    assert "Data keys destroyed" in output

    # The export holds the customer's data, sealed values opened, secrets left out.
    with zipfile.ZipFile(tmp_path / f"export-{key}.zip") as archive:
        names = archive.namelist()
        employees = archive.read("employees.employee.csv").decode()
        rows = list(csv.DictReader(io.StringIO(employees), delimiter=";"))
        assert any(r["surname"] == "Jansen" and r["bsn"] == "111222333" for r in rows)
        assert "Medisch verslag" in archive.read("cases.medicalnote.csv").decode()
        assert any(n.startswith("files/cases.casedocument/") for n in names)
        users = archive.read("auth2fa.user.csv").decode()
        assert "password" not in users.splitlines()[0].split(";")
        assert "core.tenantdatakey.csv" not in names

    # Crypto-shredding: a copy of a sealed value (a backup) can no longer be opened.
    assert not TenantDataKey.objects.filter(tenant_id=tenant.pk).exists()
    encryption._data_keys.clear()
    with pytest.raises((DecryptionError, TenantDataKey.DoesNotExist)):
        encryption.decrypt(
            sealed_bsn,
            tenant_id=tenant.pk,
            aad=associated_data(
                tenant_id=tenant.pk, table="employees.employee", row_key=world.employee.key,
                field="bsn",
            ),
        )  # fmt: skip

    # No row of the environment is left; the other environment is untouched.
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    for model in apps.get_models():
        if any(f.name == "tenant" for f in model._meta.concrete_fields):
            manager = getattr(model, "unscoped", model._default_manager)
            assert not manager.filter(tenant_id=tenant.pk).exists(), model
    assert not User.objects.filter(email="hr@a.test").exists()
    assert Employee.objects.filter(pk=world.other_employee.pk).exists()
    assert AbsenceCase.objects.filter(pk=world.other_tenant_case.pk).exists()
    assert Employer.objects.filter(pk=world.other_employer.pk).exists()
    assert Offboarding.objects.get(tenant_key=tenant.key).completed_at is not None
