"""Stock rotation requests: /api/rotations (every request as decided, a distributor token
its own), /api/rotations/{distributor_id}/{request_id} (one), and
POST .../cancel (a distributor cancels its own accepted rotation, admin anyone's)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiohttp import web
from pydantic import ValidationError

from domain.lifecycle_steps import check_role_may
from domain.permissions import Permission
from domain.timeutil import iso_z
from projections.rotation_cancels import cancel_problem
from projections.rotation_reads import rotation_of, rotation_rows
from projections.rotation_state import record_key
from schemas.agreements import StockRotationCancelled
from schemas.answers import RotationCancel
from streams.api.context import SETTINGS, context_of, json_error, json_response
from streams.api.http_body import json_body, required_text
from streams.api.query import filtered, page, principal_of, scope
from streams.auth import AuthError, Forbidden
from streams.kafka.messages import message_of


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


async def cancel(request: web.Request) -> web.Response:
    """Publish a `StockRotationCancelled` naming the token's actor and role; what the
    worker holds refuses early what the projection would dead-letter (409)."""
    context = context_of(request)
    distributor, request_id = request.match_info["distributor_id"], request.match_info["request_id"]
    principal = principal_of(request)
    if principal.actor == "anonymous":
        raise AuthError("cancelling a rotation needs a bearer token")
    may = (Permission.ADMINISTER, Permission.SUBMIT)
    try:
        check_role_may(
            principal.role, principal.distributor_id, distributor, may, "cancel a rotation",
            PermissionError,
        )  # fmt: skip
    except PermissionError as exc:
        raise Forbidden(str(exc)) from None
    body = await json_body(request, request.app[SETTINGS].body_timeout_seconds, RotationCancel)
    now = datetime.now(UTC)
    fields = {
        "event_id": uuid.uuid4(), "occurred_at": now, "source": "api", "request_id": request_id,
        "distributor_id": distributor, "cancelled_at": now, "cancelled_by": principal.actor,
        "role": principal.role.value, "reason": required_text(body, "reason").strip(),
    }  # fmt: skip
    try:
        event = StockRotationCancelled.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise web.HTTPBadRequest(text=problems) from None
    record = context.stores().rotations.get(record_key(distributor, request_id))
    if record is None:
        raise web.HTTPNotFound(text=f"no rotation request {request_id!r} of {distributor}")
    problem = cancel_problem(record, event)
    if problem is not None:
        return json_error(409, problem[0], problem[1])
    await context.submit([message_of(event)])
    answer = {"distributor_id": distributor, "request_id": request_id,
              "cancelled_by": principal.actor, "cancelled_at": iso_z(now)}  # fmt: skip
    return json_response(answer, 202)
