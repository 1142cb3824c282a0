"""/api/sell-through: sell-in vs sell-through per distributor and period
(granularity=week|month|quarter), or channel-wide (scope=channel, the vendor's roles)."""

from __future__ import annotations

from typing import cast, get_args

from aiohttp import web

from projections.periods import channel_totals, sell_in_vs_through
from projections.snapshot import distributors, now_of
from projections.stores import ChannelStores
from projections.tallies import Granularity, partial_period
from streams.api.context import context_of, json_response
from streams.api.query import Rows, filtered, page, principal_of, scope, visible
from streams.auth import Forbidden


def granularity_of(request: web.Request) -> Granularity:
    raw = request.query.get("granularity", "week")
    if raw not in get_args(Granularity):
        choices = ", ".join(get_args(Granularity))
        raise web.HTTPBadRequest(text=f"granularity must be one of {choices}")
    return cast(Granularity, raw)


async def sell_through(request: web.Request) -> web.Response:
    granularity = granularity_of(request)
    sku = request.query.get("sku")
    channel_wide = request.query.get("scope") == "channel"
    if channel_wide and not principal_of(request).may_read(None):
        raise Forbidden("channel-wide totals are for the vendor's roles")
    wanted = None if channel_wide else scope(request)  # another distributor's: 403

    def rows_of(current: ChannelStores) -> tuple[Rows, str | None]:
        covered = [wanted] if wanted is not None else distributors(current)
        totals = channel_totals if channel_wide else sell_in_vs_through
        rows = totals(current.periods, current.day_totals, covered, granularity, sku)
        return rows, partial_period(now_of(current), granularity)

    rows, partial = await context_of(request).exporting(rows_of)
    if not channel_wide:
        rows = visible(request, rows)
    return json_response(
        {
            "granularity": granularity,
            "partial_period": partial,
            **page(request, filtered(request, rows, "period")),
        }
    )
