"""Preparing the next batch of a bulk write while the database stores this one.

A bulk write alternates between Python work (checking rows, formatting them for COPY) and
waiting for PostgreSQL to store them. On a machine with two cores the two can overlap: while the
connection waits (psycopg releases the GIL), a worker thread prepares the next batch. At 100,000
imported employees that hid most of the checking behind the writing (bench/imports.py).

The worker must not touch the database: Django gives each thread a connection of its own,
outside the caller's transaction (it would neither see the rows written so far nor hold their
locks), so every query there is refused, and a prepare step that needs the database is a bug
that fails loudly rather than reading the wrong data.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any, TypeVar

from django.db import connections
from django.utils import translation

Item = TypeVar("Item")
Result = TypeVar("Result")


class QueryInWorker(RuntimeError):
    """A prepare step ran a database query (see the module's docstring)."""


def _refuse_query(*_args: Any) -> None:
    raise QueryInWorker("A prepare step must not query the database (core/overlap.py).")


def _in_worker(prepare: Callable[[Item], Result], item: Item, language: str | None) -> Result:
    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(_refuse_query))
        stack.enter_context(translation.override(language))
        try:
            return prepare(item)
        finally:
            connections.close_all()  # none should have been opened; never leave one behind


def overlapped(items: Iterable[Item], prepare: Callable[[Item], Result]) -> Iterator[Result]:
    """`prepare(item)` for every item, in order, each prepared in one worker thread while the
    caller handles the result before it (and while `items` reads the next item, which may
    query the database: it runs in the caller's thread).

    `prepare` runs in a copy of the caller's context (contextvars: the tenant scope, a pinned
    data key) with the caller's language active, one item at a time, so it may keep state from
    one item to the next. An exception in it is raised here, in the caller's thread."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="overlap") as pool:
        pending: Future[Result] | None = None
        try:
            for item in items:
                future = pool.submit(
                    contextvars.copy_context().run,
                    _in_worker, prepare, item, translation.get_language(),
                )  # fmt: skip
                if pending is not None:
                    yield pending.result()
                pending = future
            if pending is not None:
                yield pending.result()
        finally:
            pool.shutdown(cancel_futures=True)
