"""Authorization matrix: every route of the app × every role (docs/DESIGN.md "Interfaces" and
"Non-negotiables": a distributor never reads nor writes another distributor's data; the
channel manager reads all; the auditor reads all and the audit trail; the admin does
everything; no or an unknown token 401, a role not allowed 403; every error JSON).

Every registered route must be in one of the tables below, so a new route cannot slip
past the matrix unclassified. The reads are checked for what they answer, not only their
status: on a channel where every list route has rows of several distributors
(tests/api_channel.py), a distributor token gets all of its own rows and nothing else,
with or without filters.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from domain.roles import Role
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.api.openapi import document
from streams.auth import TokenRegistry, token_hash
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel
from tests.api_channel import (
    WHOLE,
    list_routes,
    owner_field,
    populated_channel,
    row_field,
    row_filters,
)
from tests.unit.api.ingest_api import Api as IngestApi
from tests.unit.api.ingest_api import csv_text, sale
from tests.unit.parsers.conftest import SAMPLES

TOKENS = {
    "d01": (Role.DISTRIBUTOR, "D01"),
    "cm": (Role.CHANNEL_MANAGER, None),
    "auditor": (Role.AUDITOR, None),
    "admin": (Role.ADMIN, None),
}
#: callers: no token, an unknown token, and one token per role
CALLERS = (None, "bad", "d01", "cm", "auditor", "admin")
VENDOR_ROLES = ("cm", "auditor", "admin")
PROGRAM, PERIOD = "VPA-2026-SI", "2026-Q3"
OWN_STATEMENT = f"/api/rebates/statements/{PROGRAM}/D01/{PERIOD}"
OTHER_STATEMENT = f"/api/rebates/statements/{PROGRAM}/D02/{PERIOD}"

# --- the tables ---------------------------------------------------------------------

#: GET routes everyone may call (they carry no distributor's data)
OPEN = (
    "/health",
    "/metrics",
    "/",
    "/dashboard",
    "/static/{name}",
    "/api/openapi.json",
    "/schemas",
    "/schemas/{name}",
)
#: GET routes every role reads; a distributor sees its own rows only
SCOPED = (
    "/api/snapshot",
    "/api/inventory",
    "/api/inventory/summary",
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
    "/api/reports",
    "/api/compliance",
    "/api/dead-letters/lines",
)
#: GET routes for the vendor's roles only
VENDOR = ("/api/dead-letters",)
#: GET routes of one record: (route, whose) — D01's is the distributor's own
RECORDS = {
    "/api/violations/{violation_id}": ("/api/violations/{v01}", "/api/violations/{v02}"),
    "/api/rebates/statements/{program_id}/{distributor_id}/{period}": (
        OWN_STATEMENT,
        OTHER_STATEMENT,
    ),
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
    # who may submit at all (whose data, below): here with empty bodies
    "/api/ingest/events": [("/api/ingest/events", [], {"d01": 200, "admin": 200})],
    "/api/ingest/csv": [("/api/ingest/csv", b"", {"d01": 422, "admin": 422})],
    "/api/ingest/edi": [("/api/ingest/edi", b"", {"d01": 422, "admin": 422})],
}
#: every caller not named in a WRITES row: no token, an unknown one, the read-only roles
READ_ONLY = {None: 401, "bad": 401, "cm": 403, "auditor": 403}


def expected_read(route: str, caller: str | None, own: bool = True) -> int:
    if route in OPEN:
        return 200
    if caller in (None, "bad"):
        return 401
    if route in AUDIT:
        return 200 if caller in ("auditor", "admin") else 403
    if route in VENDOR or (route in RECORDS and not own):
        return 403 if caller == "d01" else 200
    return 200


# --- the app --------------------------------------------------------------------------


class Api:
    """The app over the generated channel (D01 to D05) on a test server."""

    def __init__(self, channel: EmbeddedChannel, stores: Any = None) -> None:
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


def generated(weeks: int = 8) -> EmbeddedChannel:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=41, weeks=weeks))
    return channel


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """Read-only use: rows for every list route and filter; a closed period gives D01 and
    D02 a statement."""
    client = Api(populated_channel())
    yield client
    client.close()


@pytest.fixture
def fresh() -> Iterator[Api]:
    """For writes: a (smaller) channel of its own, with a closed period."""
    client = Api(generated(weeks=3))
    assert client.call("POST", f"/api/rebates/{PROGRAM}/{PERIOD}/close", "admin")[0] == 202
    yield client
    client.close()


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


# --- every route is classified ------------------------------------------------------


def test_every_route_is_in_the_matrix(api):
    registered = {
        (route.method, route.resource.canonical)
        for route in api.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    classified = {("GET", r) for r in (*OPEN, *SCOPED, *VENDOR, *RECORDS, *AUDIT)}
    classified |= {("POST", r) for r in WRITES}
    assert registered == classified


# --- reads -----------------------------------------------------------------------------

READ_CASES = [
    *((route, route, True) for route in (*SCOPED, *VENDOR)),
    *((route, path, True) for route, path in AUDIT.items()),
    *((route, own, True) for route, (own, _) in RECORDS.items()),
    *((route, other, False) for route, (_, other) in RECORDS.items()),
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("route", "path", "own"), READ_CASES)
def test_read_matrix(api, route, path, own, caller):
    status, content_type, body = api.call("GET", path, caller)
    expected = expected_read(route, caller, own)
    if expected != 200:
        assert_json_error(status, content_type, body, expected)
        return
    assert (status, content_type) == (200, "application/json"), body
    if caller == "d01":
        assert list(foreign_ids(body)) == []


@pytest.mark.parametrize("route", OPEN)
def test_open_routes_need_no_token(api, route):
    path = route.replace("{name}", "dashboard.js")
    status, _, _ = api.call("GET", path, None)
    assert status in (200, 302, 404)  # an asset may be missing; never 401


@pytest.mark.parametrize("route", [*SCOPED, *VENDOR])
def test_the_vendor_roles_read_every_distributor(api, route):
    """The same answer for the three vendor roles, with rows of several distributors."""
    answers = [api.call("GET", route, caller, **whole(route)) for caller in VENDOR_ROLES]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    every = answers[0][2]
    assert all(body == every for _, _, body in answers), route
    if route == "/api/snapshot":
        assert {r["distributor_id"] for r in every["inventory"]} == {f"D0{n}" for n in range(1, 6)}
    elif route in LISTS and route not in NOT_OWNED:
        assert len({row[owner_field(route)] for row in every["rows"]} - {None}) >= 2, route


def filtered_by_distributor() -> list[str]:
    """The GET routes whose document lists a distributor_id filter."""
    found = []
    for route, item in document()["paths"].items():
        names = {p["name"] for p in item.get("get", {}).get("parameters", ()) if p["in"] == "query"}
        if "distributor_id" in names:
            found.append(route)
    return found


def test_every_scoped_route_but_two_filters_by_distributor():
    assert set(SCOPED) - set(filtered_by_distributor()) == {"/api/snapshot", "/api/products"}


@pytest.mark.parametrize("route", filtered_by_distributor())
@pytest.mark.parametrize(
    "params",
    [
        {"distributor_id": "D02"},
        {"distributor_id": ""},
        {"distributor_id": "D01|"},
        {"distributor_id": "D0"},
        {"distributor_id": "d01"},
    ],
)
def test_a_distributor_cannot_filter_its_way_to_another(api, route, params):
    """Any distributor_id but its own is refused, whatever the route does with it."""
    status, content_type, body = api.call("GET", route, "d01", **params)
    assert_json_error(status, content_type, body, 403)


@pytest.mark.parametrize("route", SCOPED)
@pytest.mark.parametrize(
    "params",
    [
        {"distributor_id": "D01"},
        {"scope": "distributor", "granularity": "month", "n": "50"},
        {"as_of": "2030-01-01"},
        {"status": "detected", "severity": "critical"},
    ],
)
def test_other_filters_never_widen_a_distributors_view(api, route, params):
    status, _, body = api.call("GET", route, "d01", **params)
    if status == 400:  # a filter the route does not take in that form
        return
    assert status == 200, body
    assert list(foreign_ids(body)) == []


def test_a_repeated_distributor_filter_is_read_as_the_first(api):
    """?distributor_id=D01&distributor_id=D02: the check and the filter read one value."""
    for route in filtered_by_distributor():
        status, _, body = api.call("GET", route, "d01", distributor_id=["D01", "D02"])
        assert status == 200 and list(foreign_ids(body)) == [], route
        status, _, body = api.call("GET", route, "d01", distributor_id=["D02", "D01"])
        assert status == 403, route


def test_channel_wide_sell_through_is_the_vendors(api):
    status, content_type, body = api.call("GET", "/api/sell-through", "d01", scope="channel")
    assert_json_error(status, content_type, body, 403)


#: list routes a distributor reads (the vendor-only one is refused: test_read_matrix)
LISTS = [route for route in list_routes() if route not in VENDOR]
#: lists whose rows are no one distributor's: aggregates over what the caller may read
AGGREGATES = ("/api/violations/summary", "/api/resellers/growth")
#: the catalog: the same for everyone
CATALOG = ("/api/products",)
NOT_OWNED = (*AGGREGATES, *CATALOG)
#: lists that also hold rows of no distributor (general prices), which everyone reads
SHARED = ("/api/prices",)


def whole(route: str) -> dict[str, str]:
    """Query of a read that answers every row (?limit=10000, every reseller ranked)."""
    return {"limit": "10000", **WHOLE.get(route, {})} if route in list_routes() else {}


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


def test_the_lists_are_classified():
    assert set(LISTS) <= set(SCOPED)
    assert set(NOT_OWNED) <= set(LISTS)


@pytest.mark.parametrize("route", LISTS)
def test_a_distributor_reads_all_of_its_own_rows_and_no_others(api, route):
    """Every row of a distributor's answer is its own, and every row of its own that the
    vendor sees is in it, in the same order; aggregates are its own data's."""
    every = rows_of(api, route, "cm")
    got = rows_of(api, route, "d01")
    assert got, f"the fixture gives D01 no rows of {route}: nothing to check"
    if route in CATALOG:
        assert got == every
    elif route in AGGREGATES:  # counts over its own data: the vendor's for D01 alone
        assert got == rows_of(api, route, "cm", distributor_id="D01")
        assert got != every, "the fixture gives the other distributors nothing to count"
    else:
        owner = owner_field(route)
        assert {row[owner] for row in every} - {"D01", None}, "no other distributor's rows"
        assert [row for row in got if row[owner] not in ("D01", None)] == []
        assert got == mine(route, every)


