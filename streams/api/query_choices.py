"""Query parameters whose values the OpenAPI document lists (`enum`) are checked against
that list before the handler runs: a value outside it is a 400 naming the choices, where a
typo (`?severity=hi`) would otherwise match no row and answer an empty 200."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from streams.api.errors import Handler

#: (method, path as the OpenAPI document writes it) -> {parameter: its values}
Choices = dict[tuple[str, str], dict[str, list[str]]]


def query_choices(paths: Mapping[str, Mapping[str, Any]]) -> Choices:
    """The query parameters with an `enum` of every operation of an OpenAPI `paths`."""
    found: Choices = {}
    for route, operations in paths.items():
        for method, operation in operations.items():
            listed = {
                parameter["name"]: [str(value) for value in parameter["schema"]["enum"]]
                for parameter in operation.get("parameters", ())
                if parameter["in"] == "query" and "enum" in parameter.get("schema", {})
            }
            if listed:
                found[(method.upper(), route)] = listed
    return found


def checked_choices(choices: Choices) -> Any:
    """A middleware answering 400 to a query value not among its parameter's choices."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        listed = choices.get((request.method, resource.canonical)) if resource else None
        for name, values in (listed or {}).items():
            given = request.query.get(name)
            if given is not None and given not in values:
                raise web.HTTPBadRequest(text=f"{name} must be one of {', '.join(values)}")
        return await handler(request)

    return check
