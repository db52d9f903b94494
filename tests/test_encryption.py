"""Sealed fields: no plaintext at rest, bound to their row, and master-key rotation."""

from __future__ import annotations

import base64
import os

import pytest
from django.db import connection

from core import encryption
from core.models import TenantDataKey
from employees.models import Employee
from tests.conftest import make_employee


def raw_column(employee: Employee) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT bsn_sealed FROM employees_employee WHERE id = %s", [employee.pk])
        return bytes(cursor.fetchone()[0])


def test_the_bsn_round_trips_and_is_not_stored_in_plaintext(world):
    employee = Employee.objects.get(pk=world.employee.pk)
    assert employee.bsn == "111222333"
    blob = raw_column(employee)
    assert b"111222333" not in blob
    assert blob.startswith(b"V1")


def test_each_sealing_uses_a_fresh_nonce(world):
    other = make_employee(world.employer, bsn="111222333")
    assert raw_column(other)[6:18] != raw_column(world.employee)[6:18]


def test_a_ciphertext_copied_to_another_row_does_not_decrypt(world):
    """The associated data binds the value to its row: no swapping one person's BSN to another."""
    victim = make_employee(world.employer)
    Employee.objects.filter(pk=victim.pk).update(bsn_sealed=raw_column(world.employee))
    victim.refresh_from_db()
    with pytest.raises(encryption.DecryptionError):
        _ = victim.bsn


def test_a_tampered_ciphertext_does_not_decrypt(world):
    blob = bytearray(raw_column(world.employee))
    blob[-1] ^= 1
    Employee.objects.filter(pk=world.employee.pk).update(bsn_sealed=bytes(blob))
    world.employee.refresh_from_db()
    with pytest.raises(encryption.DecryptionError):
        _ = world.employee.bsn


def test_tenants_have_their_own_data_keys(world):
    make_employee(world.other_employer, bsn="123456782")
    assert TenantDataKey.objects.filter(tenant=world.tenant).count() == 1
    assert TenantDataKey.objects.filter(tenant=world.other_tenant).count() == 1


def test_rotating_the_master_key_rewraps_every_key_and_keeps_data_readable(world, settings):
    old_key = base64.b64encode(os.urandom(32)).decode()
    settings.VERZUIM_MASTER_KEYS = f"1:{old_key}"
    encryption._data_keys.clear()
    TenantDataKey.objects.all().delete()
    employees = [
        make_employee(world.employer, bsn="123456782"),
        make_employee(world.other_employer, bsn="111222333"),
    ]
    before = {row.pk: bytes(row.wrapped_key) for row in TenantDataKey.objects.all()}
    assert set(TenantDataKey.objects.values_list("master_key_id", flat=True)) == {1}

    new_key = base64.b64encode(os.urandom(32)).decode()
    settings.VERZUIM_MASTER_KEYS = f"1:{old_key},2:{new_key}"
    assert encryption.rotate_master_key() == len(before)

    after = {
        row.pk: (bytes(row.wrapped_key), row.master_key_id) for row in TenantDataKey.objects.all()
    }
    assert all(after[pk][0] != before[pk] and after[pk][1] == 2 for pk in before)
    # Drop the old master key and the in-memory keys: everything must still open with key 2 alone.
    settings.VERZUIM_MASTER_KEYS = f"2:{new_key}"
    encryption._data_keys.clear()
    assert [Employee.objects.get(pk=e.pk).bsn for e in employees] == ["123456782", "111222333"]
    encryption._data_keys.clear()


def test_a_missing_master_key_is_a_clear_error(world, settings):
    settings.VERZUIM_MASTER_KEYS = f"7:{base64.b64encode(os.urandom(32)).decode()}"
    encryption._data_keys.clear()
    with pytest.raises(Exception, match="Master key 1 is not configured"):
        _ = Employee.objects.get(pk=world.employee.pk).bsn
    encryption._data_keys.clear()


def test_the_rotation_command_reports_its_work(world):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("rotate_master_key", stdout=out)
    assert f"Re-wrapped {TenantDataKey.objects.count()} tenant data keys" in out.getvalue()
    assert Employee.objects.get(pk=world.employee.pk).bsn == "111222333"


def test_a_pinned_data_key_seals_many_values_without_a_query_each(world, django_assert_num_queries):
    """A bulk write (the import's commit) reads the tenant's newest key once, and its worker
    thread, where no query may run, seals with it."""
    unpinned = Employee(tenant_id=world.tenant.pk)
    unpinned.set_bsn("111222333")
    with encryption.pinned_data_key(world.tenant.pk), django_assert_num_queries(0):
        sealed = []
        for _n in range(20):
            holder = Employee(tenant_id=world.tenant.pk)
            holder.set_bsn("111222333")
            sealed.append((holder.key, holder.bsn_sealed, holder.bsn_index))
    for key, blob, index in sealed:
        reader = Employee(tenant_id=world.tenant.pk, key=key, bsn_sealed=blob)
        assert reader.bsn == "111222333"
        assert index == unpinned.bsn_index  # the same search key as without the pin
