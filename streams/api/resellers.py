"""The reseller network: /api/resellers, /api/resellers/growth, /api/resellers/top."""

from __future__ import annotations

from aiohttp import web

from projections.snapshot import now_of, reseller_growth_of, reseller_rows, top_resellers_of
from streams.api.context import context_of, json_response
from streams.api.query import as_of, integer, page, scope, visible


async def resellers(request: web.Request) -> web.Response:
    when = as_of(request)
    rows = await context_of(request).exporting(
        lambda current: reseller_rows(current, now_of(current, when))
    )
    return json_response(page(request, visible(request, rows)))


async def reseller_growth(request: web.Request) -> web.Response:
    wanted = scope(request)
    rows = await context_of(request).exporting(lambda current: reseller_growth_of(current, wanted))
    return json_response(page(request, rows))


async def reseller_top(request: web.Request) -> web.Response:
    period, wanted, n = request.query.get("period"), scope(request), integer(request, "n", 10)
    rows = await context_of(request).exporting(
        lambda current: top_resellers_of(current, wanted, n, period)
    )
    return json_response(page(request, rows))
