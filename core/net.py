"""The client's network address, and the tenant's allowed IP ranges."""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _


@cache
def _trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in settings.TRUSTED_PROXIES)


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_proxies())


def client_ip(request: HttpRequest | None) -> str:
    """The address of the connection. X-Forwarded-For is believed only when the connection comes
    from a configured trusted proxy, and then only up to the first address that is not one."""
    if request is None:
        return ""
    remote: str = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted_proxy(remote):
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    address: str
    for address in reversed(forwarded):  # rightmost first: those were added by our own proxies
        if not _is_trusted_proxy(address):
            return address
    return remote


def parse_ranges(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDR ranges, one per line (IPv4 or IPv6); a clear error names the line that is wrong."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for line in text.splitlines():
        item = line.split("#", 1)[0].strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValidationError(
                _("“%(item)s” is not an IP address or range (CIDR).") % {"item": item}
            ) from None
    return networks


def address_allowed(address: str, ranges_text: str) -> bool:
    """True when no ranges are set, or the address lies in one of them."""
    networks = parse_ranges(ranges_text)
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
