"""Dutch by default, English selectable; every user-facing string goes through the catalogue."""

from __future__ import annotations

from django.urls import reverse


def test_dutch_is_the_default_language(client, db):
    page = client.get(reverse("auth2fa:login")).content.decode()
    assert '<html lang="nl">' in page
    assert "Inloggen" in page and "Wachtwoord vergeten?" in page


def test_english_can_be_chosen(client, db):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("auth2fa:login")}
    )
    assert response.status_code == 302
    page = client.get(reverse("auth2fa:login")).content.decode()
    assert '<html lang="en">' in page
    assert "Forgot your password?" in page


def test_the_dutch_catalogue_is_complete():
    import polib

    from verzuim.settings import BASE_DIR

    catalogue = polib.pofile(str(BASE_DIR / "locale/nl/LC_MESSAGES/django.po"))
    assert catalogue.percent_translated() == 100
    assert not catalogue.fuzzy_entries()
