"""SMS as a second factor: numbers, gateways, rate limits, and the record every message leaves.

A code is six digits, valid for SMS_CODE_VALID_SECONDS and usable once (SMSDevice.verify_token).
Sending costs money (seed 002: 8 cents per SMS), so it is limited three ways, in the shared
cache: one message per SMS_RESEND_SECONDS per user, SMS_PER_USER_PER_HOUR per user and
SMS_PER_NUMBER_PER_HOUR per number (a number shared by several accounts is still one phone).
Every message sent or attempted is an SMSMessage row against the tenant and employer it was sent
for; the cost report counts those. The cache keys are hashes, so no number lands in Redis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from auth2fa.models import SMSDevice, SMSMessage, User, mask_number

logger = logging.getLogger(__name__)

MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
HOUR = 60 * 60


class SmsGatewayError(Exception):
    """The gateway did not accept the message (after retries); the text says why, without the
    number or the code."""


class SmsRateLimited(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalise_mobile_number(raw: str) -> str:
    """A mobile number in E.164 (+31612345678), or a ValidationError that says what is wrong.
    Numbers without a country code are read as Dutch."""
    try:
        number = phonenumbers.parse(raw, settings.SMS_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("This is not a phone number. Type it like 06 12345678 or +31 6 12345678."),
            code="unparseable",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("This phone number does not exist. Check the digits and the country code."),
            code="invalid",
        )
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise ValidationError(
            _("This is not a mobile number: an SMS can only be sent to a mobile phone."),
            code="not_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# -- Gateways ----------------------------------------------------------------------------------


class MemoryBackend:
    """Keeps messages in `outbox` (tests), like Django's locmem e-mail backend."""

    outbox: list[tuple[str, str]] = []

    def send(self, number: str, text: str) -> str:
        type(self).outbox.append((number, text))
        return f"memory-{len(type(self).outbox)}"


class FileBackend:
    """Development and demo: appends each message to SMS_FILE_PATH and says so on the console."""

    def send(self, number: str, text: str) -> str:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = timezone.localtime().isoformat(timespec="seconds")
        with path.open("a", encoding="utf-8") as outbox:
            outbox.write(f"{stamp}\t{number}\t{text}\n")
        print(f"[SMS to {mask_number(number)}] {text}  (also in {path})")
        return f"file-{time.time_ns()}"


def forget_number(number: str) -> int:
    """Remove the messages to `number` from the development outbox file (retention: a deleted
    person's phone number must not stay behind in a stored file). Returns the lines removed."""
    path = Path(settings.SMS_FILE_PATH)
    if not number or not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if number not in line]
    if len(kept) != len(lines):
        path.write_text("".join(kept), encoding="utf-8")
    return len(lines) - len(kept)


class HttpGatewayBackend:
    """A REST SMS gateway (the MessageBird/Bird style: POST JSON with originator, recipients and
    body; `Authorization: AccessKey <token>`; the answer's `id` is the reference).

    Each attempt has SMS_GATEWAY_TIMEOUT seconds; network errors, 429 and 5xx answers are tried
    again up to SMS_GATEWAY_RETRIES times with a short back-off; 4xx answers are not (they will
    not get better). Failures raise SmsGatewayError with a clear reason.
    """

    RETRY_STATUSES = {429, 500, 502, 503, 504}

    def __init__(self) -> None:
        if not settings.SMS_GATEWAY_URL.startswith(("https://", "http://")):
            raise SmsGatewayError("SMS_GATEWAY_URL is not set to an http(s) URL.")
        self.url = settings.SMS_GATEWAY_URL
        self.token = settings.SMS_GATEWAY_TOKEN
        self.timeout = settings.SMS_GATEWAY_TIMEOUT
        self.retries = settings.SMS_GATEWAY_RETRIES

    def _request(self, number: str, text: str) -> urllib.request.Request:
        body = json.dumps(
            {"originator": settings.SMS_GATEWAY_ORIGINATOR, "recipients": [number], "body": text}
        ).encode()
        return urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"AccessKey {self.token}",
            },
        )

    def send(self, number: str, text: str) -> str:
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(2.0, 0.25 * 2**attempt))
            try:
                with urllib.request.urlopen(  # noqa: S310
                    self._request(number, text), timeout=self.timeout
                ) as response:
                    answer = json.loads(response.read() or b"{}")
                    return str(answer.get("id", ""))[:100]
            except urllib.error.HTTPError as error:
                reason = f"the gateway answered HTTP {error.code}"
                if error.code not in self.RETRY_STATUSES:
                    break
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                reason = f"the gateway could not be reached ({type(error).__name__})"
            except ValueError:
                reason = "the gateway's answer was not JSON"
                break
        raise SmsGatewayError(f"The SMS was not sent: {reason}.")


