"""Allowed IP ranges per tenant (IPv4 and IPv6), and the trusted-proxy rule for the address."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from core import net
from tests.conftest import PASSWORD, verified_login

RANGES = "192.0.2.0/24\n2001:db8:1::/48  # office, IPv6\n"


@pytest.fixture
def office_only(world):
    world.tenant.allowed_ip_ranges = RANGES
    world.tenant.save()
    return world


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("192.0.2.17", True), ("192.0.3.1", False), ("2001:db8:1:5::1", True),
     ("2001:db8:2::1", False), ("not an ip", False)],
)  # fmt: skip
def test_addresses_are_matched_against_ipv4_and_ipv6_ranges(address, allowed):
    assert net.address_allowed(address, RANGES) is allowed


def test_no_ranges_means_every_address(world):
    assert net.address_allowed("203.0.113.5", "")


def test_a_bad_range_is_a_clear_error(world):
    world.tenant.allowed_ip_ranges = "192.0.2.0/24\n10.0.0.300"
    with pytest.raises(ValidationError, match="10.0.0.300"):
        world.tenant.full_clean()


def test_requests_from_outside_the_ranges_are_refused(client, office_only):
    verified_login(client, office_only.hr)
    inside = client.get(reverse("employees:list"), REMOTE_ADDR="192.0.2.10")
    outside = client.get(reverse("employees:list"), REMOTE_ADDR="198.51.100.7")
    assert inside.status_code == 200
    assert outside.status_code == 403 and "198.51.100.7" in outside.content.decode()
    assert "Jansen" not in outside.content.decode()
    assert client.post(reverse("auth2fa:logout"), REMOTE_ADDR="198.51.100.7").status_code == 302


def test_logins_from_outside_the_ranges_are_refused(client, office_only):
    data = {"username": "hr@a.test", "password": PASSWORD}
    refused = client.post(reverse("auth2fa:login"), data, REMOTE_ADDR="2001:db8:99::1")
    assert refused.status_code == 200 and "2001:db8:99::1" in refused.content.decode()
    assert (
        client.post(reverse("auth2fa:login"), data, REMOTE_ADDR="2001:db8:1::42").status_code == 302
    )


def test_other_tenants_are_not_restricted(client, office_only):
    verified_login(client, office_only.outsider)
    assert client.get(reverse("employees:list"), REMOTE_ADDR="198.51.100.7").status_code == 200


def forwarded(remote: str, header: str):
    return RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=header)


def test_the_forwarded_header_is_ignored_unless_the_proxy_is_trusted(settings):
    settings.TRUSTED_PROXIES = []
    net._trusted_proxies.cache_clear()
    assert net.client_ip(forwarded("203.0.113.9", "192.0.2.10")) == "203.0.113.9"  # a forged header


def test_a_trusted_proxys_forwarded_address_is_used(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]
    net._trusted_proxies.cache_clear()
    try:
        # client, then our two proxies; a spoofed leftmost entry is not reached
        assert net.client_ip(forwarded("10.0.0.2", "1.2.3.4, 192.0.2.10, 10.0.0.1")) == "192.0.2.10"
        assert net.client_ip(forwarded("fd00::1", "2001:db8:1::7")) == "2001:db8:1::7"
    finally:
        settings.TRUSTED_PROXIES = []
        net._trusted_proxies.cache_clear()
