"""Prices and the catalog: /api/prices, /api/unpriced (sales no price covers),
/api/price-protection (claims) and /api/products."""

from __future__ import annotations

from aiohttp import web

from projections.pricing_reads import unpriced_page
from projections.snapshot import claim_rows, now_of, price_rows, product_rows, protection_claims
from streams.api.context import context_of, json_response
from streams.api.query import (
    answer,
    as_of,
    filtered,
    page,
    principal_of,
    scope,
    scope_of,
    visible,
    window,
)


async def prices(request: web.Request) -> web.Response:
    scope(request)  # another distributor's prices: 403
    rows = price_rows(context_of(request).stores())
    principal = principal_of(request)
    rows = [
        r for r in rows if r["distributor_id"] is None or principal.may_read(r["distributor_id"])
    ]
    return json_response(page(request, filtered(request, rows, "sku", "distributor_id")))


async def unpriced(request: web.Request) -> web.Response:
    current = context_of(request).stores()
    offset, limit = window(request)
    covered = scope_of(request, current)
    found = unpriced_page(current, covered, request.query.get("sku"), offset, limit)
    return json_response(answer(found.rows, found.total, offset, limit))


async def price_protection(request: web.Request) -> web.Response:
    when = as_of(request)
    rows = await context_of(request).exporting(
        lambda current: claim_rows(protection_claims(current, now_of(current, when)))
    )
    return json_response(page(request, visible(request, rows, "sku")))


async def products(request: web.Request) -> web.Response:
    rows = product_rows(context_of(request).stores())
    return json_response(page(request, filtered(request, rows, "sku")))
