"""Reads of retention settings and results, scoped to a tenant or to a user's visibility."""

from __future__ import annotations

from typing import Any

from retention.models import DEFAULT_TERMS, Category, RetentionTerm, Term


def terms_of(tenant: Any) -> dict[str, Term]:
    """Every category's term for the tenant: its own where saved, the legal default otherwise."""
    terms = dict(DEFAULT_TERMS)
    for row in RetentionTerm.objects.filter(tenant_id=getattr(tenant, "pk", tenant)):
        terms[row.category] = row.term
    return {category: terms[category] for category in Category.values}