def test_a_distributor_reads_its_own_summary_totals(api):
    """The channel totals of the inventory summary are its own distributor's."""
    status, _, body = api.call("GET", "/api/inventory/summary", "d01")
    assert status == 200
    vendor = api.call("GET", "/api/inventory/summary", "cm", distributor_id="D01")[2]
    everyone = api.call("GET", "/api/inventory/summary", "cm")[2]
    assert body["channel"] == vendor["channel"] != everyone["channel"]
    assert body["channel"]["distributors"] == 1


def test_a_distributors_snapshot_holds_its_own_rows_only(api):
    """Each section: the vendor's rows of D01 (none of a section of no distributor's rows,
    such as the dead-letter counts)."""
    status, _, got = api.call("GET", "/api/snapshot", "d01")
    assert status == 200
    every = api.call("GET", "/api/snapshot", "cm")[2]
    assert got.keys() == every.keys()
    owned = []
    for section, rows in every.items():
        expected = [row for row in rows if row.get("distributor_id") == "D01"]
        assert got[section] == expected, section
        if any("distributor_id" in row for row in rows):
            assert expected and expected != rows, f"{section}: D01's rows and others' wanted"
            owned.append(section)
    assert len(owned) >= 9, owned


DISTRIBUTOR_FILTER_CASES = [
    (route, name)
    for route in LISTS
    for name in row_filters(route)
    if name != "distributor_id" and route not in NOT_OWNED
]


