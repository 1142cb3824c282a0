"""The HTTP API (JSON), the dashboard and /metrics, for worker and demo alike.

Every route, with its parameters and answers, is in the OpenAPI document the app serves
at /api/openapi.json (streams/api/openapi.py). Reads take `Authorization: Bearer`; a
distributor token sees only its own distributor's rows (another one's: 403).

  /dashboard (and / -> it)           the channel manager's page (streams/api/dashboard.py)
  /health, /metrics                  liveness; Prometheus text format (no token needed)
  /schemas[/{name}]                  the events' JSON Schemas (no token needed)
  /api/snapshot[?as_of=DATE]         the full projection snapshot (its format: docs/DESIGN.md,
                                     "The projection snapshot")
  /api/inventory[/summary]           channel inventory rows; per distributor with weeks
                                     of supply, and channel-wide totals
  /api/sell-through                  sell-in vs sell-through per distributor and period;
                                     granularity=week|month|quarter, scope=channel
  /api/quality, /api/compliance, /api/reports      data quality, reporting weeks, reports
  /api/resellers[/growth|/top]       the reseller network, its growth, top resellers
  /api/dead-letters/lines            rejected lines, why, original bytes (a distributor: its own)
  /api/violations[/summary|/{id}]    pricing violations; by severity; one with its sale
  POST /api/violations/{id}/{action} acknowledge | dispute | resolve
  /api/rebates[/watchlist]           accruals; those near the next tier
  POST /api/rebates/{program}/{period}/close, /api/rebates/statements/... (admin)
  /api/prices, /api/unpriced, /api/price-protection, /api/products, /api/dead-letters
  POST /api/ingest/events|csv|edi   submit events and reports (streams/api/ingest.py)

List endpoints answer a page: {"rows": [...], "total", "limit", "offset"} (?limit= 1 to
10000, default 1000; ?offset=), filtered by distributor_id, sku, period, ... as documented.
Errors: {"error": {"status": 409, "code": "conflict", "message": "..."}}.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast, get_args
from uuid import UUID

import orjson
import psycopg
from aiohttp import web
from aiokafka.errors import KafkaError
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import InterfaceError as StoreInterfaceError  # PostgreSQL away
from eventsourcing.persistence import OperationalError as StoreOperationalError

from domain.permissions import Permission, allows
from domain.rebate_statement import IllegalTransition as RebateIllegalTransition
from domain.timeutil import iso_z
from domain.violation import IllegalTransition, NotAllowed, check_allowed
from projections.periods import channel_totals, inventory_by_distributor, sell_in_vs_through
from projections.pricing_reads import (
    ViolationFilter,
    severity_summary,
    unpriced_page,
    violation_page,
)
from projections.rebate_accruals import watchlist
from projections.snapshot import (
    Snapshot,
    build_snapshot,
    claim_rows,
    compliance_of,
    dead_letter_rows,
    distributors,
    inventory_page,
    inventory_rows,
    now_of,
    price_rows,
    product_rows,
    protection_claims,
    quality_rows,
    rebate_rows,
    report_rows,
    reseller_growth_of,
    reseller_rows,
    top_resellers_of,
)
from projections.statuses import Statuses
from projections.stores import ChannelStores
from projections.supply import channel_supply, distributor_supply
from projections.tallies import Granularity, partial_period
from streams import metrics
from streams.api.audit import add_audit_routes
from streams.api.context import PRINCIPAL, ApiContext, json_error, json_response
from streams.api.dashboard import add_dashboard_routes
from streams.api.documents import statement_document, violation_document
from streams.api.http_body import within
from streams.api.ingest import add_ingest_routes
from streams.api.openapi import add_openapi_route
from streams.api.schemas import add_schema_routes
from streams.auth import AuthError, Forbidden, Principal, TokensUnavailable
from streams.config import Settings
from streams.health import StoreAway
from streams.ingest.deadletters import LetterQuery
from streams.kafka.messages import message_of
from streams.runners.rebate_closing import close_event
from streams.runners.violation_statuses import RecordedStatuses
from streams.timeparse import TimeParseError, parse_as_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Rows = list[dict[str, Any]]

#: routes (as registered) anyone may call: the page shell, its assets and the schemas carry
#: no data
OPEN_PATHS = frozenset(
    {
        "/health",
        "/metrics",
        "/",
        "/dashboard",
        "/static/{name}",
        "/api/openapi.json",
        "/schemas",
        "/schemas/{name}",
    }
)
#: list endpoints answer pages: ?limit= (default, at most) and ?offset=
DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000


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
    except TokensUnavailable as exc:
        return json_error(503, "unavailable", str(exc))
    except (Forbidden, NotAllowed) as exc:
        return json_error(403, "forbidden", str(exc))
    except AggregateNotFoundError:
        return json_error(404, "not_found", f"nothing recorded under {request.path}")
    except IllegalTransition as exc:
        return json_error(409, "conflict", str(exc))
    except KafkaError as exc:
        request.app.logger.warning("Kafka unavailable on %s: %r", request.path, exc)
        return json_error(
            503,
            "unavailable",
            f"Kafka is not reachable ({type(exc).__name__}); try again: a line sent again "
            "is recognized, never counted twice",
        )
    except (psycopg.OperationalError, StoreOperationalError, StoreInterfaceError, StoreAway) as exc:
        request.app.logger.warning("event store unavailable on %s: %s", request.path, exc)
        return json_error(
            503, "unavailable", "the event store (PostgreSQL) is not reachable; try again"
        )
    except Exception:
        request.app.logger.exception("unhandled error on %s", request.path)
        return json_error(500, "internal_error", "internal error; see the server log")


def _principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def _visible(request: web.Request, rows: Rows, *filters: str) -> Rows:
    """Rows the caller may see, narrowed by distributor_id and the query filters named."""
    _scope(request)  # a distributor_id the caller may not read: 403
    principal = _principal(request)
    rows = [row for row in rows if principal.may_read(row.get("distributor_id"))]
    return _filtered(request, rows, "distributor_id", *filters)


def _filtered(request: web.Request, rows: Rows, *filters: str) -> Rows:
    """Rows whose fields equal the query's values of the filters named (those given)."""
    for key in filters:
        value = request.query.get(key)
        if value is not None:
            rows = [row for row in rows if str(row.get(key)) == value]
    return rows


