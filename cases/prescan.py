"""Prescan on medical terms (seed 003: "prescan op medische termen").

Free-text fields that are not meant for medical data refuse text containing medical terms and
name the words to remove. The term list is a maintained data file (cases/data/medische_termen.txt)
matched on whole words and case-insensitively; phrases in cases/data/toegestane_zinnen.txt are
left out first, against false alarms ("arm aan", "van harte"); a tenant can add terms of its own.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DATA = Path(__file__).resolve().parent / "data"
# Letters of Dutch words, digits and the joiners inside words ("burn-out", "me/cvs", "covid-19").
WORD_CHARS = r"[\w\-/]"


def _read(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [
        line.strip().lower() for line in lines if line.strip() and not line.lstrip().startswith("#")
    ]


def _pattern(terms: list[str]) -> re.Pattern:
    alternatives = sorted({re.escape(term) for term in terms}, key=len, reverse=True)
    return re.compile(
        rf"(?<!{WORD_CHARS})(?:{'|'.join(alternatives)})(?!{WORD_CHARS})", re.IGNORECASE
    )


@cache
def _standard_pattern() -> re.Pattern:
    return _pattern(_read("medische_termen.txt"))


@cache
def _allowed_pattern() -> re.Pattern:
    return _pattern(_read("toegestane_zinnen.txt"))


def _tenant_terms(tenant) -> list[str]:
    raw = getattr(tenant, "extra_medical_terms", "") if tenant is not None else ""
    return [line.strip().lower() for line in raw.splitlines() if line.strip()]


def medical_terms_in(text: str, tenant=None) -> list[str]:
    """The medical terms found in `text`, as written, in order, without repeats."""
    if not text:
        return []
    cleaned = _allowed_pattern().sub(" ", text)
    patterns = [_standard_pattern()]
    extra = _tenant_terms(tenant)
    if extra:
        patterns.append(_pattern(extra))
    found: list[str] = []
    for pattern in patterns:
        for match in pattern.finditer(cleaned):
            if match.group(0).lower() not in (word.lower() for word in found):
                found.append(match.group(0))
    return found


def refuse_medical_terms(text: str, tenant=None) -> None:
    """Raise a ValidationError naming the medical words in `text`, if there are any."""
    found = medical_terms_in(text, tenant)
    if found:
        raise ValidationError(
            _(
                "This field is not meant for medical information. Remove these words: %(words)s. "
                "Medical information belongs only in the company doctor's medical file."
            )
            % {"words": ", ".join(f"“{word}”" for word in found)},
            code="medical_terms",
        )
