"""API contract per endpoint and role, driven by the OpenAPI document: every paged list
endpoint pages alike, rejects bad paging with a JSON 400, honours the filters it
documents, answers 401 without a token, and shows a distributor only its own rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from domain.roles import Role
from streams.auth import TokenRegistry, token_hash
from streams.embedded import EmbeddedChannel
from streams.generator import generate_channel
from streams.openapi import document
from streams.web import ApiContext, make_web_app

TOKENS = {
    "cm": (Role.CHANNEL_MANAGER, None),
    "auditor": (Role.AUDITOR, None),
    "admin": (Role.ADMIN, None),
    "d01": (Role.DISTRIBUTOR, "D01"),
}
#: filters whose values the rows carry under the same name
ROW_FILTERS = ("distributor_id", "sku", "severity", "status", "program_id", "period", "reason")
#: list endpoints only the vendor's roles may read
VENDOR_ONLY = {"/api/dead-letters"}
#: rankings: a filter chooses what is ranked (the top 10 of D01), not rows of the whole top
RANKINGS = {"/api/resellers/top"}


def paged_reads() -> list[str]:
    """GET endpoints without path parameters whose answer is a page of rows."""
    found = []
    for path, item in document()["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in path:
            continue
        names = {p["name"] for p in operation["parameters"]}
        if {"limit", "offset"} <= names:
            found.append(path)
    return found


def query_filters(path: str) -> list[str]:
    parameters = document()["paths"][path]["get"]["parameters"]
    return [p["name"] for p in parameters if p["in"] == "query" and p["name"] in ROW_FILTERS]


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
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=41, weeks=8))
    client = Api(channel)
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
    whole = api.ok(path, limit=10000)
    assert whole["total"] == len(whole["rows"]) and whole["offset"] == 0
    page = api.ok(path, limit=2, offset=1)
    assert (page["total"], page["limit"], page["offset"]) == (whole["total"], 2, 1)
    assert page["rows"] == whole["rows"][1:3]
    assert api.ok(path)["limit"] == 1000  # the default


@pytest.mark.parametrize("path", paged_reads())
@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "10001"}, {"limit": "ten"}, {"offset": "-1"}]
)
def test_bad_paging_is_a_json_400(api, path, params):
    status, body = api.get(path, **params)
    assert status == 400
    assert body["error"]["status"] == 400 and body["error"]["message"]


@pytest.mark.parametrize("path", paged_reads())
def test_documented_filters_narrow_the_rows(api, path):
    """Each documented filter the rows carry, tried with a value that occurs."""
    rows = api.ok(path, limit=10000)["rows"]
    for name in query_filters(path):
        values = {row[name] for row in rows if row.get(name) is not None}
        if not values:
            continue  # an aggregate without the column (tested below), or no such rows
        value = sorted(map(str, values))[-1]
        narrowed = api.ok(path, limit=10000, **{name: value})["rows"]
        assert narrowed and all(str(row[name]) == value for row in narrowed), name
        if path not in RANKINGS:
            assert len(narrowed) == sum(str(row.get(name)) == value for row in rows), name


@pytest.mark.parametrize("filters", [{"distributor_id": "D02"}, {"sku": "SKU-0007"}])
def test_the_violation_summary_counts_what_the_filters_select(api, filters):
    summary = api.ok("/api/violations/summary", **filters)["rows"]
    listed = api.ok("/api/violations", limit=10000, **filters)["rows"]
    assert listed and sum(row["count"] for row in summary) == len(listed)
    for row in summary:
        assert row["count"] == sum(v["severity"] == row["severity"] for v in listed)


@pytest.mark.parametrize("path", paged_reads())
def test_no_token_is_a_401(api, path):
    status, body = api.get(path, token=None)
    assert (status, body["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize("path", paged_reads())
def test_a_distributor_reads_only_its_own_rows(api, path):
    if path in VENDOR_ONLY:
        assert api.get(path, "d01")[0] == 403
        return
    rows = api.ok(path, "d01", limit=10000)["rows"]
    assert all(row.get("distributor_id", "D01") in ("D01", None) for row in rows)
    if "distributor_id" in query_filters(path):
        status, body = api.get(path, "d01", distributor_id="D02")
        assert (status, body["error"]["code"]) == (403, "forbidden")


@pytest.mark.parametrize("token", ["cm", "auditor", "admin"])
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
