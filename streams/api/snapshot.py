"""/api/snapshot[?as_of=DATE]: the full projection snapshot (docs/DESIGN.md, "The
projection snapshot"); a distributor token gets its own distributor's rows only."""

from __future__ import annotations

from aiohttp import web

from projections.snapshot import Snapshot, build_snapshot
from streams.api.context import SCORE, context_of, json_response, statuses
from streams.api.query import as_of, principal_of


async def snapshot(request: web.Request) -> web.Response:
    when, known = as_of(request), await statuses(request)
    score = request.app[SCORE]
    document = await context_of(request).exporting(
        lambda current: build_snapshot(current, when, known, score)
    )
    return json_response(visible_snapshot(request, document))


def visible_snapshot(request: web.Request, snapshot: Snapshot) -> Snapshot:
    principal = principal_of(request)
    if principal.may_read(None):
        return snapshot
    return {
        key: [
            row
            for row in rows
            if "distributor_id" in row and principal.may_read(row["distributor_id"])
        ]
        for key, rows in snapshot.items()
    }
