"""SMS as a second factor: numbers, short-lived single-use codes, rate limits per user and per
number, the record each message leaves, and the HTTP gateway client against a local server."""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from auth2fa import sms
from auth2fa.models import SMSDevice, SMSMessage
from tests.conftest import verified_login
from tests.test_two_factor import password_login


@pytest.fixture(autouse=True)
def no_resend_wait(settings):
    settings.SMS_BACKEND = "auth2fa.sms.MemoryBackend"
    settings.SMS_RESEND_SECONDS = 0


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", sms.MemoryBackend.outbox[-1][1]).group(1)


def sms_device(user, number="+31612345678") -> SMSDevice:
    return SMSDevice.objects.create(user=user, name="SMS", number=number, confirmed=True)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("06 12345678", "+31612345678"), ("+31 6-1234 5678", "+31612345678"),
     ("0032 470 12 34 56", "+32470123456")],
)  # fmt: skip
def test_numbers_are_normalised(typed, stored):
    assert sms.normalise_mobile_number(typed) == stored


@pytest.mark.parametrize(
    ("typed", "code"),
    [("020 123 4567", "not_mobile"), ("06 1234", "invalid"), ("bel me", "unparseable")],
)
def test_wrong_numbers_say_what_is_wrong(typed, code):
    with pytest.raises(ValidationError) as error:
        sms.normalise_mobile_number(typed)
    assert error.value.code == code


def test_enrolment_by_sms_records_the_message_against_tenant_and_employer(client, world):
    password_login(client, "manager@a.test")
    response = client.post(
        reverse("auth2fa:enrol_sms"), {"action": "number", "number": "06 23456789"}
    )
    assert response.status_code == 302
    number, text = sms.MemoryBackend.outbox[-1]
    assert number == "+31623456789" and "5 minuten" in text
    page = client.get(reverse("auth2fa:enrol_sms")).content.decode()
    assert "+316••••••89" in page and "23456789" not in page
    response = client.post(
        reverse("auth2fa:enrol_sms"), {"action": "confirm", "token": last_code()}
    )
    assert response.url == reverse("auth2fa:recovery_code")
    device = SMSDevice.objects.get(user=world.manager)
    assert device.confirmed and device.number == "+31623456789"
    message = SMSMessage.unscoped.get()
    # The manager's role reaches one employer (a department of A): the SMS is charged there.
    assert (message.tenant, message.employer, message.status, message.purpose) == (
        world.tenant, world.employer, "sent", "enrol",
    )  # fmt: skip


def test_a_user_reaching_several_employers_is_charged_to_the_tenant_only(client, world):
    sms_device(world.hr)
    password_login(client, "hr@a.test")
    client.post(
        reverse("auth2fa:verify") + "?method=sms",
        {"action": "send", "device": SMSDevice.objects.get().persistent_id},
    )
    message = SMSMessage.unscoped.get()
    assert message.employer is None and message.purpose == "login"


def test_the_users_own_employee_record_decides_the_employer(client, world):
    world.hr.employee = world.sick_at_b
    world.hr.save()
    device = sms_device(world.hr)
    sms.send_code(device, SMSMessage.Purpose.LOGIN)
    assert SMSMessage.unscoped.get().employer == world.employer_b


def test_login_with_an_sms_code_which_works_once(client, world):
    device = sms_device(world.hr)
    password_login(client, "hr@a.test")
    verify = reverse("auth2fa:verify") + "?method=sms"
    client.post(verify, {"action": "send", "device": device.persistent_id})
    code = last_code()
    response = client.post(verify, {"token": code})
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    client.logout()
    password_login(client, "hr@a.test")
    assert client.post(verify, {"token": code}).status_code == 200  # used: refused


