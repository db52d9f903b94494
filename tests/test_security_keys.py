"""Security keys: registering several, logging in with any, the counter check, RP id and origin
from settings, and old U2F keys through the AppID extension. A software key (tests/
soft_authenticator.py) signs real answers; the browser journeys use Chromium's authenticator."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from fido2.utils import websafe_encode

from audit.models import AuditEvent
from audit.tasks import drain_outbox
from auth2fa import webauthn
from auth2fa.models import SecurityKey
from tests.conftest import verified_login
from tests.soft_authenticator import ORIGIN, SoftKey
from tests.test_two_factor import password_login

APPID = "https://localhost:8000/u2f/app-id.json"


@pytest.fixture(autouse=True)
def relying_party(settings):
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [ORIGIN]


def register(client, key: SoftKey, name: str = "Blauwe sleutel", origin: str = ORIGIN):
    page = client.get(reverse("auth2fa:enrol_key"))
    assert page.status_code == 200
    options = page.context["webauthn_options"]
    assert options["publicKey"]["rp"]["id"] == "localhost"
    return client.post(
        reverse("auth2fa:enrol_key"), {"name": name, "credential": key.register(options, origin)}
    )


def registered_key_then_password_only(client, user) -> SoftKey:
    """The user registers a key, logs out and logs in again up to the second step."""
    verified_login(client, user)
    key = SoftKey()
    register(client, key)
    client.logout()
    password_login(client, user.email)
    return key


def key_login(client, key: SoftKey, **sign):
    page = client.get(reverse("auth2fa:verify") + "?method=key")
    options = page.context["webauthn_options"]
    return client.post(
        reverse("auth2fa:verify") + "?method=key", {"credential": key.sign(options, **sign)}
    )


def test_a_first_key_is_registered_in_the_wizard_and_becomes_the_default(client, world):
    password_login(client, "hr@a.test")
    response = register(client, SoftKey())
    assert response.url == reverse("auth2fa:recovery_code")  # the first factor: a recovery code
    key = SecurityKey.objects.get(user=world.hr)
    assert key.name == "Blauwe sleutel" and key.confirmed
    world.hr.refresh_from_db()
    assert world.hr.default_factor == key.persistent_id
    assert client.session[DEVICE_ID_SESSION_KEY] == key.persistent_id


def test_several_keys_each_with_a_name_and_login_with_either(client, world):
    verified_login(client, world.hr)
    first, second = SoftKey(), SoftKey()
    register(client, first, "Sleutel thuis")
    register(client, second, "Sleutel werk")
    assert sorted(SecurityKey.objects.filter(user=world.hr).values_list("name", flat=True)) == [
        "Sleutel thuis", "Sleutel werk",
    ]  # fmt: skip
    for key in (second, first):
        client.logout()
        password_login(client, "hr@a.test")
        response = key_login(client, key)
        assert response.status_code == 302 and response.url == reverse("dashboard")


def test_the_same_key_is_not_registered_twice(client, world):
    verified_login(client, world.hr)
    key = SoftKey()
    register(client, key)
    page = client.get(reverse("auth2fa:enrol_key"))
    excluded = page.context["webauthn_options"]["publicKey"]["excludeCredentials"]
    assert len(excluded) == 1  # the browser is told to refuse it
    response = register(client, key)
    assert response.status_code == 200
    assert SecurityKey.objects.filter(user=world.hr).count() == 1


def test_an_answer_for_another_origin_is_refused(client, world):
    verified_login(client, world.hr)
    response = register(client, SoftKey(), origin="https://evil.example")
    assert response.status_code == 200 and not SecurityKey.objects.exists()


def test_the_rp_id_comes_from_settings_not_the_host_header(client, world, settings):
    settings.ALLOWED_HOSTS = ["localhost", "evil.example"]
    verified_login(client, world.hr)
    page = client.get(reverse("auth2fa:enrol_key"), HTTP_HOST="evil.example")
    assert page.context["webauthn_options"]["publicKey"]["rp"]["id"] == "localhost"
    # A key scoped to the other host's RP id is refused.
    response = client.post(
        reverse("auth2fa:enrol_key"),
        {
            "name": "x",
            "credential": SoftKey("evil.example").register(page.context["webauthn_options"]),
        },
        HTTP_HOST="evil.example",
    )
    assert response.status_code == 200 and not SecurityKey.objects.exists()


def test_a_counter_that_goes_back_is_refused_and_the_key_flagged(client, world):
    key = registered_key_then_password_only(client, world.hr)
    assert key_login(client, key, counter_step=5).status_code == 302
    client.logout()
    password_login(client, "hr@a.test")
    key.counter -= 3  # a copy of the key that was used less often
    response = key_login(client, key, counter_step=1)
    assert response.status_code == 200
    assert "gekopieerd" in response.content.decode()
    stored = SecurityKey.objects.get(user=world.hr)
    assert stored.clone_warning and stored.sign_count == 5
    drain_outbox()
    assert AuditEvent.objects.filter(event_type="2fa.key_clone_warning").exists()
    # From now on the key is not offered, and not accepted, even with a higher counter.
    page = client.get(reverse("auth2fa:verify") + "?method=key")
    assert page.context.get("no_usable_key")


def test_an_answer_cannot_be_replayed(client, world):
    key = registered_key_then_password_only(client, world.hr)
    page = client.get(reverse("auth2fa:verify") + "?method=key")
    answer = key.sign(page.context["webauthn_options"])
    first = client.post(reverse("auth2fa:verify") + "?method=key", {"credential": answer})
    assert first.status_code == 302
    client.logout()
    password_login(client, "hr@a.test")
    client.get(reverse("auth2fa:verify") + "?method=key")  # a new challenge
    response = client.post(reverse("auth2fa:verify") + "?method=key", {"credential": answer})
    assert response.status_code == 200 and not client.session.get(DEVICE_ID_SESSION_KEY)


def test_a_key_of_another_user_is_not_accepted(client, world):
    verified_login(client, world.manager)
    key = SoftKey()
    register(client, key)
    client.logout()
    verified_login(client, world.hr)
    register(client, SoftKey())
    client.logout()
    password_login(client, "hr@a.test")
    page = client.get(reverse("auth2fa:verify") + "?method=key")
    options = page.context["webauthn_options"]
    # The manager's key answers a challenge it was not asked (as if the page were tampered with).
    options["publicKey"]["allowCredentials"].append(
        {"type": "public-key", "id": websafe_encode(key.credential_id)}
    )
    response = client.post(
        reverse("auth2fa:verify") + "?method=key", {"credential": key.sign(options)}
    )
    assert response.status_code == 200 and not client.session.get(DEVICE_ID_SESSION_KEY)


def test_an_old_u2f_key_signs_in_through_the_appid_extension(client, world):
    key = SoftKey(rp_id=APPID)  # registered through the U2F API: scoped to the AppID URL
    webauthn.import_u2f_key(
        user=world.hr, key_handle=key.credential_id, public_key=key.public_key_raw,
        appid=APPID, name="Oude U2F-sleutel",
    )  # fmt: skip
    password_login(client, "hr@a.test")
    page = client.get(reverse("auth2fa:verify") + "?method=key")
    assert page.context["webauthn_options"]["publicKey"]["extensions"] == {"appid": APPID}
    response = client.post(
        reverse("auth2fa:verify") + "?method=key",
        {"credential": key.sign(page.context["webauthn_options"], use_appid=True)},
    )
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_an_appid_answer_is_refused_for_a_key_registered_with_webauthn(client, world):
    verified_login(client, world.hr)
    key = SoftKey(rp_id=APPID)
    register(client, key)  # a WebAuthn registration must be for the RP id itself
    assert not SecurityKey.objects.exists()


def u2f_export(directory, *rows: str) -> str:
    """A previous system's export of U2F keys, in the format import_u2f_keys reads."""
    source = directory / "keys.csv"
    source.write_text(
        "email;key_handle;public_key;counter;name\n" + "".join(f"{r}\n" for r in rows)
    )
    return str(source)


