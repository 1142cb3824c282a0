"""The distributors' reporting: /api/quality (data quality), /api/compliance (reporting
periods, each on its distributor's calendar) and /api/reports (the reports received)."""

from __future__ import annotations

from aiohttp import web

from projections.distributor_reads import compliance_of
from projections.snapshot import (
    compliance_by_distributor,
    now_of,
    quality_rows,
    report_page,
)
from projections.stores import ChannelStores
from streams.api.context import context_of, json_response
from streams.api.query import Rows, answer, as_of, filtered, page, scope, visible, window


async def quality(request: web.Request) -> web.Response:
    rows = quality_rows(context_of(request).stores())
    return json_response(page(request, visible(request, rows)))


async def compliance(request: web.Request) -> web.Response:
    when, wanted = as_of(request), scope(request)

    def periods(current: ChannelStores) -> Rows:
        now = now_of(current, when)
        found = (
            {wanted: compliance_of(current, wanted, now)}
            if wanted
            else compliance_by_distributor(current, now)
        )
        return [
            {"distributor_id": distributor, **period.row()}
            for distributor, covered in found.items()
            for period in covered
        ]

    rows = await context_of(request).exporting(periods)
    return json_response(page(request, filtered(request, rows, "status", "frequency")))


async def reports(request: web.Request) -> web.Response:
    wanted = scope(request)
    offset, limit = window(request)
    rows, total = await context_of(request).exporting(
        lambda current: report_page(current, wanted, (offset, limit))
    )
    return json_response(answer(rows, total, offset, limit))
