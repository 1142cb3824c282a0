"""The HTTP read API (JSON), a small HTML overview and /metrics, for worker and demo alike.

Endpoints (all GET, JSON unless noted):
  /health                      liveness and the running mode
  /api/snapshot[?as_of=DATE]   the full projection snapshot (DESIGN.md format)
  /api/inventory               channel inventory rows; filters: distributor_id, sku
  /api/quality                 data quality per distributor; filter: distributor_id
  /api/dead-letters            dead-letter counts by reason
  /api/products                the product catalog: units and identifiers per SKU
  /api/sell-through            sell-in vs sell-through per distributor and period;
                               granularity=week|month|quarter (default week),
                               filters distributor_id, sku; ?scope=channel for totals
  /api/inventory/summary       per distributor: stock, value, top SKUs by value and by
                               weeks of supply (n=5)
  /metrics                     Prometheus text format
  /                            HTML overview of channel inventory
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, cast, get_args

import orjson
from aiohttp import web

from projections.periods import (
    Granularity,
    channel_totals,
    inventory_by_distributor,
    sell_in_vs_through,
)
from projections.snapshot import (
    build_snapshot,
    dead_letter_rows,
    inventory_rows,
    latest_business_time,
    product_rows,
    quality_rows,
)
from projections.stores import ChannelStores
from streams import metrics
from streams.timeparse import TimeParseError, parse_as_of

StoresProvider = Callable[[], ChannelStores]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    except Exception:
        request.app.logger.exception("unhandled error on %s", request.path)
        return json_error(500, "internal_error", "internal error; see the server log")


def _filtered(rows: list[dict[str, Any]], request: web.Request, *keys: str) -> list[dict[str, Any]]:
    for key in keys:
        wanted = request.query.get(key)
        if wanted is not None:
            rows = [row for row in rows if row.get(key) == wanted]
    return rows


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


def make_web_app(stores: StoresProvider, mode: str) -> web.Application:
    async def health(_: web.Request) -> web.Response:
        return json_response({"status": "ok", "mode": mode})

    async def snapshot(request: web.Request) -> web.Response:
        return json_response(build_snapshot(stores(), _as_of(request)))

    async def inventory(request: web.Request) -> web.Response:
        current = stores()
        rows = inventory_rows(current, _as_of(request) or latest_business_time(current))
        return json_response({"rows": _filtered(rows, request, "distributor_id", "sku")})

    async def quality(request: web.Request) -> web.Response:
        return json_response({"rows": _filtered(quality_rows(stores()), request, "distributor_id")})

    async def dead_letters(_: web.Request) -> web.Response:
        return json_response({"rows": dead_letter_rows(stores())})

    async def sell_through(request: web.Request) -> web.Response:
        raw = request.query.get("granularity", "week")
        if raw not in get_args(Granularity):
            choices = ", ".join(get_args(Granularity))
            raise web.HTTPBadRequest(text=f"granularity must be one of {choices}")
        granularity = cast(Granularity, raw)
        states = stores().inventory.values()
        sku = request.query.get("sku")
        if request.query.get("scope") == "channel":
            rows = channel_totals(states, granularity, sku=sku)
        else:
            distributor = request.query.get("distributor_id")
            rows = sell_in_vs_through(states, granularity, distributor, sku)
        return json_response({"granularity": granularity, "rows": rows})

    async def inventory_summary(request: web.Request) -> web.Response:
        current = stores()
        rows = inventory_rows(current, _as_of(request) or latest_business_time(current))
        summary = inventory_by_distributor(rows, _int(request, "n", 5))
        return json_response({"rows": _filtered(summary, request, "distributor_id")})

    async def products(_: web.Request) -> web.Response:
        return json_response({"rows": product_rows(stores())})

    async def prometheus(_: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")

    async def index(_: web.Request) -> web.Response:
        current = stores()
        return web.Response(
            text=render_overview(inventory_rows(current, latest_business_time(current)), mode),
            content_type="text/html",
        )

    app = web.Application(middlewares=[json_errors])
    app.router.add_get("/", index)
    app.router.add_get("/health", health)
    app.router.add_get("/api/snapshot", snapshot)
    app.router.add_get("/api/inventory", inventory)
    app.router.add_get("/api/quality", quality)
    app.router.add_get("/api/dead-letters", dead_letters)
    app.router.add_get("/api/products", products)
    app.router.add_get("/api/sell-through", sell_through)
    app.router.add_get("/api/inventory/summary", inventory_summary)
    app.router.add_get("/metrics", prometheus)
    return app


_COLUMNS = (
    "distributor_id",
    "sku",
    "sell_in",
    "sell_through",
    "expected_on_hand",
    "last_variance",
    "weeks_of_supply",
)


def render_overview(rows: list[dict[str, Any]], mode: str) -> str:
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
        "<a href='/api/snapshot'>snapshot</a> · <a href='/api/quality'>data quality</a> · "
        "<a href='/api/dead-letters'>dead letters</a> · <a href='/metrics'>metrics</a></p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )
