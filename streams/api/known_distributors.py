"""A read about a distributor the channel has never heard of (nothing recorded under its id) is a
404 naming it, on every route: `?distributor_id=D1` where the distributors are D01, D02...
answered an empty page, as if D1 had sent nothing. A known distributor with no rows still
gets its empty page.

One middleware for every GET: a page filtered by `?distributor_id=` is refused when none of
its rows is that distributor's (none at all, or a summary's zeros) and the distributor is
not known, so that one some rows name (a deal the vendor authorized for it before it sent a
line) is never refused. A few key lookups (`projections.distributor_reads.is_known`); the
answer is read again only for a distributor not known, whose page is small. It stands aside
where the caller may not read that distributor (the handler's 403: a 404 would tell a
distributor which others exist) and for a distributor token's own id (a distributor that has
sent nothing yet). A path naming a distributor is its handler's: a claim or a statement is
looked up in the audit store, which holds every distributor's, where this process may hold
some partitions only; the scorecard asks `unknown` itself.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from projections.distributor_reads import is_known
from streams.api.context import CONTEXT, PRINCIPAL, ApiContext
from streams.api.errors import Handler

READS = ("GET", "HEAD")


@web.middleware
async def known_distributors(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    asked = request.query.get("distributor_id")
    if (
        asked
        and request.method in READS
        and _unheard_of(request, asked)
        and not _names(response, asked)
    ):
        raise web.HTTPNotFound(text=unknown(request.app[CONTEXT], asked))
    return response


def _unheard_of(request: web.Request, distributor: str) -> bool:
    """Whether the caller may read `distributor`, is not it, and the channel has never heard
    of it."""
    principal = request.get(PRINCIPAL)
    return (
        principal is not None
        and principal.may_read(distributor)
        and distributor != principal.distributor_id
        and not is_known(request.app[CONTEXT].stores(), distributor)
    )


def _names(response: web.StreamResponse, distributor: str) -> bool:
    """Whether `response` is not a page (a CSV, an error), or is one with a row of
    `distributor`'s (a summary's zeros are none)."""
    if not isinstance(response, web.Response) or response.status != 200:
        return True
    if response.content_type != "application/json" or not isinstance(response.body, bytes):
        return True
    document = orjson.loads(response.body)
    rows = document.get("rows") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        return True
    return any(isinstance(row, dict) and row.get("distributor_id") == distributor for row in rows)


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
