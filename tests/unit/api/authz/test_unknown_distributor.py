"""A read about a distributor the channel has never heard of (`D1` where they are D01...) is
a 404 naming it, on every route that takes one; a known distributor with no rows is an
empty page; a distributor token asking about another one is refused (403) whether that one
exists or not."""

from __future__ import annotations

import pytest

from streams.api.openapi_paths import PATHS
from tests.unit.api.authz_matrix import OPEN

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
