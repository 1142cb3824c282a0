"""Rebates: /api/rebates (accruals), /watchlist (those near the next tier), and the
admin's steps: closing a program's period, approving and paying a statement."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from aiohttp import web

from domain.permissions import Permission, allows
from domain.rebate_statement import IllegalTransition as RebateIllegalTransition
from domain.timeutil import iso_z
from projections.channel import close_refusal
from projections.program_reads import is_known
from projections.rebate_accruals import AccrualQuery, watchlist
from projections.snapshot import rebate_page, rebate_rows
from schemas.answers import Payment
from streams.api.context import SETTINGS, context_of, json_error, json_response
from streams.api.documents import statement_document
from streams.api.http_body import json_body, required_text
from streams.api.query import answer, page, principal_of, scope, window
from streams.auth import AuthError, Forbidden, Principal
from streams.kafka.messages import message_of
from streams.runners.rebate_closing import close_event


async def rebates(request: web.Request) -> web.Response:
    wanted = accrual_query(request, request.query.get("status"))
    offset, limit = window(request)
    rows, total = await context_of(request).exporting(
        lambda current: rebate_page(current, wanted, (offset, limit))
    )
    return json_response(answer(rows, total, offset, limit))


async def rebate_watchlist(request: web.Request) -> web.Response:
    try:
        share = Decimal(request.query.get("share", "0.10"))
    except InvalidOperation:
        raise web.HTTPBadRequest(text="share must be a decimal such as 0.10") from None
    if not 0 < share <= 1:
        raise web.HTTPBadRequest(text="share must be above 0 and at most 1")
    wanted = accrual_query(request, "open")  # the watchlist's rows are open ones
    accruals = await context_of(request).exporting(lambda current: rebate_rows(current, wanted))
    return json_response({"share": str(share), **page(request, watchlist(accruals, share))})


def accrual_query(request: web.Request, status: str | None) -> AccrualQuery:
    """The accruals a read covers: the caller's distributor (`scope`), the query's program
    and period, and `status`; judged on their keys before a figure is read."""
    return AccrualQuery(
        request.query.get("program_id"), scope(request), request.query.get("period"), status
    )


async def close_period(request: web.Request) -> web.Response:
    context = context_of(request)
    principal = admin(request)
    program_id, period = request.match_info["program_id"], request.match_info["period"]
    if not is_known(context.stores(), program_id):
        raise web.HTTPNotFound(text=f"no rebate program {program_id!r}")
    try:
        event = close_event(program_id, period, datetime.now(UTC), principal.actor)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    refusal = close_refusal(context.stores(), event)  # what the worker would dead-letter
    if refusal is not None:
        raise web.HTTPBadRequest(text=refusal[1])
    await context.submit([message_of(event)])
    return json_response(
        {
            "program_id": program_id,
            "period": period,
            "closed_by": principal.actor,
            "closed_at": iso_z(event.closed_at),
        },
        202,
    )


async def statement(request: web.Request) -> web.Response:
    context = context_of(request)
    key = statement_key(request)
    if not principal_of(request).may_read(key[1]):
        raise Forbidden("not your distributor's statement")
    found = await context.blocking(context.audit.rebate_statement, *key)
    return json_response(statement_document(found))


async def statement_step(request: web.Request) -> web.Response:
    context = context_of(request)
    principal = admin(request)
    key = statement_key(request)
    body = await json_body(request, request.app[SETTINGS].body_timeout_seconds, Payment)
    action = request.match_info["action"]
    reference = required_text(body, "reference") if action == "pay" else ""
    try:
        updated = await context.blocking(
            context.audit.statement_step,
            key,
            action,
            principal.actor,
            datetime.now(UTC),
            reference,
        )
    except RebateIllegalTransition as exc:
        return json_error(409, "conflict", str(exc))
    return json_response(statement_document(updated))


def admin(request: web.Request) -> Principal:
    principal = principal_of(request)
    if principal.actor == "anonymous":
        raise AuthError("this needs a bearer token")
    if not allows(principal.role, Permission.ADMINISTER):
        raise Forbidden(f"only the admin role may do this ({principal.actor} is {principal.role})")
    return principal


def statement_key(request: web.Request) -> tuple[str, str, str]:
    info = request.match_info
    return info["program_id"], info["distributor_id"], info["period"]
