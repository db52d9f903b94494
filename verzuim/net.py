"""The client's network address."""

from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str:
    """The address of the connection. Proxy headers are not trusted here (they can be forged)."""
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")
