"""A read about a distributor the channel has never heard of (`D1` where they are D01...) or
a rebate program nobody defined is a 404 naming it, on every route that takes one; a known
one with no rows is an empty page; a distributor token asking about another one is refused
(403) whether that one exists or not, and one asking about a program not its own is told it
is not known."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.api.known_ids import FILTERS
from streams.api.openapi_operations import KNOWN_IDS, op
from streams.api.openapi_operations import PROGRAM as PROGRAM_QUERY
from streams.api.openapi_paths import PATHS
from streams.health import Health
from streams.runners.embedded import EmbeddedChannel
from tests.unit.api.authz_matrix import OPEN, PROGRAM, Api
from tests.unit.rebate_cases import program

#: every GET route that takes ?distributor_id= (the OpenAPI document is the list)
FILTERED = sorted(
    route
    for route, operations in PATHS.items()
    if any(p["name"] == "distributor_id" for p in operations.get("get", {}).get("parameters", ()))
    and "{" not in route
    and route not in OPEN
)


def test_routes_are_found():
    assert {"/api/inventory", "/api/dead-letters/lines", "/api/claims"} <= set(FILTERED)


@pytest.mark.parametrize("route", FILTERED)
def test_an_unknown_distributor_is_not_found(api, route):
    status, _, body = api.call("GET", route, "cm", distributor_id="D1")
    assert (status, body) == (
        404,
        {"error": {"status": 404, "code": "not_found", "message": "no distributor D1 is known"}},
    )


def test_a_known_distributor_with_no_rows_is_an_empty_page(api):
    status, _, body = api.call("GET", "/api/inventory", "cm", distributor_id="D01", sku="NONE")
    assert (status, body["rows"], body["total"]) == (200, [], 0)


def test_a_distributor_token_learns_nothing_of_others(api):
    for other in ("D1", "D02"):
        status, _, body = api.call("GET", "/api/inventory", "d01", distributor_id=other)
        assert status == 403, body


# --- ?program_id= -----------------------------------------------------------------------

#: every GET route that takes ?program_id=
BY_PROGRAM = sorted(
    route
    for route, operations in PATHS.items()
    if any(p["name"] == "program_id" for p in operations.get("get", {}).get("parameters", ()))
    and "{" not in route
)
NO_PROGRAM = {
    "error": {"status": 404, "code": "not_found", "message": "no rebate program NOPE is known"}
}


def test_program_routes_are_found():
    assert BY_PROGRAM == ["/api/rebates", "/api/rebates/watchlist"]


@pytest.mark.parametrize("route", BY_PROGRAM)
@pytest.mark.parametrize("caller", ["cm", "d01"])
def test_an_undefined_program_is_not_found(api, route, caller):
    assert api.call("GET", route, caller, program_id="NOPE")[::2] == (404, NO_PROGRAM)


def test_a_defined_program_with_no_rows_is_an_empty_page(api):
    status, _, body = api.call("GET", "/api/rebates", "cm", program_id=PROGRAM, period="2020-Q1")
    assert (status, body["rows"], body["total"]) == (200, [], 0)


def test_the_404_is_documented():
    """On a read filtered by any of the ids the middleware checks, whatever else it takes."""
    assert tuple(known.parameter for known in FILTERS) == KNOWN_IDS
    assert "404" in op("a read", "rebates", None, PROGRAM_QUERY)["responses"]


@pytest.fixture(scope="module")
def d02_only() -> Iterator[Api]:
    """A channel with one program, of D02's only."""
    channel = EmbeddedChannel()
    channel.feed_events([program(program_id="D02-ONLY", distributor_ids=["D02"])])
    client = Api(channel)
    yield client
    client.close()


def test_a_program_not_its_own_is_unknown_to_a_distributor(d02_only):
    """As unknown as one never defined: the answer does not tell it others' programs exist."""
    status, _, body = d02_only.call("GET", "/api/rebates", "d01", program_id="D02-ONLY")
    assert (status, body["error"]["message"]) == (404, "no rebate program D02-ONLY is known")
    status, _, body = d02_only.call("GET", "/api/rebates", "cm", program_id="D02-ONLY")
    assert (status, body["rows"]) == (200, [])


def test_a_program_not_read_yet_is_a_retry_not_a_404():
    """A worker just started: its reference replica may not have read the program yet."""
    loading = Health(None, reference=lambda: {"loaded": False, "lag_records": 12})
    client = Api(EmbeddedChannel(), health=loading)
    try:
        status, _, headers, body = client.exchange("GET", "/api/rebates", "cm", program_id="P1")
        assert (status, headers["Retry-After"]) == (503, "5"), body
        assert "rebate programs are still loading" in body["error"]["message"]
    finally:
        client.close()
