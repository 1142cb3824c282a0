"""A read about a distributor the channel has never heard of (no line, no agreement) is a
404 naming it, on every route: `?distributor_id=D1` where the distributors are D01, D02...
answered an empty page, as if D1 had sent nothing. A known distributor with no rows still
gets its empty page.

One middleware for every GET, by the query's `distributor_id` or the path's; two key
lookups (`projections.distributor_reads.is_known`). It stands aside where the caller may not
read that distributor (the handler's 403: a 404 would tell a distributor which others
exist) and for a distributor token's own id (a distributor that has sent nothing yet).
"""

from __future__ import annotations

from aiohttp import web

from projections.distributor_reads import is_known
from streams.api.context import CONTEXT, PRINCIPAL, ApiContext
from streams.api.errors import Handler

READS = ("GET", "HEAD")


@web.middleware
async def known_distributors(request: web.Request, handler: Handler) -> web.StreamResponse:
    wanted = request.query.get("distributor_id") or request.match_info.get("distributor_id")
    principal = request.get(PRINCIPAL)
    if (
        wanted
        and request.method in READS
        and principal is not None
        and principal.may_read(wanted)
        and wanted != principal.distributor_id
    ):
        context = request.app[CONTEXT]
        if not is_known(context.stores(), wanted):
            raise web.HTTPNotFound(text=unknown(context, wanted))
    return await handler(request)


def unknown(context: ApiContext, distributor: str) -> str:
    """Why a distributor is not found: it is not known (here, if the process holds part of
    the channel only)."""
    coverage = context.health.coverage() if context.health and context.health.coverage else None
    if coverage is None or not coverage.missing:
        return f"no distributor {distributor} is known"
    return (
        f"no distributor {distributor} is known to this worker: it holds part of the channel "
        f"(partitions {', '.join(map(str, coverage.missing))} are elsewhere; the PostgreSQL "
        "read models hold the whole channel)"
    )
