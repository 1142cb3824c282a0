"""A read filtered by an id the channel has never heard of is a 404 naming it, on every
route: `?distributor_id=D1` where the distributors are D01, D02..., or `?program_id=NOPE`
where no rebate program is so named, answered an empty page, as if there were nothing to
see. A known distributor or program with no rows still gets its empty page.

One middleware for every GET and every such filter (`FILTERS`): a page filtered by one is
refused when none of its rows names the id (none at all, or a summary's zeros) and the id
is not known, so that one some rows name (a deal the vendor authorized for a distributor
before it sent a line) is never refused. The known-checks are a few key lookups
(`projections.distributor_reads.is_known`, `projections.program_reads.is_known`); the
answer is read again only for an id not known, whose page is small.

A distributor stands aside where the caller may not read it (the handler's 403: a 404
would tell a distributor which others exist) and for a distributor token's own id (one that
has sent nothing yet); to a distributor token, a program not among its own is as unknown as
one never defined, for the same reason. A path naming a distributor or a program is its
handler's: a claim or a statement is looked up in the audit store, which holds every
distributor's, where this process may hold some partitions only; the scorecard asks
`unknown` itself; closing a period asks `projections.program_reads.is_known`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import orjson
from aiohttp import web

from projections import distributor_reads, program_reads
from streams.api.context import CONTEXT, PRINCIPAL, ApiContext
from streams.api.errors import Handler
from streams.api.reference_loading import ReferenceLoading, reference_loading

READS = ("GET", "HEAD")


@dataclass(frozen=True)
class Filter:
    """A query parameter naming one of the channel's things, the rows' field of the same
    name: whether the caller gets a 404 for an id (rows aside), and its message."""

    parameter: str
    unheard_of: Callable[[web.Request, str], bool]
    why: Callable[[ApiContext, str], str]


@web.middleware
async def known_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.method not in READS:
        return response
    for known in FILTERS:
        asked = request.query.get(known.parameter)
        if asked and known.unheard_of(request, asked) and not _names(response, known, asked):
            raise web.HTTPNotFound(text=known.why(request.app[CONTEXT], asked))
    return response


def _distributor_unheard_of(request: web.Request, distributor: str) -> bool:
    """Whether the caller may read `distributor`, is not it, and the channel has never heard
    of it."""
    principal = request.get(PRINCIPAL)
    return (
        principal is not None
        and principal.may_read(distributor)
        and distributor != principal.distributor_id
        and not distributor_reads.is_known(request.app[CONTEXT].stores(), distributor)
    )


def _program_unheard_of(request: web.Request, program: str) -> bool:
    """Whether no rebate program `program` is defined (to a distributor token: none of its
    own). While a worker's reference replica is still reading (it has just started), one not
    found may only not be read yet: a 503 to retry, not a 404."""
    principal = request.get(PRINCIPAL)
    if principal is None:
        return False
    context = request.app[CONTEXT]
    if program_reads.is_known(context.stores(), program, principal.distributor_id):
        return False
    if reference_loading(context):
        raise ReferenceLoading("the rebate programs are")
    return True


def _names(response: web.StreamResponse, known: Filter, asked: str) -> bool:
    """Whether `response` is not a page (a CSV, an error), or is one with a row naming
    `asked` (a summary's zeros are none)."""
    if not isinstance(response, web.Response) or response.status != 200:
        return True
    if response.content_type != "application/json" or not isinstance(response.body, bytes):
        return True
    document = orjson.loads(response.body)
    rows = document.get("rows") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        return True
    return any(isinstance(row, dict) and row.get(known.parameter) == asked for row in rows)


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


def unknown_program(_context: ApiContext, program: str) -> str:
    """Why a rebate program is not found (programs are reference data: every process holds
    them all)."""
    return f"no rebate program {program} is known"


FILTERS = (
    Filter("distributor_id", _distributor_unheard_of, unknown),
    Filter("program_id", _program_unheard_of, unknown_program),
)
