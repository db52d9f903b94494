"""Every request runs with an audit context; its events are handed over before the response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from audit import events
from core.net import client_ip


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        audit = events.RequestAudit(user=request.user, client_ip=client_ip(request))
        request.audit = audit  # type: ignore[attr-defined]  # our own attribute on the request
        token = events.begin_request(audit)
        try:
            response = self.get_response(request)
            try:
                events.publish(audit.reads)
            except events.AuditUnavailable:
                # Rather no page than a page of personal data nobody can account for.
                return HttpResponse(
                    render_to_string("audit/unavailable.html", request=request), status=503
                )
            return response
        finally:
            events.end_request(token)
