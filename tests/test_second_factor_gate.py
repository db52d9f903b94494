"""No page is reachable without a verified second factor, nor without a login but public ones."""

from __future__ import annotations

import pytest
from django.urls import reverse

from auth2fa.models import AuthenticatorApp
from tests.urlwalk import all_routes

# The complete list of views a logged-in user may open before the second step is verified.
# A view added to this list is a conscious decision; anything else must answer with the gate.
SECOND_FACTOR_EXEMPT = {
    "auth2fa:login",
    "auth2fa:logout",
    "auth2fa:password_reset",
    "auth2fa:password_reset_done",
    "auth2fa:password_reset_confirm",
    "auth2fa:password_reset_complete",
    "auth2fa:enrol",
    "auth2fa:enrol_totp",
    "auth2fa:enrol_sms",
    "auth2fa:enrol_key",
    "auth2fa:verify",
    "auth2fa:recover",
    "set_language",
    "health",
}
# Views an anonymous visitor may open.
PUBLIC = {
    "auth2fa:login",
    "auth2fa:password_reset",
    "auth2fa:password_reset_done",
    "auth2fa:password_reset_confirm",
    "auth2fa:password_reset_complete",
    "set_language",
    "health",
}
ROUTES = all_routes()


def test_the_exempt_lists_name_real_routes():
    names = {route.name for route in ROUTES}
    assert names >= SECOND_FACTOR_EXEMPT
    assert names >= PUBLIC


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_no_page_is_reachable_before_the_second_factor(client, world, route):
    """A user who typed the right password but has not enrolled a factor reaches only the wizard."""
    client.force_login(world.hr)
    url = reverse(route.name, kwargs=route.example_kwargs())
    for method in (client.get, client.post):
        response = method(url)
        if route.name in SECOND_FACTOR_EXEMPT:
            assert not (
                response.status_code == 302
                and response.url.startswith(reverse("auth2fa:enrol") + "?")
            ), url
        else:
            assert response.status_code == 302, (url, response.status_code)
            assert response.url.startswith(reverse("auth2fa:enrol") + "?next="), response.url


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.name not in SECOND_FACTOR_EXEMPT], ids=str
)
def test_a_user_with_a_factor_is_asked_for_it(client, world, route):
    AuthenticatorApp.objects.create(user=world.hr, name="app", confirmed=True)
    client.force_login(world.hr)
    response = client.get(reverse(route.name, kwargs=route.example_kwargs()))
    assert response.status_code == 302
    assert response.url.startswith(reverse("auth2fa:verify") + "?next=")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name not in PUBLIC], ids=str)
def test_anonymous_visitors_are_sent_to_the_login(client, db, route):
    url = reverse(route.name, kwargs=route.example_kwargs())
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("auth2fa:login") + "?next=")
