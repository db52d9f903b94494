"""Reads of the organisation that other layers reuse: which departments are still open."""

from __future__ import annotations

from django.db.models import QuerySet

from domains.models import Department, Employer, Tenant


def open_departments(tenant: Tenant | int) -> QuerySet[Department]:
    """The tenant's departments that are not closed: what forms offer. Closed departments stay
    in the database (and on employees and role scopes that name them) for history."""
    tenant_id = tenant.pk if isinstance(tenant, Tenant) else tenant
    return Department.objects.filter(tenant_id=tenant_id, closed_on__isnull=True).select_related(
        "employer"
    )


def employer_departments(employer: Employer) -> QuerySet[Department]:
    """All departments of one employer, open and closed, in tree order of their paths."""
    return Department.objects.filter(employer=employer).select_related("parent")
