"""Distributor agreements and exchange rates: /api/agreements (every version, which one is
in effect), /api/obligations (what the stock breaks of the one in effect),
/api/exchange-rates (every rate publication) and /api/authorizations (the special price
deals, per distributor they name)."""

from __future__ import annotations

from aiohttp import web

from projections.agreement_reads import agreement_rows, rate_rows
from projections.authorization_reads import authorization_rows
from projections.obligation_reads import obligation_rows
from projections.snapshot import now_of
from projections.stores import ChannelStores
from streams.api.context import context_of, json_response
from streams.api.query import Rows, as_of, filtered, page, scope


async def agreements(request: web.Request) -> web.Response:
    current = context_of(request).stores()
    now = now_of(current, as_of(request))
    rows = agreement_rows(current, None if now is None else now.date(), scope(request))
    return json_response(page(request, filtered(request, rows, "agreement_id")))


async def exchange_rates(request: web.Request) -> web.Response:
    rows = rate_rows(context_of(request).stores())
    return json_response(page(request, filtered(request, rows, "from_currency", "to_currency")))


async def authorizations(request: web.Request) -> web.Response:
    current = context_of(request).stores()
    now = now_of(current, as_of(request))
    rows = authorization_rows(current, None if now is None else now.date(), scope(request))
    return json_response(page(request, filtered(request, rows, "authorization_id", "in_effect")))


async def obligations(request: web.Request) -> web.Response:
    """In a thread: for the whole channel it reads every distributor's inventory rows."""
    wanted, when = scope(request), as_of(request)

    def found(current: ChannelStores) -> Rows:
        return obligation_rows(current, now_of(current, when), wanted)

    rows = await context_of(request).exporting(found)
    return json_response(page(request, filtered(request, rows, "kind", "ref")))
