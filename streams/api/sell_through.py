"""/api/sell-through: sell-in vs sell-through per distributor and period
(granularity=week|month|quarter), or channel-wide (scope=channel, the vendor's roles)."""

from __future__ import annotations

from typing import cast

from aiohttp import web

from projections.periods import channel_totals, sell_in_vs_through
from projections.snapshot import distributors, now_of
from projections.tallies import Granularity, granularity_of_key, partial_period
from streams.api.context import context_of, json_response
from streams.api.query import filtered, page, principal_of, scope_of, visible
from streams.auth import Forbidden


def granularity_of(request: web.Request) -> Granularity:
    """?granularity=, week by default (another value is refused before: query_choices.py);
    a ?period= of another granularity is refused too: no row would match it."""
    granularity = cast(Granularity, request.query.get("granularity", "week"))
    period = request.query.get("period")
    if period is not None and (kind := granularity_of_key(period)) != granularity:
        raise web.HTTPBadRequest(
            text=f"period {period!r} is a {kind}: ask for it with granularity={kind} "
            f"(the rows are of granularity={granularity})"
        )
    return granularity


async def sell_through(request: web.Request) -> web.Response:
    granularity = granularity_of(request)
    current = context_of(request).stores()
    sku = request.query.get("sku")
    if request.query.get("scope") == "channel":
        if not principal_of(request).may_read(None):
            raise Forbidden("channel-wide totals are for the vendor's roles")
        everyone = distributors(current)
        rows = channel_totals(current.periods, current.day_totals, everyone, granularity, sku)
    else:
        covered = scope_of(request, current)
        rows = visible(
            request,
            sell_in_vs_through(current.periods, current.day_totals, covered, granularity, sku),
        )
    return json_response(
        {
            "granularity": granularity,
            "partial_period": partial_period(now_of(current), granularity),
            **page(request, filtered(request, rows, "period")),
        }
    )
