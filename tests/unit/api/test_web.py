"""HTTP API contract over the embedded runner's stores (the worker serves the same app)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from schemas.events import SCHEMA_VERSION
from schemas.jsonschema import SCHEMA_DIR
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.api.openapi_paths import PATHS
from streams.api.query_choices import query_parameters
from streams.auth import TokenRegistry
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel


@pytest.fixture(scope="module")
def channel() -> EmbeddedChannel:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=9, weeks=3))
    return channel


def call(channel: EmbeddedChannel, path: str) -> tuple[int, str, Any]:
    async def go() -> tuple[int, str, Any]:
        context = ApiContext.of_channel(channel, TokenRegistry([]), "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        try:
            response = await client.get(path)
            body = await (response.json() if "json" in response.content_type else response.text())
            return response.status, response.content_type, body
        finally:
            await client.close()

    return asyncio.run(go())


def test_snapshot_endpoint_equals_the_runner_snapshot(channel):
    status, kind, body = call(channel, "/api/snapshot")
    assert (status, kind) == (200, "application/json")
    assert body["inventory"] == channel.snapshot()["inventory"]


def test_inventory_filters(channel):
    _, _, body = call(channel, "/api/inventory?distributor_id=D02&sku=SKU-0003")
    assert [(r["distributor_id"], r["sku"]) for r in body["rows"]] == [("D02", "SKU-0003")]


def test_sell_through_by_granularity_and_channel_totals(channel):
    _, _, weekly = call(channel, "/api/sell-through?distributor_id=D01")
    _, _, quarterly = call(channel, "/api/sell-through?granularity=quarter&distributor_id=D01")
    total_weekly = sum(r["sell_through"] for r in weekly["rows"])
    assert total_weekly == sum(r["sell_through"] for r in quarterly["rows"]) > 0
    _, _, channel_rows = call(channel, "/api/sell-through?granularity=month&scope=channel")
    inventory = channel.snapshot()["inventory"]
    assert sum(r["sell_in"] for r in channel_rows["rows"]) == sum(r["sell_in"] for r in inventory)


def test_inventory_summary_ranks_top_skus(channel):
    _, _, body = call(channel, "/api/inventory/summary?n=3")
    first = body["rows"][0]
    assert len(first["top_by_value"]) == 3
    values = [float(item["value"]) for item in first["top_by_value"]]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/sell-through?granularity=year", 400),
        ("/api/inventory/summary?n=0", 400),
        ("/api/snapshot?as_of=someday", 400),
        ("/api/nope", 404),
        # past the calendar's ends and a 64-bit int: each was a 500
        ("/api/snapshot?as_of=9999-12-31", 400),
        ("/api/resellers?as_of=0001-01-01", 400),
        ("/api/price-protection?as_of=9999-12-31T23:00:00-05:00", 400),
        ("/api/violations?offset=99999999999999999999", 400),
        ("/api/resellers?offset=2147483648", 400),
    ],
)
def test_errors_are_json(channel, path, status):
    got, kind, body = call(channel, path)
    assert (got, kind) == (status, "application/json")
    assert body["error"]["status"] == status
    assert body["error"]["message"]


def test_metrics_and_dashboard(channel):
    status, kind, text = call(channel, "/metrics")
    assert status == 200 and kind == "text/plain"
    assert "channelflow_events_consumed_total" in text
    status, kind, page = call(channel, "/")  # redirected to /dashboard
    assert status == 200 and kind == "text/html"
    assert "channel dashboard" in page and "/static/dashboard.js" in page


def test_the_event_schemas_are_served_without_a_token(channel):
    status, kind, listing = call(channel, "/schemas")
    assert (status, kind) == (200, "application/json")
    on_disk = sorted(p.name for p in SCHEMA_DIR.glob("*.json"))
    assert [s["name"] for s in listing["schemas"]] == on_disk
    sale = next(s for s in listing["schemas"] if s["type"] == "SaleReported")
    assert sale["version"] == SCHEMA_VERSION
    status, kind, schema = call(channel, sale["url"])
    assert (status, kind) == (200, "application/schema+json")
    assert schema == json.loads((SCHEMA_DIR / sale["name"]).read_text())
    assert schema["$id"].endswith(sale["url"])
    for missing in ("/schemas/Nope.v1.json", "/schemas/..%2Fpyproject.toml"):
        status, _, body = call(channel, missing)
        assert status == 404 and body["error"]["status"] == 404


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/violations?severity=huge", "severity must be one of minor, major, critical"),
        (
            "/api/violations?status=open",
            "status must be one of detected, acknowledged, disputed, resolved",
        ),
        ("/api/rotations?status=done", "status must be one of accepted, rejected, returned, "),
        ("/api/compliance?frequency=daily", "frequency must be one of weekly, monthly"),
        ("/api/sell-through?scope=all", "scope must be one of channel"),
        ("/api/nope", "no such path /api/nope: the paths are listed at /api/openapi.json"),
    ],
)
def test_a_value_outside_the_documented_choices_or_an_unknown_path_is_named(channel, path, message):
    status, kind, body = call(channel, path)
    assert (status, kind) == (body["error"]["status"], "application/json")
    assert status in (400, 404) and body["error"]["message"].startswith(message)


def test_every_documented_choice_of_a_read_is_taken(channel):
    for (method, route), taken in query_parameters(PATHS).items():
        if method != "GET" or "{" in route:
            continue
        for name, values in taken.choices.items():
            for value in values:
                status, _, body = call(channel, f"{route}?{name}={value}")
                assert status == 200, (route, name, value, body)


def test_a_wrong_method_names_the_methods_of_the_path(channel):
    async def go() -> tuple[int, str, Any]:
        context = ApiContext.of_channel(channel, TokenRegistry([]), "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        try:
            response = await client.delete("/api/inventory")
            return response.status, response.headers["Allow"], await response.json()
        finally:
            await client.close()

    status, allow, body = asyncio.run(go())
    assert status == 405 and "GET" in allow
    assert body["error"]["message"] == "DELETE is not allowed on /api/inventory: use GET, HEAD"
