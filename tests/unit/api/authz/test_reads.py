"""The matrix's reads: every route classified, each caller's status on each read, the open
routes, and filters that never widen a distributor's view."""

from __future__ import annotations

import pytest

from streams.api.openapi import document
from tests.api_channel import (
    owner_field,
)
from tests.unit.api.authz_matrix import (
    AUDIT,
    CALLERS,
    LISTS,
    LIVE,
    MEDIA,
    NOT_OWNED,
    OPEN,
    RECORDS,
    SCOPED,
    VENDOR,
    VENDOR_ROLES,
    WRITES,
    assert_json_error,
    expected_read,
    foreign_ids,
    whole,
)

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
    status, content_type, body = api.call("GET", path, caller, **whole(route))
    expected = expected_read(route, caller, own)
    if expected != 200:
        assert_json_error(status, content_type, body, expected)
        return
    assert (status, content_type) == (200, MEDIA.get(route, "application/json")), body
    if caller == "d01":
        assert list(foreign_ids(body)) == []


@pytest.mark.parametrize("route", OPEN)
def test_open_routes_need_no_token(api, route):
    path = route.replace("{name}", "dashboard.js")
    status, _, _ = api.call("GET", path, None)
    assert status in (200, 302, 404)  # an asset may be missing; never 401


@pytest.mark.parametrize("route", [*SCOPED, *(route for route in VENDOR if route not in LIVE)])
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


def test_every_scoped_route_but_the_snapshot_and_reference_data_filters_by_distributor():
    assert set(SCOPED) - set(filtered_by_distributor()) == {
        "/api/snapshot",
        "/api/products",
        "/api/exchange-rates",
    }


@pytest.mark.parametrize("route", filtered_by_distributor())
@pytest.mark.parametrize(
    "params",
    [
        {"distributor_id": "D02"},
        {"distributor_id": "D01|"},
        {"distributor_id": "D0"},
        {"distributor_id": "d01"},
    ],
)
def test_a_distributor_cannot_filter_its_way_to_another(api, route, params):
    """Any distributor_id but its own is refused, whatever the route does with it."""
    status, content_type, body = api.call("GET", route, "d01", **params)
    assert_json_error(status, content_type, body, 403)


@pytest.mark.parametrize("route", filtered_by_distributor())
def test_an_empty_distributor_id_is_refused_to_a_distributor_too(api, route):
    """As to everyone (tests/unit/api/test_query_parameters.py): not its own rows, nor any."""
    status, content_type, body = api.call("GET", route, "d01", distributor_id="")
    assert_json_error(status, content_type, body, 400)


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
    for route in (route for route in filtered_by_distributor() if route not in VENDOR):
        status, _, body = api.call("GET", route, "d01", distributor_id=["D01", "D02"])
        assert status == 200 and list(foreign_ids(body)) == [], route
        status, _, body = api.call("GET", route, "d01", distributor_id=["D02", "D01"])
        assert status == 403, route


def test_channel_wide_sell_through_is_the_vendors(api):
    status, content_type, body = api.call("GET", "/api/sell-through", "d01", scope="channel")
    assert_json_error(status, content_type, body, 403)


#: list routes a distributor reads (the vendor-only one is refused: test_read_matrix)