@pytest.mark.parametrize(("route", "name"), DISTRIBUTOR_FILTER_CASES)
def test_a_distributors_filters_narrow_its_own_rows(api, route, name):
    """Every value of the filter found in anyone's rows: a D01 token gets exactly its own
    rows with it (none for another distributor's value)."""
    every = rows_of(api, route, "cm")
    own = mine(route, every)
    field = row_field(route, name)
    values = {str(row[field]) for row in every if row.get(field) is not None}
    assert {str(row[field]) for row in own if row.get(field) is not None}, "nothing to narrow"
    for value in sorted(values):
        got = rows_of(api, route, "d01", **{name: value})
        assert got == [row for row in own if str(row.get(field)) == value], (name, value)


# --- writes ----------------------------------------------------------------------------

WRITE_CASES = [
    (route, path, body, caller, {**READ_ONLY, **expected}.get(caller))
    for route, rows in WRITES.items()
    for path, body, expected in rows
    for caller in CALLERS
]


@pytest.mark.parametrize(("route", "path", "body", "caller", "expected"), WRITE_CASES)
def test_write_matrix(fresh, route, path, body, caller, expected):
    status, content_type, answer = fresh.call("POST", path, caller, body)
    if expected >= 400:
        assert_json_error(status, content_type, answer, expected)
    else:
        assert status == expected, answer


