"""Distributor agreements and exchange rates: /api/agreements (every version, which one is
in effect), /api/obligations (what the stock breaks of the one in effect),
/api/commitments (the volume commitments of the periods judged), /api/exchange-rates (every
rate publication), /api/authorizations (the special price deals, per distributor they
name) and /api/authorizations/usage (each deal's cap given out and days left, flagged
near either)."""

from __future__ import annotations

from aiohttp import web

from projections.agreement_reads import agreement_rows, rate_rows
from projections.authorization_reads import authorization_rows
from projections.authorization_usage import NearThresholds, usage_rows
from projections.commitment_reads import commitment_rows
from projections.obligation_reads import obligation_rows
from projections.snapshot import now_of
from projections.stores import ChannelStores
from streams.api.context import SETTINGS, context_of, json_response
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


async def authorization_usage(request: web.Request) -> web.Response:
    """A ledger read by key per deal: cheap enough for the event loop, like the terms."""
    current = context_of(request).stores()
    now = now_of(current, as_of(request))
    settings = request.app[SETTINGS]
    near = NearThresholds(settings.cap_near_percent, settings.expiry_near_days)
    today = None if now is None else now.date()
    rows = usage_rows(current, today, scope(request), near)
    return json_response(page(request, filtered(request, rows, "authorization_id")))


async def obligations(request: web.Request) -> web.Response:
    """In a thread: for the whole channel it reads every distributor's inventory rows."""
    wanted, when = scope(request), as_of(request)

    def found(current: ChannelStores) -> Rows:
        return obligation_rows(current, now_of(current, when), wanted)

    rows = await context_of(request).exporting(found)
    return json_response(page(request, filtered(request, rows, "kind", "ref")))


async def commitments(request: web.Request) -> web.Response:
    """A few bucket reads per distributor and period, in a thread like the obligations."""
    wanted, when = scope(request), as_of(request)

    def found(current: ChannelStores) -> Rows:
        return commitment_rows(current, now_of(current, when), wanted)

    rows = await context_of(request).exporting(found)
    return json_response(page(request, filtered(request, rows, "status", "period")))
