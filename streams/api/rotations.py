"""Stock rotation requests: /api/rotations (every request as decided, a distributor token
its own) and /api/rotations/{distributor_id}/{request_id} (one)."""

from __future__ import annotations

from aiohttp import web

from projections.rotation_reads import rotation_of, rotation_rows
from streams.api.context import context_of, json_response
from streams.api.query import filtered, page, principal_of, scope
from streams.auth import Forbidden


async def rotations(request: web.Request) -> web.Response:
    """In a thread: the requests are a history store (a row per request ever made)."""
    wanted = scope(request)
    rows = await context_of(request).exporting(lambda current: rotation_rows(current, wanted))
    return json_response(page(request, filtered(request, rows, "status")))


async def rotation(request: web.Request) -> web.Response:
    distributor, request_id = request.match_info["distributor_id"], request.match_info["request_id"]
    principal = principal_of(request)
    if not principal.may_read(distributor):
        raise Forbidden(f"{principal.actor} may not read distributor {distributor}")
    found = rotation_of(context_of(request).stores(), distributor, request_id)
    if found is None:
        raise web.HTTPNotFound(text=f"no rotation request {request_id!r} of {distributor}")
    return json_response(found)
