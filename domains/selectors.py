"""Reads of the organisation structure, scoped to the requesting user."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from auth2fa.models import User
from domains.models import Employer


def employers_visible_to(user: User) -> QuerySet[Employer]:
    """Employers the user may see, with their employee counts (one query)."""
    if not user.is_authenticated or not user.is_active:
        return Employer.unscoped.none()
    return Employer.objects.filter(tenant_id=user.tenant_id).annotate(
        employee_count=Count("employees")
    )
