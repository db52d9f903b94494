"""The tenant's password policy (seed 001): length, reuse, expiry, lockout, blocking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from auth2fa.models import User
from domains.forms import TenantSettingsForm
from tests.conftest import PASSWORD, verified_login


def login(client, email, password=PASSWORD):
    return client.post(reverse("auth2fa:login"), {"username": email, "password": password})


def test_the_minimum_length_is_the_tenants(world):
    world.tenant.password_min_length = 16
    world.tenant.save()
    with pytest.raises(ValidationError, match="16"):
        validate_password("vijftien tekens", world.hr)  # 15
    validate_password("zestien tekens!!", world.hr)


def test_the_minimum_length_never_goes_below_twelve(world):
    world.tenant.password_min_length = 8
    with pytest.raises(ValidationError):
        world.tenant.full_clean()


def test_recent_passwords_cannot_be_reused(world):
    for number in range(5):
        world.hr.set_password(f"een lang wachtwoord {number}")
        world.hr.save()
    with pytest.raises(ValidationError, match="onlangs gebruikt"):
        validate_password("een lang wachtwoord 1", world.hr)
    world.tenant.password_history = 2
    world.tenant.save()
    world.hr.refresh_from_db()
    validate_password("een lang wachtwoord 1", world.hr)  # older than the last two


def test_an_expired_password_must_be_changed_after_login(client, world):
    verified_login(client, world.hr)
    User.objects.filter(pk=world.hr.pk).update(
        password_changed_at=timezone.now() - timedelta(days=366)
    )
    response = client.get(reverse("employees:list"))
    assert response.status_code == 302 and response.url.startswith(
        reverse("auth2fa:password_change")
    )
    new = "een heel nieuw wachtwoord"
    changed = client.post(
        reverse("auth2fa:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert changed.status_code == 302
    assert client.get(reverse("employees:list")).status_code == 200


def test_no_expiry_when_the_tenant_sets_none(client, world):
    world.tenant.password_max_age_days = 0
    world.tenant.save()
    verified_login(client, world.hr)
    User.objects.filter(pk=world.hr.pk).update(
        password_changed_at=timezone.now() - timedelta(days=3000)
    )
    assert client.get(reverse("employees:list")).status_code == 200


def test_a_locked_account_opens_again_after_the_period(client, world):
    world.tenant.lockout_attempts = 3
    world.tenant.save()
    for _ in range(3):
        login(client, "hr@a.test", "wrong password!")
    world.hr.refresh_from_db()
    assert world.hr.is_locked
    assert login(client, "hr@a.test").status_code == 200  # the right password, still locked
    User.objects.filter(pk=world.hr.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert login(client, "hr@a.test").status_code == 302


def test_an_admin_blocks_and_unblocks_an_account(client, world):
    user_client = client.__class__()
    verified_login(user_client, world.hr)
    verified_login(client, world.beheer)
    client.post(reverse("domains:user_block", kwargs={"key": world.hr.key}))
    world.hr.refresh_from_db()
    assert world.hr.is_blocked
    assert user_client.get(reverse("dashboard")).status_code == 302  # the running session ended
    refused = login(user_client, "hr@a.test")
    assert refused.status_code == 200 and "geblokkeerd" in refused.content.decode()
    client.post(reverse("domains:user_unblock", kwargs={"key": world.hr.key}))
    assert login(user_client, "hr@a.test").status_code == 302


def test_admins_cannot_block_themselves(client, world):
    verified_login(client, world.beheer)
    client.post(reverse("domains:user_block", kwargs={"key": world.beheer.key}))
    world.beheer.refresh_from_db()
    assert not world.beheer.is_blocked


def settings_data(tenant, **changes) -> dict:
    form = TenantSettingsForm(instance=tenant)
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    return {**data, **changes}


@pytest.mark.parametrize(
    ("field", "too_high", "highest"),
    [
        ("lockout_attempts", 21, 20),
        ("lockout_minutes", 1441, 1440),
        ("password_max_age_days", 731, 730),
    ],
)
def test_the_lockout_and_expiry_settings_have_upper_bounds(client, world, field, too_high, highest):
    verified_login(client, world.beheer)
    url = reverse("domains:tenant_settings")
    before = getattr(world.tenant, field)
    refused = client.post(url, settings_data(world.tenant, **{field: too_high}))
    assert refused.status_code == 200 and field in refused.context["form"].errors
    world.tenant.refresh_from_db()
    assert getattr(world.tenant, field) == before
    assert client.post(url, settings_data(world.tenant, **{field: highest})).status_code == 302
    world.tenant.refresh_from_db()
    assert getattr(world.tenant, field) == highest
