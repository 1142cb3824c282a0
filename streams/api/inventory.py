"""Channel inventory: /api/inventory (rows) and /api/inventory/summary (per distributor,
with weeks of supply, and channel-wide totals)."""

from __future__ import annotations

from aiohttp import web

from projections.periods import inventory_by_distributor
from projections.snapshot import inventory_page, inventory_rows, now_of
from projections.stores import ChannelStores
from projections.supply import channel_supply, distributor_supply
from streams.api.context import context_of, json_response
from streams.api.query import Rows, answer, as_of, integer, page, scope, visible, window


async def inventory(request: web.Request) -> web.Response:
    current = context_of(request).stores()
    now = now_of(current, as_of(request))
    offset, limit = window(request)
    sku = request.query.get("sku")
    rows, total = inventory_page(current, now, scope(request), sku, offset, limit)
    return json_response(answer(rows, total, offset, limit))


async def inventory_summary(request: web.Request) -> web.Response:
    wanted, when, n = scope(request), as_of(request), integer(request, "n", 5)

    def summary(current: ChannelStores) -> Rows:
        now = now_of(current, when)
        rows = inventory_by_distributor(visible(request, inventory_rows(current, now, wanted)), n)
        states = (
            current.inventory.values()
            if wanted is None
            else (state for _, state in current.inventory.scan(f"{wanted}|"))
        )
        supply = distributor_supply(states, now, current.day_totals)
        return [{**row, **supply[row["distributor_id"]]} for row in rows]

    rows = await context_of(request).exporting(summary)
    return json_response({**page(request, rows), "channel": channel_supply(rows)})
