"""API contract per endpoint and role, driven by the OpenAPI document: every paged list
endpoint pages alike, rejects bad paging with a JSON 400, honours every filter it
documents (on a channel that gives each route and filter rows to check, tests/api_channel.py:
a route or filter with nothing to check fails), answers 401 without a token, and shows a
distributor only its own rows."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from domain.roles import Role
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry, token_hash
from streams.runners.embedded import EmbeddedChannel
from tests.api_channel import (
    AGGREGATED,
    PAGING,
    SHAPING,
    WHOLE,
    list_routes,
    owner_field,
    populated_channel,
    query_parameters,
    required,
    row_field,
    row_filters,
)
from tests.unit.api.authz_matrix import written

TOKENS = {
    "cm": (Role.CHANNEL_MANAGER, None),
    "auditor": (Role.AUDITOR, None),
    "admin": (Role.ADMIN, None),
    "d01": (Role.DISTRIBUTOR, "D01"),
}
VENDOR_ROLES = ("cm", "auditor", "admin")
#: list endpoints only the vendor's roles may read
VENDOR_ONLY = {
    "/api/dead-letters",
    "/api/scorecard",
    "/api/resellers/masters",
    "/api/resellers/proposals",
    "/api/end-customers/masters",
}


def paged_reads() -> list[str]:
    """GET endpoints without path parameters whose answer is a page of rows."""
    return list_routes()


class Api:
    """The app on a test server, called synchronously from the tests."""

    def __init__(self, channel: EmbeddedChannel) -> None:
        registry = TokenRegistry(
            [
                {"sha256": token_hash(token), "role": role.value, "actor": token}
                | ({"distributor_id": distributor} if distributor else {})
                for token, (role, distributor) in TOKENS.items()
            ]
        )
        context = ApiContext.of_channel(channel, registry, "test")
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(make_web_app(context)), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def get(self, path: str, token: str | None = "cm", **params: Any) -> tuple[int, Any]:
        async def go() -> tuple[int, Any]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await self.client.get(path, params=params, headers=headers)
            return response.status, await response.json()

        return self.loop.run_until_complete(go())

    def ok(self, path: str, token: str = "cm", **params: Any) -> Any:
        status, body = self.get(path, token, **params)
        assert status == 200, (path, params, body)
        return body

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    client = Api(populated_channel())
    yield client
    client.close()


def test_the_document_lists_every_projection_read():
    assert set(paged_reads()) >= {
        "/api/inventory", "/api/inventory/summary", "/api/sell-through", "/api/quality",
        "/api/dead-letters", "/api/products", "/api/violations", "/api/violations/summary",
        "/api/rebates", "/api/rebates/watchlist", "/api/prices", "/api/unpriced",
        "/api/price-protection", "/api/resellers", "/api/resellers/growth",
        "/api/resellers/top", "/api/reports", "/api/compliance",
    }  # fmt: skip


@pytest.mark.parametrize("path", paged_reads())
def test_pages_are_consistent(api, path):
    needed = WHOLE.get(path, {})
    every = api.ok(path, **whole(path))
    assert every["total"] == len(every["rows"]) >= 3, "the fixture gives too few rows to page"
    assert every["offset"] == 0
    page = api.ok(path, **needed, limit=2, offset=1)
    assert (page["total"], page["limit"], page["offset"]) == (every["total"], 2, 1)
    assert page["rows"] == every["rows"][1:3]
    assert api.ok(path, **needed)["limit"] == 1000  # the default


@pytest.mark.parametrize("path", paged_reads())
@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "10001"}, {"limit": "ten"}, {"offset": "-1"}]
)
def test_bad_paging_is_a_json_400(api, path, params):
    status, body = api.get(path, **{**WHOLE.get(path, {}), **params})
    assert status == 400
    assert body["error"]["status"] == 400 and body["error"]["message"]


@pytest.mark.parametrize("path", paged_reads())
def test_every_documented_parameter_is_checked(path):
    """Paging, a parameter that shapes the answer, a filter of the rows (checked below with
    every value the rows carry) or a filter of an aggregate (checked by adding up): a new
    parameter must be put in one of them (tests/api_channel.py)."""
    names = {p["name"] for p in query_parameters(path)}
    aggregated = {name for route, name in AGGREGATED if route == path}
    assert names == PAGING | (names & SHAPING) | aggregated | set(row_filters(path)) | required(
        path
    )


def whole(path: str) -> dict[str, str]:
    """The parameters of a read that answers every row of a route."""
    return {"limit": "10000", **WHOLE.get(path, {})}


ROW_FILTER_CASES = [(path, name) for path in paged_reads() for name in row_filters(path)]


@pytest.mark.parametrize("token", VENDOR_ROLES)
@pytest.mark.parametrize(("path", "name"), ROW_FILTER_CASES)
def test_documented_filters_narrow_the_rows_exactly(api, path, name, token):
    """Each documented filter, with every value the rows carry (and every value it lists):
    the rows are exactly the unfiltered rows with that value, in the same order."""
    rows = api.ok(path, token, **whole(path))["rows"]
    field = row_field(path, name)
    values = {written(row[field]) for row in rows if row.get(field) is not None}
    assert len(values) >= 2, f"the fixture gives {path} {sorted(values)} as {field}: no test"
    (parameter,) = (p for p in query_parameters(path) if p["name"] == name)
    listed = set(parameter["schema"].get("enum", ()))
    for value in sorted(values | listed):
        body = api.ok(path, token, **whole(path), **{name: value})
        expected = [row for row in rows if written(row.get(field)) == value]
        assert body["rows"] == expected, (name, value)
        assert body["total"] == len(expected), (name, value)


@pytest.mark.parametrize("scope", [{}, {"scope": "channel"}])
def test_sell_through_by_sku_adds_up_to_every_sku(api, scope):
    """The sku filter of sell-through (its rows carry no sku): the answers for each SKU
    of the catalog add up to the unfiltered answer, and none is the whole."""
    skus = [row["sku"] for row in api.ok("/api/products", limit=10000)["rows"]]

    def totals(**filters: str) -> Counter[tuple[Any, ...]]:
        found: Counter[tuple[Any, ...]] = Counter()
        for row in api.ok("/api/sell-through", limit=10000, **scope, **filters)["rows"]:
            for measure in ("sell_in", "sell_through"):
                found[row.get("distributor_id"), row["period"], measure] += row[measure]
        return found

    def nonzero(counts: Counter[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
        return {key: n for key, n in counts.items() if n}  # returns are negative: kept

    every = totals()
    assert nonzero(every), "no sell-through to check"
    added: Counter[tuple[Any, ...]] = Counter()
    for sku in skus:
        one = totals(sku=sku)
        assert nonzero(one) != nonzero(every), sku
        added.update(one)
    assert nonzero(added) == nonzero(every)


def test_the_violation_summary_counts_what_the_filters_select(api):
    """Each distributor and each SKU of the violations: the summary counts the listed
    violations that have it, by severity and by status."""
    listed = api.ok("/api/violations", limit=10000)["rows"]
    cases = [
        (name, value)
        for name in ("distributor_id", "sku")
        for value in sorted({row[name] for row in listed})
    ]
    assert len({value for name, value in cases if name == "distributor_id"}) >= 2
    for name, value in cases:
        summary = api.ok("/api/violations/summary", **{name: value})["rows"]
        chosen = [row for row in listed if row[name] == value]
        assert sum(row["count"] for row in summary) == len(chosen), (name, value)
        for row in summary:
            mine = [v for v in chosen if v["severity"] == row["severity"]]
            assert row["count"] == len(mine), (name, value)
            assert row["by_status"] == dict(Counter(v["status"] for v in mine)), (name, value)


def test_reseller_growth_of_each_distributor_adds_up_to_the_channel(api):
    """The distributor_id filter of growth (its rows carry no distributor): each
    distributor's months add up to the channel's, and none is the channel's."""
    channel = api.ok("/api/resellers/growth")["rows"]
    distributors = [row["distributor_id"] for row in api.ok("/api/resellers")["rows"]]
    assert len(distributors) >= 2 and channel
    added: Counter[tuple[str, str]] = Counter()
    for distributor in distributors:
        rows = api.ok("/api/resellers/growth", distributor_id=distributor)["rows"]
        assert rows and rows != channel, distributor
        for row in rows:
            for measure in ("onboarded", "first_sales"):
                added[row["month"], measure] += row[measure]
    expected = Counter(
        {(row["month"], m): row[m] for row in channel for m in ("onboarded", "first_sales")}
    )
    assert +added == +expected


