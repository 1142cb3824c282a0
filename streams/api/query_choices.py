"""The query parameters of a request are checked against the OpenAPI document before the
handler runs, so that a request the API does not understand is refused, not answered as if
it had been asked something else:

- a parameter the operation does not take (`?distributor=D02` where it reads
  `distributor_id`) is a 400 naming it and the parameters the operation takes, where it
  would otherwise be ignored and the answer cover every distributor;
- a value outside the parameter's listed values (`enum`) is a 400 naming the choices, where a
  typo (`?severity=hi`) would otherwise match no row and answer an empty 200;
- a value not of the parameter's form (its `pattern`: `?period=2026-Q5`) is a 400 with the
  parameter's description, for the same reason;
- a parameter given empty (`?distributor_id=`) is a 400 naming it: no value of any parameter
  is empty, and the handlers read an empty one as one not given (a vendor's read of
  `?distributor_id=` answered the whole channel), where the caller meant a value.

The document is the one list: a parameter a caller needs is documented there, never let
through here. The dashboard's page and assets (tag `dashboard`) are left alone: a browser may
put anything on a page's address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from streams.api.context import json_error
from streams.api.errors import Handler


@dataclass(frozen=True)
class Parameters:
    """One operation's query parameters: every name, in the document's order, the values
    of those whose values it lists, and the form and description of those with a pattern."""

    names: tuple[str, ...]
    choices: dict[str, list[str]]
    forms: dict[str, tuple[re.Pattern[str], str]]


#: (method, path as the OpenAPI document writes it) -> its query parameters
Operations = dict[tuple[str, str], Parameters]


def query_parameters(paths: Mapping[str, Mapping[str, Any]]) -> Operations:
    """The query parameters of every operation of an OpenAPI `paths` but the dashboard's."""
    found: Operations = {}
    for route, operations in paths.items():
        for method, operation in operations.items():
            if "dashboard" in operation.get("tags", ()):
                continue
            query = [p for p in operation.get("parameters", ()) if p["in"] == "query"]
            choices = {
                p["name"]: [str(value) for value in p["schema"]["enum"]]
                for p in query
                if "enum" in p.get("schema", {})
            }
            forms = {
                p["name"]: (re.compile(p["schema"]["pattern"]), p["description"])
                for p in query
                if "pattern" in p.get("schema", {})
            }
            found[(method.upper(), route)] = Parameters(
                tuple(p["name"] for p in query), choices, forms
            )
    return found


def checked_query(operations: Operations) -> Any:
    """A middleware answering 400 to a query parameter its operation does not take, given
    empty, or to a value not among its parameter's choices or not of its form."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        method = "GET" if request.method == "HEAD" else request.method
        route = resource.canonical if resource else ""
        taken = operations.get((method, route))
        if taken is not None:
            unknown = sorted(set(request.query) - set(taken.names))
            if unknown:
                return unknown_parameters(f"{method} {route}", unknown, taken)
            empty = sorted({name for name, value in request.query.items() if not value})
            if empty:
                raise web.HTTPBadRequest(
                    text=f"{', '.join(empty)} given empty: give a value, or leave it out"
                )
            for name, values in taken.choices.items():
                given = request.query.get(name)
                if given is not None and given not in values:
                    raise web.HTTPBadRequest(text=f"{name} must be one of {', '.join(values)}")
            for name, (form, description) in taken.forms.items():
                given = request.query.get(name)
                if given is not None and form.fullmatch(given) is None:
                    raise web.HTTPBadRequest(
                        text=f"{name} {given!r} is not of its form ({description})"
                    )
        return await handler(request)

    return check


def unknown_parameters(operation: str, unknown: list[str], taken: Parameters) -> web.Response:
    """The 400 naming the parameters not taken, and those taken (`unknown`, `parameters`)."""
    named = ", ".join(unknown)
    takes = f"takes {', '.join(taken.names)}" if taken.names else "takes no query parameters"
    plural = "s" if len(unknown) > 1 else ""
    return json_error(
        400,
        "bad_request",
        f"unknown query parameter{plural} {named}: {operation} {takes}",
        unknown=unknown,
        parameters=list(taken.names),
    )
