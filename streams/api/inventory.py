"""Channel inventory: /api/inventory (rows), /api/inventory/aging (held stock by age band)
and /api/inventory/summary (per distributor, with weeks of supply, and channel-wide
totals)."""

from __future__ import annotations

from aiohttp import web

from projections.aging_reads import aging_page
from projections.inventory_summary import inventory_summary as inventory_summary_rows
from projections.snapshot import inventory_page, now_of
from projections.stores import ChannelStores
from projections.supply import channel_supply
from streams.api.context import context_of, json_response
from streams.api.query import Rows, answer, as_of, integer, page, principal_of, scope, window


async def inventory(request: web.Request) -> web.Response:
    current = context_of(request).stores()
    now = now_of(current, as_of(request))
    offset, limit = window(request)
    sku = request.query.get("sku")
    rows, total = inventory_page(current, now, scope(request), sku, offset, limit)
    return json_response(answer(rows, total, offset, limit))


async def inventory_aging(request: web.Request) -> web.Response:
    """In a thread: a page of up to 10,000 rows (the dashboard's) costs the channel's size."""
    wanted, when, sku = scope(request), as_of(request), request.query.get("sku")
    offset, limit = window(request)

    def aged(current: ChannelStores) -> tuple[Rows, int]:
        return aging_page(current, now_of(current, when), wanted, sku, offset, limit)

    rows, total = await context_of(request).exporting(aged)
    return json_response(answer(rows, total, offset, limit))


async def inventory_summary(request: web.Request) -> web.Response:
    wanted, when, n = scope(request), as_of(request), integer(request, "n", 5)
    principal = principal_of(request)

    def summary(current: ChannelStores) -> Rows:
        return inventory_summary_rows(current, now_of(current, when), wanted, principal.may_read, n)

    rows = await context_of(request).exporting(summary)
    return json_response({**page(request, rows), "channel": channel_supply(rows)})