def u2f_row(email: str, key: SoftKey, counter: int, name: str) -> str:
    handle, public_key = websafe_encode(key.credential_id), websafe_encode(key.public_key_raw)
    return f"{email};{handle};{public_key};{counter};{name}"


def test_u2f_keys_are_imported_from_a_previous_system(client, world, settings, tmp_path):
    settings.WEBAUTHN_U2F_APPID = APPID
    key = SoftKey(rp_id=APPID)
    source = u2f_export(tmp_path, u2f_row("HR@a.test", key, 41, "YubiKey oud"))
    call_command("import_u2f_keys", source)
    stored = SecurityKey.objects.get(user=world.hr)
    assert (stored.name, stored.sign_count, stored.u2f_appid) == ("YubiKey oud", 41, APPID)
    key.counter = 41
    password_login(client, "hr@a.test")
    assert key_login(client, key, use_appid=True).url == reverse("dashboard")


def test_a_bad_import_row_stops_the_import_with_its_line(world, settings, tmp_path):
    settings.WEBAUTHN_U2F_APPID = APPID
    key = SoftKey(rp_id=APPID)
    source = u2f_export(
        tmp_path,
        u2f_row("hr@a.test", key, 0, "a"),
        f"hr@a.test;{websafe_encode(key.credential_id)};AAAA;0;b",
    )
    with pytest.raises(CommandError, match="Line 3"):
        call_command("import_u2f_keys", source)
    assert not SecurityKey.objects.exists()
