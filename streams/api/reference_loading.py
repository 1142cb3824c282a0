"""While a worker's reference replica is still reading what was published before it
started, the pages that list reference data answer 503 with `Retry-After`, not a partial
list: a restarted worker answered `/api/resellers/masters` with no masters for the second
or so before its replica caught up, as if every master had gone.

The pages are those whose rows are the reference topics' own (products and their prices,
exchange rates, special price deals, reseller and end-customer masters) and the snapshot,
which holds them all (`verify` would report every missing product as a difference). The
other pages come from the worker's own state, recovered from its changelogs before it
answers at all. A process without a replica (the embedded demo, the API process on
PostgreSQL) is never loading."""

from __future__ import annotations

from aiohttp import web

from streams.api.context import CONTEXT, ApiContext
from streams.api.errors import Handler

#: the pages listing what the reference topics hold
REFERENCE_PAGES = frozenset(
    {
        "/api/products",
        "/api/prices",
        "/api/exchange-rates",
        "/api/authorizations",
        "/api/resellers/masters",
        "/api/end-customers/masters",
        "/api/snapshot",
    }
)
#: seconds a client is asked to wait (a replica reads its topics in seconds)
RETRY_AFTER_SECONDS = 5


class ReferenceLoading(web.HTTPServiceUnavailable):
    def __init__(self, what: str) -> None:
        super().__init__(
            text=f"{what} still loading on this worker (it has just started): "
            f"try again in {RETRY_AFTER_SECONDS} seconds",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


def reference_loading(context: ApiContext) -> bool:
    return context.health is not None and context.health.reference_loading()


@web.middleware
async def refuse_while_loading(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if (
        resource is not None
        and resource.canonical in REFERENCE_PAGES
        and request.method in ("GET", "HEAD")
        and reference_loading(request.app[CONTEXT])
    ):
        raise ReferenceLoading("the reference data (catalog, prices, rates, deals, masters) is")
    return await handler(request)