# --- ingest: whose data --------------------------------------------------------------

WEEKLY_867 = (SAMPLES / "867_weekly.edi").read_bytes()
WEEKLY_852 = (SAMPLES / "852_weekly.edi").read_bytes()
MY_CSV_LINE = "C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07"
THEIR_CSV_LINE = b"DIST-002,C-2,RES-1,WIDGET-100,1,12.50,USD,2026-04-07\n"


def named(body: bytes, distributor: bytes = b"DIST-002") -> bytes:
    return body.replace(b"*91*DIST-001", b"*91*" + distributor)


#: a DIST-001 token sending DIST-002's data, any way it can be named
FOREIGN: dict[str, tuple[str, Any, dict[str, str]]] = {
    "event": ("/api/ingest/events", [sale("A-1"), sale("A-2", distributor="DIST-002")], {}),
    "invalid event": (
        "/api/ingest/events",
        [sale("A-3", distributor="DIST-002", quantity="many")],
        {},
    ),
    "report header event": (
        "/api/ingest/events",
        [
            {
                "event_type": "ReportSubmitted",
                "event_id": "6f1c1e0e-7a8b-4c1d-9e2f-000000000001",
                "occurred_at": "2026-04-07T10:00:00Z",
                "source": "api",
                "distributor_id": "DIST-002",
                "report_id": "R-1",
                "period_start": "2026-04-06",
                "period_end": "2026-04-12",
                "line_count": 0,
                "submitted_at": "2026-04-07T10:00:00Z",
            }
        ],
        {},
    ),
    "events on behalf": ("/api/ingest/events", [sale("A-4")], {"distributor_id": "DIST-002"}),
    "events as a report": (
        "/api/ingest/events",
        {"events": [sale("A-5", distributor="DIST-002")], "report": {"report_id": "R-2"}},
        {},
    ),
    "csv line": ("/api/ingest/csv", csv_text(MY_CSV_LINE) + THEIR_CSV_LINE, {}),
    "csv first line": ("/api/ingest/csv", csv_text(MY_CSV_LINE, distributor="DIST-002"), {}),
    "csv on behalf": ("/api/ingest/csv", csv_text(MY_CSV_LINE), {"distributor_id": "DIST-002"}),
    "867 N1*DS": ("/api/ingest/edi", named(WEEKLY_867), {}),
    # another report-level error comes first: the foreign distributor still refuses it
    "867 N1*DS after a bad date": (
        "/api/ingest/edi",
        named(WEEKLY_867).replace(b"DTM*090*20260330~", b"DTM*090*2026XX30~"),
        {},
    ),
    "867 on behalf": ("/api/ingest/edi", WEEKLY_867, {"distributor_id": "DIST-002"}),
    "852 N1*DS": ("/api/ingest/edi", named(WEEKLY_852), {}),
    "852 N1*RL": (
        "/api/ingest/edi",
        WEEKLY_852.replace(
            b"N1*DS*ACME DISTRIBUTION*91*DIST-001~", b"N1*ZZ*X*91*DIST-001~"
        ).replace(b"92*AUS-DC~", b"92*DIST-002~"),
        {},
    ),
}


