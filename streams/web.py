"""The HTTP API (JSON), a small HTML overview and /metrics, for worker and demo alike.

Endpoints (GET unless noted; JSON unless noted). Reads take `Authorization: Bearer`;
a distributor token sees only its own distributor's rows (another one's: 403).

  /health                            liveness and the running mode (no token needed)
  /metrics                           Prometheus text format (no token needed)
  /api/snapshot[?as_of=DATE]         the full projection snapshot (DESIGN.md format)
  /api/inventory                     channel inventory rows; filters: distributor_id, sku
  /api/inventory/summary             per distributor: stock, value, top SKUs (n=5)
  /api/sell-through                  sell-in vs sell-through per distributor and period;
                                     granularity=week|month|quarter, distributor_id, sku;
                                     scope=channel for channel-wide totals
  /api/quality                       data quality per distributor
  /api/dead-letters                  dead-letter counts by reason
  /api/products                      the product catalog
  /api/violations                    pricing violations; filters: distributor_id,
                                     severity, status
  /api/violations/{id}               one violation with its lifecycle steps
  POST /api/violations/{id}/{action} acknowledge | dispute | resolve; JSON body
                                     {"reason": ..., "resolution": ..., "amount": "..."}
  /api/rebates                       accruals per program, distributor and period; filters:
                                     program_id, distributor_id, period, status
  /api/rebates/watchlist?share=0.10  open accruals within that share of the next tier
  POST /api/rebates/{program}/{period}/close            close a period (admin)
  /api/rebates/statements/{program}/{distributor}/{period}   a statement, its
                                     adjustments and approval state
  POST /api/rebates/statements/{program}/{distributor}/{period}/approve|pay (admin);
                                     pay takes {"reference": "..."}
  /api/prices                        price history; filters: sku, distributor_id;
                                     arrived_late=true marks prices applied from arrival
  /api/unpriced                      sale lines with no price in effect
  /api/price-protection              price-protection claims
  /                                  HTML overview of channel inventory

Errors: {"error": {"status": 409, "code": "conflict", "message": "..."}}.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast, get_args
from uuid import UUID

import orjson
from aiohttp import web
from eventsourcing.application import AggregateNotFoundError

from domain.rebate_audit import IllegalTransition as RebateIllegalTransition
from domain.roles import Role
from domain.timeutil import iso_z
from domain.violation import IllegalTransition, NotAllowed
from infra.eventstore import AuditLog
from projections.periods import (
    Granularity,
    channel_totals,
    inventory_by_distributor,
    sell_in_vs_through,
)
from projections.rebate_accruals import watchlist
from projections.snapshot import (
    Snapshot,
    StatusLookup,
    build_snapshot,
    claim_rows,
    dead_letter_rows,
    inventory_rows,
    latest_business_time,
    price_rows,
    product_rows,
    protection_claims,
    quality_rows,
    rebate_rows,
    unpriced_rows,
    violation_rows_of,
)
from projections.stores import ChannelStores
from schemas.events import Envelope
from streams import metrics
from streams.auth import AuthError, Forbidden, Principal, TokenRegistry
from streams.rebate_closing import close_event
from streams.timeparse import TimeParseError, parse_as_of

StoresProvider = Callable[[], ChannelStores]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Rows = list[dict[str, Any]]

PRINCIPAL = web.RequestKey("principal", Principal)
OPEN_PATHS = frozenset({"/health", "/metrics", "/"})


@dataclass(frozen=True)
class ApiContext:
    stores: StoresProvider
    mode: str
    audit: AuditLog
    tokens: TokenRegistry
    #: publishes a command's event (e.g. a period close) where the runner takes input
    submit: Callable[[Envelope], Awaitable[None]]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_INDENT_2),
        status=status,
        content_type="application/json",
    )


def json_error(status: int, code: str, message: str) -> web.Response:
    return json_response({"error": {"status": status, "code": code, "message": message}}, status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON, never as an HTML page or a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
    except AuthError as exc:
        return json_error(401, "unauthorized", str(exc))
    except (Forbidden, NotAllowed) as exc:
        return json_error(403, "forbidden", str(exc))
    except AggregateNotFoundError:
        return json_error(404, "not_found", f"nothing recorded under {request.path}")
    except IllegalTransition as exc:
        return json_error(409, "conflict", str(exc))
    except Exception:
        request.app.logger.exception("unhandled error on %s", request.path)
        return json_error(500, "internal_error", "internal error; see the server log")


def _principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def _visible(request: web.Request, rows: Rows, *filters: str) -> Rows:
    """Rows the caller may see, narrowed by distributor_id and the query filters named."""
    principal = _principal(request)
    wanted = request.query.get("distributor_id")
    if wanted is not None and not principal.may_read(wanted):
        raise Forbidden(f"{principal.actor} may not read distributor {wanted}")
    rows = [row for row in rows if principal.may_read(row.get("distributor_id"))]
    for key in ("distributor_id", *filters):
        value = request.query.get(key)
        if value is not None:
            rows = [row for row in rows if str(row.get(key)) == value]
    return rows


def _visible_snapshot(request: web.Request, snapshot: Snapshot) -> Snapshot:
    principal = _principal(request)
    if principal.may_read(None):
        return snapshot
    return {
        key: [
            row
            for row in rows
            if "distributor_id" in row and principal.may_read(row["distributor_id"])
        ]
        for key, rows in snapshot.items()
    }


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) <= 1000:
        raise web.HTTPBadRequest(text=f"{name} must be an integer from 1 to 1000")
    return int(raw)


def _as_of(request: web.Request) -> datetime | None:
    raw = request.query.get("as_of")
    if raw is None:
        return None
    try:
        return parse_as_of(raw)
    except TimeParseError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise web.HTTPNotFound(text=f"no violation {text!r} (not a UUID)") from None


def make_web_app(context: ApiContext) -> web.Application:
    stores, audit = context.stores, context.audit

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in OPEN_PATHS:
            request[PRINCIPAL] = context.tokens.authenticate(request.headers.get("Authorization"))
        return await handler(request)

    async def blocking(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Event-store calls block (psycopg): keep them off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: function(*args, **kwargs))

    async def health(_: web.Request) -> web.Response:
        return json_response({"status": "ok", "mode": context.mode})

    async def statuses(current: ChannelStores) -> StatusLookup:
        """Violation statuses from the event store, fetched off the event loop.

        The stores themselves are read on the loop only: the agent changes them there.
        """
        ids = [f.violation_id for f in current.flagged.values() if f.kind == "violation"]
        found = await blocking(lambda: {i: audit.violation_status(i) for i in ids})
        return lambda violation_id: found.get(violation_id, ("detected", None))

    async def snapshot(request: web.Request) -> web.Response:
        current = stores()
        document = build_snapshot(current, _as_of(request), await statuses(current))
        return json_response(_visible_snapshot(request, document))

    async def inventory(request: web.Request) -> web.Response:
        current = stores()
        rows = inventory_rows(current, _as_of(request) or latest_business_time(current))
        return json_response({"rows": _visible(request, rows, "sku")})

    async def inventory_summary(request: web.Request) -> web.Response:
        current = stores()
        rows = _visible(
            request, inventory_rows(current, _as_of(request) or latest_business_time(current))
        )
        return json_response({"rows": inventory_by_distributor(rows, _int(request, "n", 5))})

    async def sell_through(request: web.Request) -> web.Response:
        raw = request.query.get("granularity", "week")
        if raw not in get_args(Granularity):
            choices = ", ".join(get_args(Granularity))
            raise web.HTTPBadRequest(text=f"granularity must be one of {choices}")
        granularity = cast(Granularity, raw)
        states = stores().inventory.values()
        if request.query.get("scope") == "channel":
            if not _principal(request).may_read(None):
                raise Forbidden("channel-wide totals are for the vendor's roles")
            rows = channel_totals(states, granularity, sku=request.query.get("sku"))
        else:
            distributor, sku = request.query.get("distributor_id"), request.query.get("sku")
            rows = _visible(request, sell_in_vs_through(states, granularity, distributor, sku))
        return json_response({"granularity": granularity, "rows": rows})

    async def quality(request: web.Request) -> web.Response:
        return json_response({"rows": _visible(request, quality_rows(stores()))})

    async def dead_letters(request: web.Request) -> web.Response:
        if not _principal(request).may_read(None):
            raise Forbidden("dead-letter counts are for the vendor's roles")
        return json_response({"rows": dead_letter_rows(stores())})

    async def products(_: web.Request) -> web.Response:
        return json_response({"rows": product_rows(stores())})

    async def violations(request: web.Request) -> web.Response:
        current = stores()
        rows = violation_rows_of(current, await statuses(current))
        return json_response({"rows": _visible(request, rows, "severity", "status")})

    async def violation(request: web.Request) -> web.Response:
        found = await blocking(audit.violation, _uuid(request.match_info["violation_id"]))
        if not _principal(request).may_read(found.distributor_id):
            raise Forbidden("not your distributor's violation")
        return json_response(violation_document(found))

    async def violation_step(request: web.Request) -> web.Response:
        violation_id = _uuid(request.match_info["violation_id"])
        body = await _json_body(request)
        principal = _principal(request)
        if principal.actor == "anonymous":
            raise AuthError("changing a violation needs a bearer token")
        step: dict[str, Any] = {
            "actor_id": principal.actor,
            "role": principal.role.value,
            "actor_distributor_id": principal.distributor_id,
            "at": datetime.now(UTC),
            "reason": _required_text(body, "reason"),
        }
        action = request.match_info["action"]
        if action == "resolve":
            step["resolution"] = _required_text(body, "resolution")
            step["amount"] = _amount(body.get("amount"))
        try:
            updated = await blocking(audit.violation_step, violation_id, action, **step)
        except (IllegalTransition, NotAllowed):
            raise
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return json_response(violation_document(updated))

    async def rebates(request: web.Request) -> web.Response:
        rows = rebate_rows(stores())
        return json_response({"rows": _visible(request, rows, "program_id", "period", "status")})

    async def rebate_watchlist(request: web.Request) -> web.Response:
        try:
            share = Decimal(request.query.get("share", "0.10"))
        except InvalidOperation:
            raise web.HTTPBadRequest(text="share must be a decimal such as 0.10") from None
        if not 0 < share <= 1:
            raise web.HTTPBadRequest(text="share must be above 0 and at most 1")
        return json_response(
            {
                "share": str(share),
                "rows": watchlist(_visible(request, rebate_rows(stores())), share),
            }
        )

    async def close_period(request: web.Request) -> web.Response:
        principal = _admin(request)
        program_id, period = request.match_info["program_id"], request.match_info["period"]
        if stores().programs.get(program_id) is None:
            raise web.HTTPNotFound(text=f"no rebate program {program_id!r}")
        try:
            event = close_event(program_id, period, datetime.now(UTC), principal.actor)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        await context.submit(event)
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
        key = _statement_key(request)
        if not _principal(request).may_read(key[1]):
            raise Forbidden("not your distributor's statement")
        found = await blocking(audit.rebate_statement, *key)
        return json_response(statement_document(found))

    async def statement_step(request: web.Request) -> web.Response:
        principal = _admin(request)
        key = _statement_key(request)
        body = await _json_body(request)
        action = request.match_info["action"]
        reference = _required_text(body, "reference") if action == "pay" else ""
        try:
            updated = await blocking(
                audit.statement_step, key, action, principal.actor, datetime.now(UTC), reference
            )
        except RebateIllegalTransition as exc:
            return json_error(409, "conflict", str(exc))
        return json_response(statement_document(updated))

    async def prices(request: web.Request) -> web.Response:
        rows = price_rows(stores())
        principal = _principal(request)
        rows = [
            r
            for r in rows
            if r["distributor_id"] is None or principal.may_read(r["distributor_id"])
        ]
        for key in ("sku", "distributor_id"):
            if key in request.query:
                rows = [r for r in rows if r[key] == request.query[key]]
        return json_response({"rows": rows})

    async def unpriced(request: web.Request) -> web.Response:
        return json_response({"rows": _visible(request, unpriced_rows(stores()), "sku")})

    async def price_protection(request: web.Request) -> web.Response:
        current = stores()
        rows = claim_rows(
            protection_claims(current, _as_of(request) or latest_business_time(current))
        )
        return json_response({"rows": _visible(request, rows, "sku")})

    async def prometheus(_: web.Request) -> web.Response:
        metrics.observe_projections(stores())
        return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")

    async def index(_: web.Request) -> web.Response:
        current = stores()
        return web.Response(
            text=render_overview(
                inventory_rows(current, latest_business_time(current)), context.mode
            ),
            content_type="text/html",
        )

    app = web.Application(middlewares=[json_errors, authenticate])
    for path, handler in (
        ("/", index),
        ("/health", health),
        ("/metrics", prometheus),
        ("/api/snapshot", snapshot),
        ("/api/inventory", inventory),
        ("/api/inventory/summary", inventory_summary),
        ("/api/sell-through", sell_through),
        ("/api/quality", quality),
        ("/api/dead-letters", dead_letters),
        ("/api/products", products),
        ("/api/violations", violations),
        ("/api/violations/{violation_id}", violation),
        ("/api/rebates", rebates),
        ("/api/rebates/watchlist", rebate_watchlist),
        ("/api/rebates/statements/{program_id}/{distributor_id}/{period}", statement),
        ("/api/prices", prices),
        ("/api/unpriced", unpriced),
        ("/api/price-protection", price_protection),
    ):
        app.router.add_get(path, handler)
    app.router.add_post(
        "/api/violations/{violation_id}/{action:acknowledge|dispute|resolve}", violation_step
    )
    app.router.add_post("/api/rebates/{program_id}/{period}/close", close_period)
    app.router.add_post(
        "/api/rebates/statements/{program_id}/{distributor_id}/{period}/{action:approve|pay}",
        statement_step,
    )
    return app


def _admin(request: web.Request) -> Principal:
    principal = _principal(request)
    if principal.actor == "anonymous":
        raise AuthError("this needs a bearer token")
    if principal.role is not Role.ADMIN:
        raise Forbidden(f"only the admin role may do this ({principal.actor} is {principal.role})")
    return principal


def _statement_key(request: web.Request) -> tuple[str, str, str]:
    info = request.match_info
    return info["program_id"], info["distributor_id"], info["period"]


def statement_document(found: Any) -> dict[str, Any]:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    def when(moment: datetime | None) -> str | None:
        return None if moment is None else iso_z(moment)

    return {
        "program_id": found.program_id,
        "distributor_id": found.distributor_id,
        "period": found.period,
        "volume": text(found.volume),
        "revenue": text(found.revenue),
        "tier_rate": text(found.tier_rate),
        "rebate": text(found.rebate),
        "commitment_shortfall": text(found.commitment_shortfall),
        "event_count": found.event_count,
        "digest": found.digest,
        "calculated_at": when(found.calculated_at),
        "calculated_by": found.calculated_by,
        "adjustments": [
            {
                "event_id": a.event_id,
                "reason": a.reason,
                "amount": text(a.amount),
                "rebate": text(a.rebate),
                "at": when(a.at),
            }
            for a in found.adjustments
        ],
        "total": text(found.total),
        "status": found.status,
        "approved_by": found.approved_by,
        "payment_reference": found.payment_reference,
        "paid_by": found.paid_by,
    }


def violation_document(found: Any) -> dict[str, Any]:
    return {
        "violation_id": str(found.id),
        "distributor_id": found.distributor_id,
        "transaction_id": found.transaction_id,
        "reseller_id": found.reseller_id,
        "sku": found.sku,
        "sold_at": iso_z(found.sold_at),
        "unit_price": str(found.unit_price),
        "floor_price": str(found.floor_price),
        "severity": str(found.severity),
        "status": str(found.status),
        "resolution": None if found.resolution is None else str(found.resolution),
        "steps": [
            {
                "action": str(step.action),
                "from": str(step.from_status),
                "to": str(step.to_status),
                "actor": step.actor_id,
                "role": str(step.role),
                "at": iso_z(step.at),
                "reason": step.reason,
                "resolution": None if step.resolution is None else str(step.resolution),
            }
            for step in found.steps
        ],
    }


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=f"request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="request body must be a JSON object")
    return body


def _required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise web.HTTPBadRequest(text=f"{name}: a non-empty string is required")
    return value


def _amount(raw: Any) -> Decimal | None:
    if raw is None:
        return None
    if not isinstance(raw, str | int):
        raise web.HTTPBadRequest(text='amount: a decimal string such as "125.00"')
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise web.HTTPBadRequest(text=f"amount: {raw!r} is not a decimal") from None


_COLUMNS = (
    "distributor_id",
    "sku",
    "sell_in",
    "sell_through",
    "expected_on_hand",
    "last_variance",
    "weeks_of_supply",
    "value",
)


def render_overview(rows: Rows, mode: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in _COLUMNS)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(row[c] if row[c] is not None else ''))}</td>" for c in _COLUMNS
        )
        + "</tr>"
        for row in rows
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>channelflow</title>"
        "<meta http-equiv='refresh' content='5'>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        "td:nth-child(-n+2){text-align:left}</style></head><body>"
        f"<h1>channelflow — channel inventory</h1><p>mode: {html.escape(mode)} · "
        "<a href='/api/snapshot'>snapshot</a> · <a href='/api/violations'>violations</a> · "
        "<a href='/api/quality'>data quality</a> · "
        "<a href='/api/dead-letters'>dead letters</a> · <a href='/metrics'>metrics</a></p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )
