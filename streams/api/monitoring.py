"""/health (liveness, and what the health checks found; no token needed) and /metrics
(Prometheus text format; the vendor's roles and the `monitor` role, Prometheus's, since it
carries channel-wide figures such as a distributor's own program's accrued rebate)."""

from __future__ import annotations

from aiohttp import web

from domain.permissions import Permission, allows
from streams import metrics
from streams.api.context import context_of, json_response
from streams.api.query import principal_of
from streams.auth import Forbidden


async def health(request: web.Request) -> web.Response:
    context = context_of(request)
    report = {"status": "ok"} if context.health is None else await context.health.report()
    return json_response({**report, "mode": context.mode})


async def prometheus(request: web.Request) -> web.Response:
    if not allows(principal_of(request).role, Permission.READ_METRICS):
        raise Forbidden(
            "the metrics carry channel-wide figures: a token of the vendor's roles or the "
            "monitor role"
        )
    context = context_of(request)
    if context.gauges_at_scrape:
        await context.exporting(metrics.observe_projections)
    return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")
