"""core.overlap: the next item is prepared in a worker thread, in order, in the caller's
context, and never with the database."""

from __future__ import annotations

import threading
from contextvars import ContextVar

import pytest
from django.utils import translation

from core.overlap import QueryInWorker, overlapped
from core.tenancy import current_tenant_id, tenant_scope
from employees.models import Employee

pytestmark = pytest.mark.django_db

marker: ContextVar[str] = ContextVar("marker", default="unset")


def test_every_item_is_prepared_once_and_handed_back_in_order():
    assert list(overlapped(range(50), lambda n: n * n)) == [n * n for n in range(50)]
    assert list(overlapped([], lambda n: n)) == []


def test_the_next_item_is_prepared_while_the_caller_handles_one():
    """The caller holds result 0 until the worker has begun on item 1: they overlap."""
    second_started = threading.Event()

    def prepare(n: int) -> int:
        if n == 1:
            second_started.set()
        return n

    for n in overlapped([0, 1], prepare):
        if n == 0:
            assert second_started.wait(timeout=10)


def test_preparing_runs_in_a_worker_thread_with_the_callers_context_and_language():
    seen = []
    marker.set("from the caller")
    with translation.override("en"):
        for result in overlapped(
            [1],
            lambda _n: (
                threading.current_thread() is threading.main_thread(),
                marker.get(),
                translation.get_language(),
            ),
        ):
            seen.append(result)
    assert seen == [(False, "from the caller", "en")]


def test_a_query_in_the_worker_is_refused_and_raised_to_the_caller(world):
    """Another thread's connection is outside the caller's transaction: it must not be used."""
    with tenant_scope(world.tenant.pk):
        assert current_tenant_id() == world.tenant.pk
        with pytest.raises(QueryInWorker):
            list(overlapped([1], lambda _n: Employee.objects.count()))


def test_an_error_in_preparing_stops_the_caller_at_that_item():
    def prepare(n: int) -> int:
        if n == 3:
            raise ValueError("row 3")
        return n

    handled = []
    with pytest.raises(ValueError, match="row 3"):
        for n in overlapped(range(10), prepare):
            handled.append(n)
    assert handled == [0, 1, 2]
