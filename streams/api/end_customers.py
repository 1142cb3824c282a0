"""End-customer identity (docs/IDENTITY.md, "End customers"): /api/end-customers/masters
(the vendor's roles: a master spans distributors) and /api/end-customers/aliases (a
distributor: the ids it sent). No row holds a name or an address: they are sealed
(docs/PRIVACY.md)."""

from __future__ import annotations

from aiohttp import web

from streams.api.query import principal_of
from streams.api.resellers import aliases_of, masters_of
from streams.auth import Forbidden


async def end_customer_masters(request: web.Request) -> web.Response:
    """Every end customer's master with the aliases that mean it now: the vendor's roles."""
    if not principal_of(request).may_read(None):
        raise Forbidden("the end customers' masters are for the vendor's roles")
    return await masters_of(request, "end_customer")


async def end_customer_aliases(request: web.Request) -> web.Response:
    """Each end-customer alias of a distributor (or of all), the master it means and its
    history; a distributor's token: its own only."""
    return await aliases_of(request, "end_customer")
