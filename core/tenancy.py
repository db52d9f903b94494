"""The tenant scope: which environment's rows the current code may touch.

Tenant-owned models use `TenantScopedManager` as their default manager. It refuses to build a
queryset unless a scope is active (fail closed, like pretix's django-scopes) and filters every
query to the active tenant. Requests get their scope from `TenantScopeMiddleware`; management
commands, Celery tasks and tests open one explicitly with `tenant_scope(tenant)` or, for
cross-tenant maintenance only, `all_tenants()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import models


class ScopeError(RuntimeError):
    """A tenant-owned model was queried without an active tenant scope."""


_ALL_TENANTS = object()
_M = TypeVar("_M", bound=models.Model)
_current: ContextVar[Any] = ContextVar("verzuim_tenant_scope", default=None)


@contextmanager
def tenant_scope(tenant: Any) -> Iterator[None]:
    """Limit tenant-owned queries to one tenant (an instance or its primary key)."""
    tenant_id = getattr(tenant, "pk", tenant)
    if tenant_id is None:
        raise ScopeError("A tenant scope needs a saved tenant.")
    token = _current.set(tenant_id)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def all_tenants() -> Iterator[None]:
    """Lift the scope for maintenance that spans tenants (migrations of data, key rotation)."""
    token = _current.set(_ALL_TENANTS)
    try:
        yield
    finally:
        _current.reset(token)


def current_tenant_id() -> Any:
    """The active tenant's primary key.

    Raises ScopeError outside a scope, and inside all_tenants() (there is no single tenant then).
    """
    value = _current.get()
    if value is None or value is _ALL_TENANTS:
        raise ScopeError("No single tenant scope is active.")
    return value


class TenantScopedManager(models.Manager[_M]):
    """Default manager of tenant-owned models: no scope, no query."""

    def get_queryset(self) -> models.QuerySet[_M]:
        scope = _current.get()
        if scope is None:
            raise ScopeError(
                f"{self.model.__name__} was queried without a tenant scope; use a selector, "
                "tenant_scope() or all_tenants()."
            )
        queryset = super().get_queryset()
        if scope is _ALL_TENANTS:
            return queryset
        return queryset.filter(tenant_id=scope)
