"""Pricing violations: /api/violations (a page), /summary (by severity), /{id} (one, with
its sale), and POST /api/violations/{id}/{acknowledge|dispute|resolve}."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from aiohttp import web

from domain.violation_lifecycle import IllegalTransition, NotAllowed, check_allowed
from projections.pricing_reads import ViolationFilter, severity_summary, violation_page
from projections.stores import ChannelStores
from schemas.answers import ViolationStep
from streams.api.context import SETTINGS, context_of, json_response, statuses
from streams.api.documents import violation_document
from streams.api.http_body import InvalidField, json_body, required_text
from streams.api.query import acting, answer, page, principal_of, scope_of, window
from streams.auth import AuthError, Forbidden


def violation_filter(request: web.Request, current: ChannelStores) -> ViolationFilter:
    query = request.query
    return ViolationFilter(
        tuple(scope_of(request, current)),
        severity=query.get("severity"),
        sku=query.get("sku"),
        status=query.get("status"),
    )


async def violations(request: web.Request) -> web.Response:
    known = await statuses(request)
    offset, limit = window(request)
    found = await context_of(request).exporting(
        lambda current: violation_page(
            current, known, violation_filter(request, current), offset, limit
        )
    )
    return json_response(answer(found.rows, found.total, offset, limit))


async def violation_summary(request: web.Request) -> web.Response:
    known = await statuses(request)
    rows = await context_of(request).exporting(
        lambda current: severity_summary(current, known, violation_filter(request, current))
    )
    return json_response(page(request, rows))


async def violation(request: web.Request) -> web.Response:
    context = context_of(request)
    found = await context.blocking(
        context.audit.violation, violation_id(request.match_info["violation_id"])
    )
    if not principal_of(request).may_read(found.distributor_id):
        raise Forbidden("not your distributor's violation")
    return json_response(violation_document(found))


async def violation_step(request: web.Request) -> web.Response:
    context = context_of(request)
    wanted = violation_id(request.match_info["violation_id"])
    principal = principal_of(request)
    if principal.actor == "anonymous":
        raise AuthError("changing a violation needs a bearer token")
    action = request.match_info["action"]
    # who may, before what is asked: a role not allowed is 403 whatever the body says
    found = await context.blocking(context.audit.violation, wanted)
    check_allowed(principal.role, principal.distributor_id, found.distributor_id, action)
    body = await json_body(request, request.app[SETTINGS].body_timeout_seconds, ViolationStep)
    step: dict[str, Any] = {**acting(principal), "reason": required_text(body, "reason")}
    if action == "resolve":
        step["resolution"] = required_text(body, "resolution")
        step["amount"] = amount(body, "amount")
    try:
        updated = await context.blocking(context.audit.violation_step, wanted, action, **step)
    except (IllegalTransition, NotAllowed):
        raise
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return json_response(violation_document(updated))


def violation_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise web.HTTPNotFound(text=f"no violation {text!r} (not a UUID)") from None


def amount(body: dict[str, Any], field: str) -> Decimal | None:
    """A decimal field of a body (a string: the body's model says so), if given."""
    raw = body.get(field)
    if raw is None:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise InvalidField(field, f'{raw!r} is not a decimal such as "125.00"') from None
