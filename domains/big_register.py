"""Client for the public BIG register of CIBG (SOAP, operation ListHcpApprox4).

A company doctor is authorised only when the register lists the BIG number as a currently
registered doctor (beroepsgroep 01, "arts"). The endpoint is the BIG_REGISTER_URL setting; tests
point it at a local server that answers the way the register does.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from django.conf import settings

NAMESPACE = "http://services.cibg.nl/ExternalUser"
SOAP_ACTION = f"{NAMESPACE}/ListHcpApprox4"
PROFESSIONAL_GROUP_DOCTOR = "01"
NO_END_DATE = "0001-01-01"
BIG_NUMBER = re.compile(r"^\d{11}$")


class BigRegisterUnavailable(Exception):
    """The register did not answer usefully (network error, time-out, SOAP fault, bad XML)."""


@dataclass(frozen=True)
class ArticleRegistration:
    number: str
    professional_group: str
    start: date | None
    end: date | None
    # Who the register lists under this number (ListHcpApprox4's person fields).
    birth_surname: str = ""
    partner_surname: str = ""
    initials: str = ""

    def is_named(self, first_name: str, last_name: str) -> bool:
        """Does the registration belong to this person? The surname must match the birth name
        or the partner's name, and the initials must start with the first name's initial;
        prefixes ("van der"), diacritics, case and punctuation do not count."""
        surname = normalised_surname(last_name)
        surnames = {
            normalised_surname(self.birth_surname),
            normalised_surname(self.partner_surname),
        }
        first_initial = _letters(first_name)[:1]
        return bool(
            surname and first_initial and surname in surnames - {""}
            and _letters(self.initials).startswith(first_initial)
        )  # fmt: skip

    def is_current_doctor(self, today: date) -> bool:
        started = self.start is None or self.start <= today
        not_ended = self.end is None or self.end >= today
        return self.professional_group == PROFESSIONAL_GROUP_DOCTOR and started and not_ended


SURNAME_PREFIXES = {
    "van", "de", "der", "den", "het", "ter", "ten", "te", "in", "t", "op", "aan", "la", "le",
    "du", "da", "von", "zu", "vd", "v",
}  # fmt: skip


def _letters(text: str) -> str:
    """Upper-case letters only, diacritics removed: "Ösé-Jan" -> "OSEJAN"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalpha() and ch.isascii()).upper()


def normalised_surname(text: str) -> str:
    """A surname without its prefixes, diacritics, case and punctuation, for comparing:
    "van der Berg-Ünal" -> "BERGUNAL"."""
    words = [word for word in re.split(r"[\s']+", text.strip()) if word]
    while len(words) > 1 and _letters(words[0]).lower() in SURNAME_PREFIXES:
        words.pop(0)
    return "".join(_letters(word) for word in words)


def is_plausible_big_number(value: str) -> bool:
    """The format check only: eleven digits, not all zero. Whether it exists, the register says."""
    return bool(BIG_NUMBER.match(value)) and set(value) != {"0"}


def _request_body(big_number: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ns="{NAMESPACE}"><soap:Body><ns:listHcpApproxRequest>'
        "<ns:WebSite>Ribiz</ns:WebSite>"
        f"<ns:RegistrationNumber>{escape(big_number)}</ns:RegistrationNumber>"
        "</ns:listHcpApproxRequest></soap:Body></soap:Envelope>"
    ).encode()


def _date(text: str | None) -> date | None:
    if not text or text.startswith(NO_END_DATE):
        return None
    return date.fromisoformat(text[:10])


def parse_response(xml: bytes) -> list[ArticleRegistration]:
    try:
        root = SafeET.fromstring(xml)
    except Exception as error:  # noqa: BLE001 - any parse failure means no usable answer
        raise BigRegisterUnavailable("The BIG register answered with unreadable XML.") from error
    if root.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault") is not None:
        raise BigRegisterUnavailable("The BIG register answered with a SOAP fault.")
    registrations = []
    for person in root.iter(f"{{{NAMESPACE}}}ListHcpApprox4"):
        names = {
            "birth_surname": _text(person, "BirthSurname"),
            "partner_surname": _text(person, "PartnerSurname"),
            "initials": _text(person, "Initial"),
        }
        for element in person.iter(f"{{{NAMESPACE}}}ArticleRegistrationExtApp"):
            registrations.append(
                ArticleRegistration(
                    number=_text(element, "ArticleRegistrationNumber"),
                    professional_group=_text(element, "ProfessionalGroupCode"),
                    start=_date(element.findtext(f"{{{NAMESPACE}}}ArticleRegistrationStartDate")),
                    end=_date(element.findtext(f"{{{NAMESPACE}}}ArticleRegistrationEndDate")),
                    **names,
                )
            )
    return registrations


def _text(element: Any, name: str) -> str:
    return (element.findtext(f"{{{NAMESPACE}}}{name}") or "").strip()


def lookup(big_number: str) -> list[ArticleRegistration]:
    """Ask the register for a BIG number; raises BigRegisterUnavailable when it cannot answer."""
    request = urllib.request.Request(  # noqa: S310 - the URL is a setting, http(s) only
        settings.BIG_REGISTER_URL,
        data=_request_body(big_number),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_ACTION}"'},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.BIG_REGISTER_TIMEOUT) as response:  # noqa: S310
            return parse_response(response.read(2_000_000))
    except urllib.error.HTTPError as error:
        if error.code == HTTPStatus.INTERNAL_SERVER_ERROR:  # SOAP faults come with status 500
            return parse_response(error.read(2_000_000))
        raise BigRegisterUnavailable(f"The BIG register answered HTTP {error.code}.") from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise BigRegisterUnavailable("The BIG register could not be reached.") from error


def registered_doctor(big_number: str, today: date) -> ArticleRegistration | None:
    """The register's current doctor registration under this number, or None."""
    return next(
        (
            registration
            for registration in lookup(big_number)
            if registration.number == big_number and registration.is_current_doctor(today)
        ),
        None,
    )
