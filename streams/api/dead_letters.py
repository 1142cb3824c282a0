"""Dead letters: /api/dead-letters (counts by reason, the vendor's roles) and
/api/dead-letters/lines (the rejected lines, why, and their original bytes)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from aiohttp import web

from projections.snapshot import dead_letter_rows
from streams.api.context import SETTINGS, context_of, json_response
from streams.api.query import answer, filtered, page, principal_of, scope, window
from streams.auth import Forbidden
from streams.ingest.deadletters import LetterQuery
from streams.ingest.personal import reveal_letters


async def dead_letters(request: web.Request) -> web.Response:
    if not principal_of(request).may_read(None):
        raise Forbidden("dead-letter counts are for the vendor's roles")
    rows = dead_letter_rows(context_of(request).stores())
    return json_response(page(request, filtered(request, rows, "reason")))


async def dead_letter_lines(request: web.Request) -> web.Response:
    """Rejected lines with why and their original bytes: a distributor's own (by message
    key), everyone's for the vendor's roles."""
    context = context_of(request)
    key = scope(request)
    reason, source = request.query.get("reason"), request.query.get("source")
    newest = request.query.get("order") == "newest"  # its choices: `checked_query`
    offset, limit = window(request)
    query = LetterQuery(reason, key, source, newest, offset, limit)
    letters = await context.dead_letter_lines(query)
    counts = context.stores().dead_letters.values()
    if source is None:  # each input dead-lettered is counted once, by scope and reason
        total = sum(
            c.count
            for c in counts
            if (key is None or c.scope == key) and (reason is None or c.reason == reason)
        )
    else:  # the source is in the letters only: count them all
        total = len(await context.dead_letter_lines(replace(query, offset=0, limit=2**31)))
    documents = [s.to_json() for s in letters]
    await asyncio.to_thread(reveal_letters, request.app[SETTINGS], documents, key)
    return json_response(answer(documents, total, offset, limit))
