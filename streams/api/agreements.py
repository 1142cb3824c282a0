"""Distributor agreements and exchange rates: /api/agreements (every version, which one is
in effect) and /api/exchange-rates (every rate publication)."""

from __future__ import annotations

from aiohttp import web

from projections.agreement_reads import agreement_rows, rate_rows
from projections.snapshot import now_of
from streams.api.context import context_of, json_response
from streams.api.query import as_of, filtered, page, scope


async def agreements(request: web.Request) -> web.Response:
    current = context_of(request).stores()
    now = now_of(current, as_of(request))
    rows = agreement_rows(current, None if now is None else now.date(), scope(request))
    return json_response(page(request, filtered(request, rows, "agreement_id")))


async def exchange_rates(request: web.Request) -> web.Response:
    rows = rate_rows(context_of(request).stores())
    return json_response(page(request, filtered(request, rows, "from_currency", "to_currency")))