@pytest.fixture
def ingest() -> Iterator[IngestApi]:
    client = IngestApi()
    yield client
    client.close()


@pytest.mark.parametrize("case", FOREIGN)
def test_a_distributor_never_writes_another_distributors_data(ingest, case):
    path, body, params = FOREIGN[case]
    status, answer = ingest.post(path, body, "d1", **params)
    assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
    assert ingest.published == []
    status, answer = ingest.post(path, body, "admin", **params)  # the admin may
    assert status in (200, 422), answer


@pytest.mark.parametrize(
    ("path", "body", "params"),
    [
        ("/api/ingest/csv", csv_text(MY_CSV_LINE), {"report_id": "W2", "replaces": "W1"}),
        (
            "/api/ingest/events",
            {"events": [sale("A-1")], "report": {"report_id": "W2", "replaces": "W1"}},
            {},
        ),
    ],
)
def test_a_replacement_never_touches_another_distributors_report(ingest, path, body, params):
    """DIST-002's report W1; DIST-001 sends W2 'replacing W1': its own W1, none here."""
    theirs = csv_text("T-1,RES-1,WIDGET-100,10,12.50,USD,2026-04-07", distributor="DIST-002")
    ingest.ok("/api/ingest/csv", theirs, "d2", report_id="W1")
    before = ingest.channel.snapshot()
    ingest.published.clear()
    answer = ingest.ok(path, body, "d1", **params)
    assert answer["reports"][0]["distributor_id"] == "DIST-001"
    after = ingest.channel.snapshot()
    for key in ("inventory", "reports", "sell_in_vs_through", "quality"):
        old = [r for r in before[key] if r.get("distributor_id") == "DIST-002"]
        new = [r for r in after[key] if r.get("distributor_id") == "DIST-002"]
        assert old == new, key
    assert all(
        e.distributor_id == "DIST-001" for e in ingest.events() if hasattr(e, "distributor_id")
    )


# --- every error is JSON ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "caller", "expected"),
    [
        ("GET", "/api/nope", "cm", 404),
        ("GET", "/api/violations/not-a-uuid", "cm", 404),
        ("GET", "/api/violations/00000000-0000-0000-0000-000000000000", "cm", 404),
        ("GET", "/api/audit/nope/x/history", "auditor", 400),
        ("DELETE", "/api/snapshot", "cm", 405),
        ("GET", "/api/ingest/events", "cm", 405),
        ("PUT", "/api/violations/{v01}/acknowledge", "admin", 405),
        ("POST", "/api/violations/{v01}/delete", "admin", 404),
        ("GET", "/api/inventory?limit=0", "cm", 400),
        ("GET", "/api/nope", None, 401),
    ],
)
def test_errors_are_json(api, method, path, caller, expected):
    status, content_type, body = api.call(method, path, caller)
    assert_json_error(status, content_type, body, expected)


@pytest.mark.parametrize("caller", [None, "bad"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        *(("GET", route) for route in (*SCOPED, *VENDOR, *AUDIT.values())),
        *(("POST", path) for rows in WRITES.values() for path, _, _ in rows),
    ],
)
def test_every_401_asks_for_a_bearer_token(api, method, path, caller):
    status, _, headers, body = api.exchange(method, path, caller)
    assert status == 401, body
    assert headers["WWW-Authenticate"].split()[0] == "Bearer"


def test_a_body_too_large_is_a_json_413(api):
    big = b'{"reason": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    status, content_type, body = api.call("POST", "/api/violations/{v01}/dispute", "admin", big)
    assert_json_error(status, content_type, body, 413)


def test_an_unexpected_failure_is_a_json_500():
    def broken() -> Any:
        raise RuntimeError("boom")

    client = Api(EmbeddedChannel(), stores=broken)
    try:
        status, content_type, body = client.call("GET", "/api/inventory", "cm")
        assert_json_error(status, content_type, body, 500)
        assert "boom" not in orjson.dumps(body).decode()  # no internals leak out
    finally:
        client.close()