def gateway():
    return import_string(settings.SMS_BACKEND)()


def sending_configured() -> bool:
    """False for the HTTP gateway without a URL: then SMS is not offered as a new factor."""
    return not settings.SMS_BACKEND.endswith("HttpGatewayBackend") or bool(settings.SMS_GATEWAY_URL)


# -- Rate limits -------------------------------------------------------------------------------


def _key(kind: str, value: str) -> str:
    return f"sms:{kind}:" + hashlib.sha256(f"{kind}|{value}".encode()).hexdigest()


def _count(key: str) -> int:
    return int(cache.get(key) or 0)


def _increment(key: str, window: int) -> None:
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.add(key, 1, timeout=window)


def check_rate_limits(user: User, number: str) -> None:
    """Raise SmsRateLimited when this user or number may not get another message now."""
    if cache.get(_key("recent", str(user.pk))):
        raise SmsRateLimited(
            _(
                "A code was sent less than %(seconds)s seconds ago. "
                "Wait a moment before asking again."
            )
            % {"seconds": settings.SMS_RESEND_SECONDS}
        )
    if _count(_key("user", str(user.pk))) >= settings.SMS_PER_USER_PER_HOUR or (
        _count(_key("number", number)) >= settings.SMS_PER_NUMBER_PER_HOUR
    ):
        raise SmsRateLimited(
            _(
                "Too many codes have been sent by SMS in the last hour. Use another second "
                "factor, or try again later."
            )
        )


def _count_sent(user: User, number: str) -> None:
    cache.set(_key("recent", str(user.pk)), 1, timeout=settings.SMS_RESEND_SECONDS)
    _increment(_key("user", str(user.pk)), HOUR)
    _increment(_key("number", number), HOUR)


# -- Sending -----------------------------------------------------------------------------------


def send_code(device: SMSDevice, purpose: str) -> None:
    """Send a new code to the device's number, within the limits, and record the message.

    Raises SmsRateLimited or SmsGatewayError; after a gateway error no code is left valid.
    """
    user = device.user
    check_rate_limits(user, device.number)
    device.generate_token(length=6, valid_secs=settings.SMS_CODE_VALID_SECONDS)
    minutes = max(1, settings.SMS_CODE_VALID_SECONDS // 60)
    text = _("Your Verzuim code is %(code)s. It is valid for %(minutes)s minutes.") % {
        "code": device.token,
        "minutes": minutes,
    }
    # The employer it is charged to is filled in when the record is saved (domains/billing.py).
    record = SMSMessage(tenant_id=user.tenant_id, user=user, purpose=purpose)
    try:
        record.gateway_reference = gateway().send(device.number, text)
    except SmsGatewayError:
        device.token = None
        device.save(update_fields=["token"])
        record.status = SMSMessage.Status.FAILED
        record.save()
        logger.warning("SMS for user %s not sent", user.key, exc_info=True)
        raise
    record.status = SMSMessage.Status.SENT
    record.save()
    _count_sent(user, device.number)


# -- The cost report ---------------------------------------------------------------------------


def cost_report(year: int, price_cents: int) -> dict:
    """Messages sent in `year` in the current tenant, per month and per employer, with their
    cost at `price_cents` each. Failed messages are not charged and not counted."""
    grouped = (
        SMSMessage.objects.filter(status=SMSMessage.Status.SENT, sent_at__year=year)
        .annotate(month=TruncMonth("sent_at"))
        .values("month", "employer__name")
        .annotate(count=Count("pk"))
        .order_by("month", "employer__name")
    )
    price = Decimal(price_cents) / 100
    rows = [
        {
            "month": row["month"].date(),
            "employer": row["employer__name"],
            "count": row["count"],
            "cost": row["count"] * price,
        }
        for row in grouped
    ]
    months: dict = {}
    for row in rows:
        total = months.setdefault(row["month"], {"month": row["month"], "count": 0, "cost": 0})
        total["count"] += row["count"]
        total["cost"] += row["cost"]
    count = sum(row["count"] for row in rows)
    return {
        "rows": rows,
        "months": list(months.values()),
        "count": count,
        "cost": count * price,
        "price": price,
    }