def test_top_resellers_of_each_month_add_up_to_all_time(api):
    """The period filter of the ranking (its rows carry no period): every reseller's
    revenue and lines of all time are the sum of its months', and the quarter and the
    year that hold every month rank as all time."""

    def ranking(**period: str) -> dict[tuple[str, str, str], tuple[Decimal, int]]:
        rows = api.ok("/api/resellers/top", **whole("/api/resellers/top"), **period)["rows"]
        return {
            (r["distributor_id"], r["reseller_id"], r["currency"]): (
                Decimal(r["revenue"]),
                r["lines"],
            )
            for r in rows
        }

    every = ranking()
    added: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    months = 0
    for month in ("2026-06", "2026-07", "2026-08", "2026-09"):
        one = ranking(period=month)
        assert one != every, month
        months += bool(one)
        for key, (revenue, lines) in one.items():
            total, count = added.get(key, (Decimal(0), 0))
            added[key] = (total + revenue, count + lines)
    assert months >= 2, "the fixture sells in fewer than two months"
    assert added == every
    assert ranking(period="2026-Q3") == every == ranking(period="2026")
    assert ranking(period="2025") == {}


@pytest.mark.parametrize("path", paged_reads())
def test_no_token_is_a_401(api, path):
    status, body = api.get(path, token=None)
    assert (status, body["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize("path", paged_reads())
def test_a_distributor_reads_only_its_own_rows(api, path):
    if path in VENDOR_ONLY:
        assert api.get(path, "d01")[0] == 403
        return
    rows = api.ok(path, "d01", **whole(path))["rows"]
    owner = owner_field(path)
    assert all(row.get(owner, "D01") in ("D01", None) for row in rows)
    if "distributor_id" in {p["name"] for p in query_parameters(path)}:
        status, body = api.get(path, "d01", distributor_id="D02")
        assert (status, body["error"]["code"]) == (403, "forbidden")


@pytest.mark.parametrize("token", VENDOR_ROLES)
def test_the_vendor_roles_read_every_distributor(api, token):
    rows = api.ok("/api/inventory/summary", token)["rows"]
    assert [row["distributor_id"] for row in rows] == ["D01", "D02", "D03", "D04", "D05"]
    assert api.get("/api/dead-letters", token)[0] == 200


def test_reseller_growth_and_reports_are_scoped_to_a_distributor_token(api):
    mine = api.ok("/api/resellers/growth", "d01")["rows"]
    assert mine == api.ok("/api/resellers/growth", distributor_id="D01")["rows"]
    assert mine != api.ok("/api/resellers/growth")["rows"]
    assert {r["distributor_id"] for r in api.ok("/api/reports", "d01", limit=10000)["rows"]} == {
        "D01"
    }
    assert {r["distributor_id"] for r in api.ok("/api/resellers/top", "d01")["rows"]} == {"D01"}


def test_channel_inventory_totals_are_the_sum_of_the_distributors(api):
    body = api.ok("/api/inventory/summary")
    channel, rows = body["channel"], body["rows"]
    assert channel["distributors"] == len(rows) == 5
    assert channel["expected_on_hand"] == sum(row["expected_on_hand"] for row in rows)
    assert channel["sold_last_4_weeks"] == sum(row["sold_last_4_weeks"] for row in rows)
    inventory = api.ok("/api/inventory", limit=10000)["rows"]
    assert channel["expected_on_hand"] == sum(row["expected_on_hand"] for row in inventory)


def test_violation_summary_counts_the_violation_list(api):
    summary = api.ok("/api/violations/summary")["rows"]
    assert [row["severity"] for row in summary] == ["minor", "major", "critical"]
    for row in summary:
        listed = api.ok("/api/violations", severity=row["severity"], limit=10000)
        assert row["count"] == listed["total"] == sum(row["by_status"].values())


def test_a_violation_carries_its_sale(api):
    first = api.ok("/api/violations", limit=1)["rows"][0]
    found = api.ok(f"/api/violations/{first['violation_id']}")
    assert found["sale"]["transaction_id"] == first["transaction_id"]
    assert found["sale"]["quantity"] > 0 and found["price"]["floor_price"] == first["floor_price"]
    status, _ = api.get(f"/api/violations/{first['violation_id']}", "d01")
    assert status == (200 if first["distributor_id"] == "D01" else 403)


def test_compliance_lists_reporting_weeks_by_status(api):
    weeks = api.ok("/api/compliance", limit=10000)["rows"]
    quality = {row["distributor_id"]: row for row in api.ok("/api/quality")["rows"]}
    for distributor, row in quality.items():
        mine = [w for w in weeks if w["distributor_id"] == distributor]
        assert sum(w["status"] == "on_time" for w in mine) == row["reports_on_time"]
        assert sum(w["status"] == "late" for w in mine) == row["reports_late"]
        assert sum(w["status"] == "missing" for w in mine) == row["weeks_missing"]


def test_sell_through_channel_scope_is_for_the_vendor(api):
    status, body = api.get("/api/sell-through", "d01", scope="channel")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    channel = api.ok("/api/sell-through", scope="channel", granularity="month")["rows"]
    per_distributor = api.ok("/api/sell-through", granularity="month", limit=10000)["rows"]
    assert sum(r["sell_through"] for r in channel) == sum(
        r["sell_through"] for r in per_distributor
    )
