"""The authorization matrix's tables (every route × every role: tests/unit/api/authz/) and the
app it is checked on: who may read and write what, what each answers."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer

from domain.roles import Role
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry, token_hash
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel
from tests.api_channel import (
    WHOLE,
    list_routes,
    owner_field,
)
from tests.unit.claim_events import decided_claim

TOKENS = {
    "d01": (Role.DISTRIBUTOR, "D01"),
    "cm": (Role.CHANNEL_MANAGER, None),
    "auditor": (Role.AUDITOR, None),
    "admin": (Role.ADMIN, None),
    "mon": (Role.MONITOR, None),
}
#: callers: no token, an unknown token, and one token per role
CALLERS = (None, "bad", "d01", "cm", "auditor", "admin", "mon")
VENDOR_ROLES = ("cm", "auditor", "admin")
PROGRAM, PERIOD = "VPA-2026-SI", "2026-Q3"
OWN_STATEMENT = f"/api/rebates/statements/{PROGRAM}/D01/{PERIOD}"
OTHER_STATEMENT = f"/api/rebates/statements/{PROGRAM}/D02/{PERIOD}"

# --- the tables ---------------------------------------------------------------------

#: GET routes everyone may call (they carry no distributor's data)
OPEN = (
    "/health",
    "/",
    "/dashboard",
    "/static/{name}",
    "/api/openapi.json",
    "/api/asyncapi.json",
    "/schemas",
    "/schemas/{name}",
)
#: GET routes every role reads; a distributor sees its own rows only
SCOPED = (
    "/api/snapshot",
    "/api/inventory",
    "/api/inventory/summary",
    "/api/inventory/aging",
    "/api/sell-through",
    "/api/quality",
    "/api/products",
    "/api/violations",
    "/api/violations/summary",
    "/api/rebates",
    "/api/rebates/watchlist",
    "/api/prices",
    "/api/unpriced",
    "/api/price-protection",
    "/api/resellers",
    "/api/resellers/growth",
    "/api/resellers/top",
    "/api/resellers/aliases",
    "/api/end-customers/aliases",
    "/api/reports",
    "/api/compliance",
    "/api/dead-letters/lines",
    "/api/agreements",
    "/api/obligations",
    "/api/commitments",
    "/api/exchange-rates",
    "/api/authorizations",
    "/api/authorizations/usage",
    "/api/rotations",
    "/api/claims",
)
#: GET routes for the vendor's roles only (a scorecard ranking tells about the others)
VENDOR = (
    "/metrics", "/api/dead-letters", "/api/scorecard", "/api/scorecard.csv",
    "/api/resellers/masters", "/api/resellers/proposals", "/api/end-customers/masters",
)  # fmt: skip
#: vendor routes whose answer moves between two calls (the process's counters)
LIVE = ("/metrics",)
#: what the monitor role (Prometheus's) reads beside the open routes: nothing else
MONITORED = ("/metrics",)
#: GET routes of one record: (route, whose) — D01's is the distributor's own
RECORDS = {
    "/api/violations/{violation_id}": ("/api/violations/{v01}", "/api/violations/{v02}"),
    "/api/rebates/statements/{program_id}/{distributor_id}/{period}": (
        OWN_STATEMENT,
        OTHER_STATEMENT,
    ),
    "/api/scorecard/{distributor_id}": ("/api/scorecard/D01", "/api/scorecard/D02"),
    "/api/rotations/{distributor_id}/{request_id}": (
        "/api/rotations/D01/ROT-1",
        "/api/rotations/D02/ROT-1",
    ),
    "/api/claims/{distributor_id}/{claim_id}": ("/api/claims/D01/DB-1", "/api/claims/D02/DB-1"),
    "/api/claims/{distributor_id}/{claim_id}/849": (
        "/api/claims/D01/DB-1/849",
        "/api/claims/D02/DB-1/849",
    ),
}
#: the query a route needs to answer at all (a list's: `WHOLE`)
QUERIES = {route: {"period": PERIOD} for route in ("/api/scorecard.csv", *RECORDS)
           if route.startswith("/api/scorecard")}  # fmt: skip
#: what a route answers other than JSON
MEDIA = {
    "/metrics": "text/plain",
    "/api/scorecard.csv": "text/csv",
    "/api/claims/{distributor_id}/{claim_id}/849": "application/edi-x12",
}
#: the audit trail: auditor and admin only (a distributor not even for its own records)
AUDIT = {
    "/api/audit/verify": "/api/audit/verify",
    "/api/audit/{kind}/{ref}/history": "/api/audit/violation/{v01}/history",
    "/api/audit/{kind}/{ref}/lineage": "/api/audit/statement/" + f"{PROGRAM}/D01/{PERIOD}/lineage",
}
#: POST routes: (path, body) and what each caller gets; `bad` bodies prove that the role
#: is checked before the body (a role not allowed is 403, not 400)
WRITES: dict[str, list[tuple[str, Any, dict[str | None, int]]]] = {
    "/api/violations/{violation_id}/{action}": [
        # another distributor's violation: only the admin may touch it
        ("/api/violations/{v02}/acknowledge", {"reason": "seen"}, {"d01": 403, "admin": 200}),
        ("/api/violations/{v02}/dispute", {}, {"d01": 403, "admin": 400}),
        ("/api/violations/{v02}/resolve", None, {"d01": 403, "admin": 400}),
        # its own: a distributor may acknowledge and dispute, not resolve
        ("/api/violations/{v01}/dispute", {"reason": "list price"}, {"d01": 200, "admin": 200}),
        ("/api/violations/{v01}/resolve", {}, {"d01": 403, "admin": 400}),
    ],
    "/api/rebates/{program_id}/{period}/close": [
        (f"/api/rebates/{PROGRAM}/{PERIOD}/close", None, {"d01": 403, "admin": 202}),
    ],
    "/api/rebates/statements/{program_id}/{distributor_id}/{period}/{action}": [
        (f"{OWN_STATEMENT}/approve", {}, {"d01": 403, "admin": 200}),
        (f"{OTHER_STATEMENT}/pay", {}, {"d01": 403, "admin": 400}),
    ],
    # a distributor cancels its own rotations, admin anyone's (none here: 404 once allowed)
    "/api/rotations/{distributor_id}/{request_id}/cancel": [
        ("/api/rotations/D01/NOPE/cancel", {"reason": "sold"}, {"d01": 404, "admin": 404}),
        ("/api/rotations/D02/NOPE/cancel", {"reason": "sold"}, {"d01": 403, "admin": 404}),
    ],
    "/api/claims/{distributor_id}/{claim_id}/{action}": [
        # another distributor's claim: only the admin may step it
        (
            "/api/claims/D02/DB-1/dispute",
            {"reason": "T3", "lines": [3]},
            {"d01": 403, "admin": 200},
        ),
        # its own: a distributor may dispute, not approve (role before body: 403, not 400)
        ("/api/claims/D01/DB-1/approve", {}, {"d01": 403, "admin": 400}),
        (
            "/api/claims/D01/DB-1/dispute",
            {"reason": "T3", "lines": [3]},
            {"d01": 200, "admin": 200},
        ),
    ],
    # the match queue: the channel manager and the admin (no proposal in this channel: 404)
    "/api/resellers/proposals/{distributor_id}/{alias}/{action}": [
        (
            "/api/resellers/proposals/D01/R-NONE/confirm",
            {"reason": "same shop"},
            {"d01": 403, "cm": 404, "admin": 404},
        ),
        ("/api/resellers/proposals/D02/R-NONE/reject", None, {"d01": 403, "cm": 404, "admin": 404}),
    ],
    # who may submit at all (whose data, below): here with empty bodies
    "/api/ingest/events": [("/api/ingest/events", [], {"d01": 200, "admin": 200})],
    "/api/ingest/csv": [("/api/ingest/csv", b"", {"d01": 422, "admin": 422})],
    "/api/ingest/edi": [("/api/ingest/edi", b"", {"d01": 422, "admin": 422})],
    "/api/ingest/claims": [("/api/ingest/claims", b"", {"d01": 422, "admin": 422})],
}
#: every caller not named in a WRITES row: no token, an unknown one, the read-only roles
READ_ONLY = {None: 401, "bad": 401, "cm": 403, "auditor": 403, "mon": 403}


def expected_read(route: str, caller: str | None, own: bool = True) -> int:
    if route in OPEN:
        return 200
    if caller in (None, "bad"):
        return 401
    if caller == "mon":
        return 200 if route in MONITORED else 403
    if route in AUDIT:
        return 200 if caller in ("auditor", "admin") else 403
    if route in VENDOR or (route in RECORDS and not own):
        return 403 if caller == "d01" else 200
    return 200


# --- the app --------------------------------------------------------------------------


class Api:
    """The app over the generated channel (D01 to D05) on a test server."""

    def __init__(self, channel: EmbeddedChannel, stores: Any = None, health: Any = None) -> None:
        registry = TokenRegistry(
            [
                {"sha256": token_hash(token), "role": role.value, "actor": token}
                | ({"distributor_id": distributor} if distributor else {})
                for token, (role, distributor) in TOKENS.items()
            ]
        )
        context = ApiContext.of_channel(channel, registry, "test")
        if stores is not None:
            context = dataclasses.replace(context, stores=stores)
        if health is not None:
            context = dataclasses.replace(context, health=health)
        self.app = make_web_app(context)
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(self.app), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())
        violations = channel.snapshot()["violations"]
        self.ids = {
            f"v{d[1:]}": next(
                (v["violation_id"] for v in violations if v["distributor_id"] == d), ""
            )
            for d in ("D01", "D02")
        }

    def path(self, template: str) -> str:
        return template.format(**self.ids)

    def call(
        self, method: str, path: str, caller: str | None, body: Any = None, **params: Any
    ) -> tuple[int, str, Any]:
        status, content_type, _, answer = self.exchange(method, path, caller, body, **params)
        return status, content_type, answer

    def exchange(
        self, method: str, path: str, caller: str | None, body: Any = None, **params: Any
    ) -> tuple[int, str, Mapping[str, str], Any]:
        """`call`'s answer with the response headers."""

        async def go() -> tuple[int, str, Mapping[str, str], Any]:
            headers = {"Authorization": f"Bearer {caller}"} if caller else {}
            data = body if body is None or isinstance(body, bytes) else orjson.dumps(body)
            query = [
                (k, v) for k, vs in params.items() for v in ([vs] if isinstance(vs, str) else vs)
            ]
            response = await self.client.request(
                method, self.path(path), headers=headers, data=data, params=query
            )
            raw = await response.read()
            is_json = response.content_type == "application/json"
            answer = orjson.loads(raw) if is_json else raw
            return response.status, response.content_type, response.headers, answer

        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


