"""Every named URL pattern of the project, with example arguments, for tests that walk them all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, StringConverter, UUIDConverter


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    converters: dict

    def example_kwargs(self, **known) -> dict:
        kwargs = {}
        for key, converter in self.converters.items():
            if key in known:
                kwargs[key] = known[key]
            elif isinstance(converter, UUIDConverter):
                kwargs[key] = uuid.uuid4()
            elif isinstance(converter, IntConverter):
                kwargs[key] = 1
            elif isinstance(converter, StringConverter):
                kwargs[key] = "x"
            else:
                raise AssertionError(f"no example for converter {converter!r} in {self.name}")
        return kwargs

    def __str__(self) -> str:
        return self.name


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, namespace: str | None, converters: dict) -> None:
        for pattern in patterns:
            found = {**converters, **pattern.pattern.converters}
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace, found)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                routes.append(Route(name=name, converters=found))
            elif isinstance(pattern, URLPattern):
                raise AssertionError(f"URL pattern without a name: {pattern}")

    walk(get_resolver().url_patterns, None, {})
    return routes
