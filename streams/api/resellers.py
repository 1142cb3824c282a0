"""The reseller network: /api/resellers, /api/resellers/growth, /api/resellers/top (counted
by master: docs/IDENTITY.md), and its identities: /api/resellers/masters (vendor roles),
/api/resellers/aliases (a distributor: its own)."""

from __future__ import annotations

from aiohttp import web

from projections.party_reads import alias_rows, masters_with_aliases
from projections.snapshot import now_of, reseller_growth_of, reseller_rows, top_resellers_of
from streams.api.context import context_of, json_response
from streams.api.query import as_of, filtered, integer, page, principal_of, scope, visible
from streams.auth import Forbidden


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


async def reseller_masters(request: web.Request) -> web.Response:
    """Every master with the aliases that mean it now: they span distributors, so for the
    vendor's roles only."""
    if not principal_of(request).may_read(None):
        raise Forbidden("the reseller masters and their aliases are for the vendor's roles")
    rows = await context_of(request).exporting(masters_with_aliases)
    return json_response(page(request, filtered(request, rows, "master_id")))


async def reseller_aliases(request: web.Request) -> web.Response:
    """Each alias of a distributor (or of all), the master it means and its history."""
    wanted = scope(request)
    rows = await context_of(request).exporting(lambda current: alias_rows(current, wanted))
    return json_response(page(request, visible(request, rows, "master_id")))