def with_claims(channel: EmbeddedChannel) -> EmbeddedChannel:
    """The channel with a decided debit claim DB-1 of D01 and one of D02 on its audit log."""
    for distributor in ("D01", "D02"):
        channel.audit.save(decided_claim(distributor, "DB-1"))
    return channel


def generated(weeks: int = 8) -> EmbeddedChannel:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=41, weeks=weeks))
    return channel


def foreign_ids(value: Any, path: str = "") -> Iterator[str]:
    """Where an answer names a distributor other than D01 (at any depth)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "distributor_id" and item not in ("D01", None):
                yield f"{path}.{key}={item}"
            yield from foreign_ids(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from foreign_ids(item, f"{path}[{index}]")


def assert_json_error(status: int, content_type: str, body: Any, expected: int) -> None:
    assert status == expected, body
    assert content_type == "application/json", body
    assert body["error"]["status"] == expected and body["error"]["message"], body


LISTS = [route for route in list_routes() if route not in VENDOR]
#: lists whose rows are no one distributor's: aggregates over what the caller may read
AGGREGATES = ("/api/violations/summary", "/api/resellers/growth")
#: reference data, the same for everyone: the catalog and the exchange rates
CATALOG = ("/api/products", "/api/exchange-rates")
NOT_OWNED = (*AGGREGATES, *CATALOG)
#: lists that also hold rows of no distributor (general prices), which everyone reads
SHARED = ("/api/prices",)


def whole(route: str) -> dict[str, str]:
    """Query of a read that answers every row (?limit=10000, every reseller ranked), or
    what a read that is no list needs."""
    if route in list_routes():
        return {"limit": "10000", **WHOLE.get(route, {})}
    return dict(QUERIES.get(route, {}))


def rows_of(api: Api, route: str, caller: str, **params: str) -> list[dict[str, Any]]:
    status, _, body = api.call("GET", route, caller, **whole(route), **params)
    assert status == 200, (route, params, body)
    assert body["total"] == len(body["rows"]), (route, params)
    rows: list[dict[str, Any]] = body["rows"]
    return rows


def mine(route: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a vendor's answer a D01 token may read: its own (and shared ones)."""
    readable = ("D01", None) if route in SHARED else ("D01",)
    return [row for row in rows if row[owner_field(route)] in readable]


def written(value: Any) -> str:
    """A field's value as a query names it: as the JSON answer writes it (true, not True)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
