"""Project-wide views: the dashboard and the health check."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.events import record_read
from auth2fa.http import AuthenticatedRequest
from cases.selectors import worklist_for
from core.gate import public
from domains.permissions import Perm
from domains.visibility import access_of
from employees.selectors import visible_employee_counts
from reports.selectors import headline_figures


def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """Start page: figures only, no names, counted through the visibility rules: head counts,
    the user's own absence figures (this month, the last twelve months) and work-list count."""
    user = request.user
    per_employer = visible_employee_counts(user)
    permissions = access_of(user).permissions
    headline = headline_figures(user, timezone.localdate())
    worklist_count = worklist_for(user).count() if Perm.CASE_VIEW in permissions else None
    record_read("dashboard.view", result_count=sum(row["total"] for row in per_employer))
    return render(
        request,
        "dashboard.html",
        {
            "employee_count": sum(row["total"] for row in per_employer),
            "active_employee_count": sum(row["employed"] for row in per_employer),
            "employers": per_employer,
            "headline": headline,
            "worklist_count": worklist_count,
        },
    )


@public
@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """For the container health checks: is the database reachable, and Redis when configured."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = "error"
    if settings.REDIS_URL:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except redis.RedisError:
            checks["redis"] = "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )
