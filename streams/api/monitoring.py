"""/health (liveness, and what the health checks found) and /metrics (Prometheus text
format); neither needs a token."""

from __future__ import annotations

from aiohttp import web

from streams import metrics
from streams.api.context import context_of, json_response


async def health(request: web.Request) -> web.Response:
    context = context_of(request)
    report = {"status": "ok"} if context.health is None else await context.health.report()
    return json_response({**report, "mode": context.mode})


async def prometheus(request: web.Request) -> web.Response:
    context = context_of(request)
    if context.gauges_at_scrape:
        await context.exporting(metrics.observe_projections)
    return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")
