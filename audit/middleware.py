"""Every request runs in its own transaction with an audit context; its events are stored in the
outbox, in that transaction, before the response leaves."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from audit import events
from audit.models import Action, Outcome
from core.net import client_ip


class AuditedTransactionMiddleware:
    """The request's own transaction, with its audit events in it: the request's reads (and
    whatever else it recorded) are INSERTed into the outbox in one statement at its end, and
    commit together with what the request wrote, the session save included, before the response
    leaves. One commit per request: the events cost a local INSERT, not a second commit (on most
    disks the commit's flush to the WAL is the expensive part; bench/audit.py).

    If the database does not take the events, or the commit fails, the request's writes roll
    back and the answer is 503 without the page: rather no page than a page of personal data
    nobody can account for. Placed before the session middleware, so the session save is inside.
    A view's exception has become a response (500) before it reaches this layer, so the
    transaction commits what autocommit would have committed already."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            with transaction.atomic():
                response = self.get_response(request)
                audit = getattr(request, "audit", None)
                if audit is not None:
                    events.store_in_outbox(audit.reads, savepoint=False)
        except (events.AuditUnavailable, DatabaseError):  # the INSERT or the commit
            return HttpResponse(
                render_to_string("audit/unavailable.html", request=request), status=503
            )
        return response


class AuditMiddleware:
    """Every request runs with an audit context (who acts, from where); the events recorded
    during the request are collected on it and stored by AuditedTransactionMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        audit = events.RequestAudit(user=request.user, client_ip=client_ip(request))
        request.audit = audit  # type: ignore[attr-defined]  # our own attribute on the request
        token = events.begin_request(audit)
        try:
            return self.get_response(request)
        finally:
            events.end_request(token)


FORBIDDEN, NOT_FOUND = 403, 404
REFUSALS = {FORBIDDEN, NOT_FOUND}


class AccessDeniedMiddleware:
    """A refusal to a signed-in user is an audit event "access.denied", whatever refused it: a
    PermissionDenied or Http404 raised by a view (Django has turned it into the response by
    now), a view or gate check that answers 403 itself, or a URL that matches nothing.

    The response passes unchanged. The record names the route (as its object type, "route:"
    and the URL name); only a 403 names the object, by the `key` in its URL, for a user who
    may see it but not do this. A 404 names none: it must not tell whether the object exists.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in REFUSALS and request.user.is_authenticated:
            match = request.resolver_match
            route = f"route:{match.view_name}" if match else "route:"
            key = match.kwargs.get("key") if match and response.status_code == FORBIDDEN else None
            events.record_event(
                "access.denied",
                Action.EXECUTE,
                outcome=Outcome.DENIED,
                object_type=route[:60],
                object_key=str(key) if isinstance(key, uuid.UUID) else None,
            )
        return response
