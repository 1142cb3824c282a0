"""What a read asks for: whose rows (the caller's scope), which (the query's filters) and
which page of them (?limit=, ?offset=), and the query's typed parameters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web

from projections.snapshot import distributors
from projections.stores import ChannelStores
from streams.api.context import PRINCIPAL
from streams.auth import Forbidden, Principal
from streams.timeparse import parse_as_of

Rows = list[dict[str, Any]]
T = TypeVar("T")

#: list endpoints answer pages: ?limit= (default, at most) and ?offset= (at most: past any
#: list, and an int the answer can still carry; 2**64 was a 500)
DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET = 1000, 10_000, 2**31 - 1


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def acting(principal: Principal) -> dict[str, Any]:
    """Who takes a lifecycle step and when, as the audit aggregates record it."""
    return {
        "actor_id": principal.actor,
        "role": principal.role.value,
        "actor_distributor_id": principal.distributor_id,
        "at": datetime.now(UTC),
    }


def scope(request: web.Request) -> str | None:
    """The one distributor a read is about: the one asked for (if the caller may read it),
    a distributor token's own; None for all of them (the vendor's roles)."""
    principal = principal_of(request)
    wanted = request.query.get("distributor_id")
    if wanted is not None and not principal.may_read(wanted):
        raise Forbidden(f"{principal.actor} may not read distributor {wanted}")
    return wanted or principal.distributor_id


def scope_of(request: web.Request, current: ChannelStores) -> list[str]:
    """The distributors a read covers: the one asked for (or a distributor token's
    own), else every distributor."""
    wanted = scope(request)
    return [wanted] if wanted is not None else distributors(current)


def visible(request: web.Request, rows: Rows, *filters: str) -> Rows:
    """Rows the caller may see, narrowed by distributor_id and the query filters named."""
    scope(request)  # a distributor_id the caller may not read: 403
    principal = principal_of(request)
    rows = [row for row in rows if principal.may_read(row.get("distributor_id"))]
    return filtered(request, rows, "distributor_id", *filters)


def filtered(request: web.Request, rows: Rows, *filters: str) -> Rows:
    """Rows whose fields equal the query's values of the filters named (those given), each
    field read as the JSON answer writes it (`?in_effect=true` matches a True)."""
    for key in filters:
        value = request.query.get(key)
        if value is not None:
            rows = [row for row in rows if _as_written(row.get(key)) == value]
    return rows


def _as_written(field: Any) -> str:
    if isinstance(field, bool):
        return "true" if field else "false"
    return str(field)


def window(request: web.Request) -> tuple[int, int]:
    """(offset, limit) of the page asked for (?offset=, ?limit=)."""
    limit = integer(request, "limit", DEFAULT_LIMIT, high=MAX_LIMIT)
    offset = integer(request, "offset", 0, low=0, high=MAX_OFFSET)
    return offset, limit


def page(request: web.Request, rows: Rows) -> dict[str, Any]:
    """A page of rows (?limit=, ?offset=) and how many there are in all."""
    offset, limit = window(request)
    return answer(rows[offset : offset + limit], len(rows), offset, limit)


def answer(rows: Rows, total: int, offset: int, limit: int) -> dict[str, Any]:
    return {"rows": rows, "total": total, "limit": limit, "offset": offset}


def integer(
    request: web.Request, name: str, default: int, low: int = 1, high: int | None = 1000
) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < low or (high and int(raw) > high):
        bounds = f"from {low} to {high}" if high else f"of at least {low}"
        raise web.HTTPBadRequest(text=f"{name} must be an integer {bounds}")
    return int(raw)


def as_of(request: web.Request) -> datetime | None:
    return parsed(request, "as_of", lambda raw: parse_as_of(raw, "as_of"))


def parsed(request: web.Request, name: str, parse: Callable[[str], T]) -> T | None:
    """?name= as `parse` reads it (None when not given); what `parse` refuses (a
    ValueError) is a 400 in its words."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return parse(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