def test_an_expired_code_is_refused(client, world):
    device = sms_device(world.hr)
    password_login(client, "hr@a.test")
    verify = reverse("auth2fa:verify") + "?method=sms"
    client.post(verify, {"action": "send", "device": device.persistent_id})
    SMSDevice.objects.filter(pk=device.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    response = client.post(verify, {"token": last_code()})
    assert response.status_code == 200 and "verlopen" in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_resending_within_the_wait_is_refused(client, world, settings):
    settings.SMS_RESEND_SECONDS = 30
    device = sms_device(world.hr)
    sms.send_code(device, SMSMessage.Purpose.LOGIN)
    with pytest.raises(sms.SmsRateLimited):
        sms.send_code(device, SMSMessage.Purpose.LOGIN)
    assert len(sms.MemoryBackend.outbox) == 1


def test_the_hourly_limit_per_user(client, world, settings):
    settings.SMS_PER_USER_PER_HOUR = 3
    device = sms_device(world.hr)
    for _ in range(3):
        sms.send_code(device, SMSMessage.Purpose.LOGIN)
    with pytest.raises(sms.SmsRateLimited):
        sms.send_code(device, SMSMessage.Purpose.LOGIN)
    assert len(sms.MemoryBackend.outbox) == 3
    assert SMSMessage.unscoped.count() == 3  # a refused message costs nothing and is not counted


def test_the_hourly_limit_per_number_spans_accounts(client, world, settings):
    settings.SMS_PER_NUMBER_PER_HOUR = 2
    settings.SMS_PER_USER_PER_HOUR = 10
    for user in (world.hr, world.manager):
        sms.send_code(sms_device(user, "+31687654321"), SMSMessage.Purpose.LOGIN)
    with pytest.raises(sms.SmsRateLimited):
        sms.send_code(sms_device(world.casemanager, "+31687654321"), SMSMessage.Purpose.LOGIN)
    sms.send_code(sms_device(world.bedrijfsarts, "+31611111111"), SMSMessage.Purpose.LOGIN)


def test_the_limit_shows_on_the_page(client, world, settings):
    settings.SMS_PER_USER_PER_HOUR = 1
    device = sms_device(world.hr)
    password_login(client, "hr@a.test")
    verify = reverse("auth2fa:verify") + "?method=sms"
    client.post(verify, {"action": "send", "device": device.persistent_id})
    page = client.post(verify, {"action": "send", "device": device.persistent_id}, follow=True)
    assert "Te veel codes" in page.content.decode()


def test_a_number_cannot_be_sent_to_for_someone_else(client, world):
    theirs = sms_device(world.manager)
    sms_device(world.hr)
    password_login(client, "hr@a.test")
    client.post(
        reverse("auth2fa:verify") + "?method=sms",
        {"action": "send", "device": theirs.persistent_id},
    )
    assert sms.MemoryBackend.outbox == []


# -- The HTTP gateway --------------------------------------------------------------------------


@contextmanager
def gateway(statuses: list[int], delay: float = 0):
    """A local SMS gateway answering with these statuses in turn; yields the requests it got."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            import time

            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"body": body, "auth": self.headers.get("Authorization")})
            time.sleep(delay)
            status = statuses[min(len(received) - 1, len(statuses) - 1)]
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"id": f"msg-{len(received)}"}).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits up to one interval (0.5 s by default) per test.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/messages", received
    finally:
        server.shutdown()


@pytest.fixture
def http_gateway(settings):
    settings.SMS_BACKEND = "auth2fa.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_TOKEN = "test-access-key"
    settings.SMS_GATEWAY_RETRIES = 2
    settings.SMS_GATEWAY_TIMEOUT = 1
    return settings


def test_the_gateway_gets_number_text_and_credentials(world, http_gateway):
    with gateway([201]) as (url, received):
        http_gateway.SMS_GATEWAY_URL = url
        sms.send_code(sms_device(world.hr), SMSMessage.Purpose.LOGIN)
    assert received[0]["auth"] == "AccessKey test-access-key"
    assert received[0]["body"]["recipients"] == ["+31612345678"]
    assert re.search(r"\d{6}", received[0]["body"]["body"])
    assert SMSMessage.unscoped.get().gateway_reference == "msg-1"


def test_the_gateway_is_retried_after_a_server_error(world, http_gateway):
    with gateway([503, 502, 200]) as (url, received):
        http_gateway.SMS_GATEWAY_URL = url
        sms.send_code(sms_device(world.hr), SMSMessage.Purpose.LOGIN)
    assert len(received) == 3 and SMSMessage.unscoped.get().status == "sent"


def test_a_refusal_is_not_retried_and_leaves_no_valid_code(world, http_gateway):
    device = sms_device(world.hr)
    with gateway([401]) as (url, received):
        http_gateway.SMS_GATEWAY_URL = url
        with pytest.raises(sms.SmsGatewayError, match="HTTP 401"):
            sms.send_code(device, SMSMessage.Purpose.LOGIN)
    assert len(received) == 1
    device.refresh_from_db()
    assert device.token is None
    assert SMSMessage.unscoped.get().status == "failed"


def test_a_gateway_that_does_not_answer_in_time(world, http_gateway):
    http_gateway.SMS_GATEWAY_RETRIES = 0
    with gateway([200], delay=2) as (url, _received):
        http_gateway.SMS_GATEWAY_URL = url
        with pytest.raises(sms.SmsGatewayError, match="could not be reached"):
            sms.send_code(sms_device(world.hr), SMSMessage.Purpose.LOGIN)


def test_a_failing_gateway_gives_the_user_a_clear_message(client, world, http_gateway):
    http_gateway.SMS_GATEWAY_URL = "http://127.0.0.1:9/messages"  # nothing listens there
    http_gateway.SMS_GATEWAY_RETRIES = 0
    password_login(client, "manager@a.test")
    response = client.post(
        reverse("auth2fa:enrol_sms"), {"action": "number", "number": "0612345678"}
    )
    assert response.status_code == 200
    assert "niet worden verstuurd" in response.content.decode()


def test_file_backend_for_the_demo(world, settings, tmp_path):
    settings.SMS_BACKEND = "auth2fa.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.txt")
    sms.send_code(sms_device(world.hr), SMSMessage.Purpose.LOGIN)
    line = (tmp_path / "sms.txt").read_text()
    assert "+31612345678" in line and re.search(r"\d{6}", line)


def test_account_lists_sms_masked_and_can_make_it_the_default(client, world):
    verified_login(client, world.hr)
    device = sms_device(world.hr)
    page = client.get(reverse("auth2fa:account")).content.decode()
    assert "+316••••••78" in page
    client.post(
        reverse("auth2fa:account_change"), {"action": "default", "device": device.persistent_id}
    )
    world.hr.refresh_from_db()
    assert world.hr.default_factor == device.persistent_id
    client.logout()
    password_login(client, "hr@a.test")
    assert client.get(reverse("auth2fa:verify")).context["method"] == "sms"


def test_sms_is_not_offered_without_a_gateway(client, world, settings):
    settings.SMS_BACKEND = "auth2fa.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = ""
    password_login(client, "hr@a.test")
    assert "Sms" not in [
        str(m.title) for m in client.get(reverse("auth2fa:enrol")).context["methods"]
    ]
    settings.SMS_GATEWAY_URL = "https://gateway.example/messages"
    assert "Sms" in [str(m.title) for m in client.get(reverse("auth2fa:enrol")).context["methods"]]
