"""The prescan on medical terms refuses and accepts realistic sentences, naming the words."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.models import CaseNote
from cases.prescan import medical_terms_in, refuse_medical_terms
from tests.conftest import verified_login

REFUSED = [
    ("Hij heeft griep en koorts, verwacht volgende week terug.", ["griep", "koorts"]),
    ("Rugpijn na het tillen van dozen in het magazijn.", ["Rugpijn"]),
    ("Ze is zwanger en heeft last van misselijkheid.", ["zwanger", "misselijkheid"]),
    ("Burn-out klachten, overleg met de huisarts loopt.", ["Burn-out", "huisarts"]),
    ("Slikt nu PARACETAMOL en blijft thuis.", ["PARACETAMOL"]),
    ("Gebroken arm na een val van de trap.", ["Gebroken", "arm"]),
    ("Wordt volgende week geopereerd aan de knie.", ["geopereerd", "knie"]),
    ("Opgenomen in het ziekenhuis, bezoek nog niet mogelijk.", ["Opgenomen", "ziekenhuis"]),
    ("Lijkt op een depressie; psycholoog ingeschakeld.", ["depressie", "psycholoog"]),
    ("Long covid, nog steeds erg moe.", ["Long covid"]),
]
ACCEPTED = [
    "Afspraak voor een gesprek verzet naar dinsdag 10 uur.",
    "Terug op kantoor per maandag, eerst halve dagen.",
    "Het team is arm aan ervaring met dit soort planning.",
    "Van harte beterschap namens de afdeling!",
    "Hartelijk dank voor het snelle contact.",
    "Rugzak met laptop vergeten op de werkplek, wordt opgehaald.",
    "Armoede in de regio maakt de reiskosten belangrijk.",
    "De verhuizing ligt achter de rug, nieuw adres doorgegeven.",
    "Werkt vanaf volgende week weer op eigen benen in het project.",
    "Telefonisch bereikbaar tussen 9 en 12 uur.",
]


@pytest.mark.parametrize(("sentence", "words"), REFUSED)
def test_sentences_with_medical_terms_are_refused_naming_the_words(sentence, words):
    assert medical_terms_in(sentence) == words
    with pytest.raises(ValidationError) as refused:
        refuse_medical_terms(sentence)
    for word in words:
        assert f"“{word}”" in refused.value.messages[0]


@pytest.mark.parametrize("sentence", ACCEPTED)
def test_sentences_without_medical_terms_are_accepted(sentence):
    assert medical_terms_in(sentence) == []
    refuse_medical_terms(sentence)


def test_a_tenant_can_add_terms_of_its_own(world):
    world.tenant.extra_medical_terms = "stoma\nco-assistentie"
    assert medical_terms_in("Heeft een stoma gekregen.", world.tenant) == ["stoma"]
    assert medical_terms_in("Heeft een stoma gekregen.", world.other_tenant) == []


def test_a_general_note_with_medical_terms_is_refused_and_the_text_kept(client, world):
    verified_login(client, world.hr)
    text = "Werknemer belde: griep, blijft deze week thuis."
    response = client.post(
        reverse("cases:add_note", kwargs={"key": world.case.key}), {"text": text}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“griep”" in page and text in page  # the error names the word; nothing typed is lost
    assert not CaseNote.objects.filter(case=world.case).exists()


def test_the_sick_report_remarks_are_prescanned(client, world):
    verified_login(client, world.hr)
    response = client.post(
        reverse("cases:report_sick", kwargs={"key": world.healthy.key}),
        {"case_type": "sickness", "first_sick_day": "2026-11-02", "expected_duration": "days",
         "remarks": "Hoofdpijn en koorts"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "“Hoofdpijn”" in response.content.decode() and "“koorts”" in response.content.decode()