def _window(request: web.Request) -> tuple[int, int]:
    """(offset, limit) of the page asked for (?offset=, ?limit=)."""
    limit = _int(request, "limit", DEFAULT_LIMIT, high=MAX_LIMIT)
    offset = _int(request, "offset", 0, low=0, high=None)
    return offset, limit


def _page(request: web.Request, rows: Rows) -> dict[str, Any]:
    """A page of rows (?limit=, ?offset=) and how many there are in all."""
    offset, limit = _window(request)
    return _answer(rows[offset : offset + limit], len(rows), offset, limit)


def _answer(rows: Rows, total: int, offset: int, limit: int) -> dict[str, Any]:
    return {"rows": rows, "total": total, "limit": limit, "offset": offset}


def _scope(request: web.Request) -> str | None:
    """The one distributor a read is about: the one asked for (if the caller may read it),
    a distributor token's own; None for all of them (the vendor's roles)."""
    principal = _principal(request)
    wanted = request.query.get("distributor_id")
    if wanted is not None and not principal.may_read(wanted):
        raise Forbidden(f"{principal.actor} may not read distributor {wanted}")
    return wanted or principal.distributor_id


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


def _int(
    request: web.Request, name: str, default: int, low: int = 1, high: int | None = 1000
) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < low or (high and int(raw) > high):
        bounds = f"from {low} to {high}" if high else f"of at least {low}"
        raise web.HTTPBadRequest(text=f"{name} must be an integer {bounds}")
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
    settings = Settings.from_env()  # request limits and timeouts
    body_timeout = settings.body_timeout_seconds

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        if resource is None or resource.canonical not in OPEN_PATHS:
            request[PRINCIPAL] = context.tokens.authenticate(request.headers.get("Authorization"))
        return await handler(request)

    blocking = context.blocking
    #: a read whose cost grows with the channel (an aggregate, a whole list): in a thread
    #: over the committed state, so the event loop keeps answering meanwhile
    reading = context.exporting

    async def health(_: web.Request) -> web.Response:
        report = {"status": "ok"} if context.health is None else await context.health.report()
        return json_response({**report, "mode": context.mode})

    recorded = RecordedStatuses(audit)

    async def statuses() -> Statuses:
        """Violation statuses from the event store, fetched off the event loop (only the
        steps recorded since the last request are read).

        The stores themselves are read on the loop only: the agent changes them there.
        """
        known: Statuses = await blocking(recorded.refresh)
        return known

    def scope_of(request: web.Request, current: ChannelStores) -> list[str]:
        """The distributors a read covers: the one asked for (or a distributor token's
        own), else every distributor."""
        wanted = _scope(request)
        return [wanted] if wanted is not None else distributors(current)

    async def snapshot(request: web.Request) -> web.Response:
        as_of, known = _as_of(request), await statuses()
        document = await context.exporting(lambda current: build_snapshot(current, as_of, known))
        return json_response(_visible_snapshot(request, document))

    async def inventory(request: web.Request) -> web.Response:
        current = stores()
        now = now_of(current, _as_of(request))
        offset, limit = _window(request)
        sku = request.query.get("sku")
        rows, total = inventory_page(current, now, _scope(request), sku, offset, limit)
        return json_response(_answer(rows, total, offset, limit))

    async def inventory_summary(request: web.Request) -> web.Response:
        scope, as_of, n = _scope(request), _as_of(request), _int(request, "n", 5)

        def summary(current: ChannelStores) -> Rows:
            now = now_of(current, as_of)
            rows = inventory_by_distributor(
                _visible(request, inventory_rows(current, now, scope)), n
            )
            states = (
                current.inventory.values()
                if scope is None
                else (state for _, state in current.inventory.scan(f"{scope}|"))
            )
            supply = distributor_supply(states, now, current.day_totals)
            return [{**row, **supply[row["distributor_id"]]} for row in rows]

        rows = await reading(summary)
        return json_response({**_page(request, rows), "channel": channel_supply(rows)})

    async def sell_through(request: web.Request) -> web.Response:
        raw = request.query.get("granularity", "week")
        if raw not in get_args(Granularity):
            choices = ", ".join(get_args(Granularity))
            raise web.HTTPBadRequest(text=f"granularity must be one of {choices}")
        granularity = cast(Granularity, raw)
        current = stores()
        sku = request.query.get("sku")
        if request.query.get("scope") == "channel":
            if not _principal(request).may_read(None):
                raise Forbidden("channel-wide totals are for the vendor's roles")
            everyone = distributors(current)
            rows = channel_totals(current.periods, current.day_totals, everyone, granularity, sku)
        else:
            scope = scope_of(request, current)
            rows = _visible(
                request,
                sell_in_vs_through(current.periods, current.day_totals, scope, granularity, sku),
            )
        return json_response(
            {
                "granularity": granularity,
                "partial_period": partial_period(now_of(current), granularity),
                **_page(request, _filtered(request, rows, "period")),
            }
        )

    async def quality(request: web.Request) -> web.Response:
        return json_response(_page(request, _visible(request, quality_rows(stores()))))

    async def dead_letters(request: web.Request) -> web.Response:
        if not _principal(request).may_read(None):
            raise Forbidden("dead-letter counts are for the vendor's roles")
        return json_response(
            _page(request, _filtered(request, dead_letter_rows(stores()), "reason"))
        )

    async def dead_letter_lines(request: web.Request) -> web.Response:
        """Rejected lines with why and their original bytes: a distributor's own (by message
        key), everyone's for the vendor's roles."""
        key = _scope(request)
        reason, source = request.query.get("reason"), request.query.get("source")
        order = request.query.get("order", "topic")
        if order not in ("topic", "newest"):
            raise web.HTTPBadRequest(text="order must be topic or newest")
        offset, limit = _window(request)
        query = LetterQuery(reason, key, source, order == "newest", offset, limit)
        letters = await context.dead_letter_lines(query)
        counts = stores().dead_letters.values()
        if source is None:  # each input dead-lettered is counted once, by scope and reason
            total = sum(
                c.count
                for c in counts
                if (key is None or c.scope == key) and (reason is None or c.reason == reason)
            )
        else:  # the source is in the letters only: count them all
            total = len(await context.dead_letter_lines(replace(query, offset=0, limit=2**31)))
        return json_response(_answer([s.to_json() for s in letters], total, offset, limit))

    async def products(request: web.Request) -> web.Response:
        return json_response(_page(request, _filtered(request, product_rows(stores()), "sku")))

    def violation_filter(request: web.Request, current: ChannelStores) -> ViolationFilter:
        query = request.query
        return ViolationFilter(
            tuple(scope_of(request, current)),
            severity=query.get("severity"),
            sku=query.get("sku"),
            status=query.get("status"),
        )

    async def violations(request: web.Request) -> web.Response:
        known = await statuses()
        offset, limit = _window(request)
        page = await reading(
            lambda current: violation_page(
                current, known, violation_filter(request, current), offset, limit
            )
        )
        return json_response(_answer(page.rows, page.total, offset, limit))

    async def violation_summary(request: web.Request) -> web.Response:
        known = await statuses()
        rows = await reading(
            lambda current: severity_summary(current, known, violation_filter(request, current))
        )
        return json_response(_page(request, rows))

    async def violation(request: web.Request) -> web.Response:
        found = await blocking(audit.violation, _uuid(request.match_info["violation_id"]))
        if not _principal(request).may_read(found.distributor_id):
            raise Forbidden("not your distributor's violation")
        return json_response(violation_document(found))

    async def violation_step(request: web.Request) -> web.Response:
        violation_id = _uuid(request.match_info["violation_id"])
        principal = _principal(request)
        if principal.actor == "anonymous":
            raise AuthError("changing a violation needs a bearer token")
        action = request.match_info["action"]
        # who may, before what is asked: a role not allowed is 403 whatever the body says
        found = await blocking(audit.violation, violation_id)
        check_allowed(principal.role, principal.distributor_id, found.distributor_id, action)
        body = await _json_body(request, body_timeout)
        step: dict[str, Any] = {
            "actor_id": principal.actor,
            "role": principal.role.value,
            "actor_distributor_id": principal.distributor_id,
            "at": datetime.now(UTC),
            "reason": _required_text(body, "reason"),
        }
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
        rows = _visible(request, await reading(rebate_rows), "program_id", "period", "status")
        return json_response(_page(request, rows))

    async def rebate_watchlist(request: web.Request) -> web.Response:
        try:
            share = Decimal(request.query.get("share", "0.10"))
        except InvalidOperation:
            raise web.HTTPBadRequest(text="share must be a decimal such as 0.10") from None
        if not 0 < share <= 1:
            raise web.HTTPBadRequest(text="share must be above 0 and at most 1")
        rows = _visible(request, await reading(rebate_rows), "program_id", "period")
        return json_response({"share": str(share), **_page(request, watchlist(rows, share))})

    async def close_period(request: web.Request) -> web.Response:
        principal = _admin(request)
        program_id, period = request.match_info["program_id"], request.match_info["period"]
        if stores().programs.get(program_id) is None:
            raise web.HTTPNotFound(text=f"no rebate program {program_id!r}")
        try:
            event = close_event(program_id, period, datetime.now(UTC), principal.actor)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
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
        key = _statement_key(request)
        if not _principal(request).may_read(key[1]):
            raise Forbidden("not your distributor's statement")
        found = await blocking(audit.rebate_statement, *key)
        return json_response(statement_document(found))

    async def statement_step(request: web.Request) -> web.Response:
        principal = _admin(request)
        key = _statement_key(request)
        body = await _json_body(request, body_timeout)
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
        _scope(request)  # another distributor's prices: 403
        rows = price_rows(stores())
        principal = _principal(request)
        rows = [
            r
            for r in rows
            if r["distributor_id"] is None or principal.may_read(r["distributor_id"])
        ]
        return json_response(_page(request, _filtered(request, rows, "sku", "distributor_id")))

    async def unpriced(request: web.Request) -> web.Response:
        current = stores()
        offset, limit = _window(request)
        scope = scope_of(request, current)
        page = unpriced_page(current, scope, request.query.get("sku"), offset, limit)
        return json_response(_answer(page.rows, page.total, offset, limit))

    async def price_protection(request: web.Request) -> web.Response:
        as_of = _as_of(request)
        rows = await reading(
            lambda current: claim_rows(protection_claims(current, now_of(current, as_of)))
        )
        return json_response(_page(request, _visible(request, rows, "sku")))

    async def resellers(request: web.Request) -> web.Response:
        as_of = _as_of(request)
        rows = await reading(lambda current: reseller_rows(current, now_of(current, as_of)))
        return json_response(_page(request, _visible(request, rows)))

    async def reseller_growth(request: web.Request) -> web.Response:
        scope = _scope(request)
        rows = await reading(lambda current: reseller_growth_of(current, scope))
        return json_response(_page(request, rows))

    async def reseller_top(request: web.Request) -> web.Response:
        period, scope, n = request.query.get("period"), _scope(request), _int(request, "n", 10)
        rows = await reading(lambda current: top_resellers_of(current, scope, n, period))
        return json_response(_page(request, rows))

    async def reports(request: web.Request) -> web.Response:
        scope = _scope(request)
        rows = await reading(lambda current: report_rows(current, scope))
        return json_response(_page(request, rows))

    async def compliance(request: web.Request) -> web.Response:
        as_of, wanted = _as_of(request), _scope(request)

        def weeks(current: ChannelStores) -> Rows:
            now = now_of(current, as_of)
            covered = [wanted] if wanted else [r["distributor_id"] for r in quality_rows(current)]
            return [
                {"distributor_id": distributor, **week.row()}
                for distributor in covered
                for week in compliance_of(current, distributor, now)
            ]

        rows = await reading(weeks)
        return json_response(_page(request, _filtered(request, rows, "status")))

    async def prometheus(_: web.Request) -> web.Response:
        await reading(metrics.observe_projections)
        return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")

    app = web.Application(middlewares=[json_errors, authenticate])
    add_dashboard_routes(app, context.mode)
    add_openapi_route(app)
    add_schema_routes(app)
    for path, handler in (
        ("/health", health),
        ("/metrics", prometheus),
        ("/api/snapshot", snapshot),
        ("/api/inventory", inventory),
        ("/api/inventory/summary", inventory_summary),
        ("/api/sell-through", sell_through),
        ("/api/quality", quality),
        ("/api/dead-letters", dead_letters),
        ("/api/dead-letters/lines", dead_letter_lines),
        ("/api/products", products),
        ("/api/violations", violations),
        ("/api/violations/summary", violation_summary),
        ("/api/violations/{violation_id}", violation),
        ("/api/rebates", rebates),
        ("/api/rebates/watchlist", rebate_watchlist),
        ("/api/rebates/statements/{program_id}/{distributor_id}/{period}", statement),
        ("/api/prices", prices),
        ("/api/unpriced", unpriced),
        ("/api/price-protection", price_protection),
        ("/api/resellers", resellers),
        ("/api/resellers/growth", reseller_growth),
        ("/api/resellers/top", reseller_top),
        ("/api/reports", reports),
        ("/api/compliance", compliance),
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
    add_audit_routes(app, context)
    add_ingest_routes(app, context, settings)
    return app


def _admin(request: web.Request) -> Principal:
    principal = _principal(request)
    if principal.actor == "anonymous":
        raise AuthError("this needs a bearer token")
    if not allows(principal.role, Permission.ADMINISTER):
        raise Forbidden(f"only the admin role may do this ({principal.actor} is {principal.role})")
    return principal


def _statement_key(request: web.Request) -> tuple[str, str, str]:
    info = request.match_info
    return info["program_id"], info["distributor_id"], info["period"]


async def _json_body(request: web.Request, timeout: float) -> dict[str, Any]:
    try:
        body = orjson.loads(await within(request.read(), timeout))
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
