"""Violation lifecycle over HTTP: roles, JSON errors, status visible in the snapshot."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from domain.roles import Role
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry, token_hash
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel
from tests.unit.catalog import product
from tests.unit.party_events import mapped, registered
from tests.unit.price_events import price
from tests.unit.test_aging_wiring import sold
from tests.unit.test_floor_currency import EUR_USD

TOKENS = {
    "admin-token": (Role.ADMIN, "pricing-alice", None),
    "auditor-token": (Role.AUDITOR, "audit-bob", None),
    "d01-token": (Role.DISTRIBUTOR, "d01-it", "D01"),
    "d02-token": (Role.DISTRIBUTOR, "d02-it", "D02"),
}


@pytest.fixture
def channel() -> EmbeddedChannel:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=9, weeks=3))
    return channel


def registry() -> TokenRegistry:
    return TokenRegistry(
        [
            {"sha256": token_hash(token), "role": role.value, "actor": actor}
            | ({"distributor_id": distributor} if distributor else {})
            for token, (role, actor, distributor) in TOKENS.items()
        ]
    )


def session(channel: EmbeddedChannel, *calls: tuple[str, str, str | None, Any]) -> list[Any]:
    """Run (method, path, token, json body) calls; returns [(status, body), ...]."""

    async def go() -> list[Any]:
        context = ApiContext.of_channel(channel, registry(), "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        results = []
        try:
            for method, path, token, body in calls:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                response = await client.request(method, path, headers=headers, json=body)
                results.append((response.status, await response.json()))
        finally:
            await client.close()
        return results

    return asyncio.run(go())


def first_violation(channel: EmbeddedChannel, distributor: str) -> str:
    rows = channel.snapshot()["violations"]
    return next(r["violation_id"] for r in rows if r["distributor_id"] == distributor)


def violation_read(channel: EmbeddedChannel, violation: str, token: str) -> dict:
    """`GET /api/violations/{violation}` with the token: its answer, which must be a 200."""
    ((status, found),) = session(channel, ("GET", f"/api/violations/{violation}", token, None))
    assert status == 200
    return found


def test_tokens_are_required_and_checked(channel):
    (missing, bad, ok) = session(
        channel,
        ("GET", "/api/violations", None, None),
        ("GET", "/api/violations", "nope", None),
        ("GET", "/api/violations", "auditor-token", None),
    )
    assert missing[0] == 401 and "bearer token" in missing[1]["error"]["message"]
    assert bad[0] == 401 and bad[1]["error"]["message"] == "unknown token"
    assert ok[0] == 200 and ok[1]["rows"]


def test_a_distributor_sees_only_its_own_data(channel):
    own, other, snapshot, inventory = session(
        channel,
        ("GET", "/api/violations", "d01-token", None),
        ("GET", "/api/violations?distributor_id=D02", "d01-token", None),
        ("GET", "/api/snapshot", "d01-token", None),
        ("GET", "/api/inventory?distributor_id=D02", "d01-token", None),
    )
    assert own[0] == 200 and {r["distributor_id"] for r in own[1]["rows"]} == {"D01"}
    assert other[0] == 403 and inventory[0] == 403
    for rows in snapshot[1].values():
        assert {row.get("distributor_id") for row in rows} <= {"D01"}


def test_lifecycle_by_role_with_conflicts_and_status_in_the_snapshot(channel):
    d01 = first_violation(channel, "D01")
    d02 = first_violation(channel, "D02")
    base = f"/api/violations/{d01}"
    results = session(
        channel,
        ("POST", f"/api/violations/{d02}/dispute", "d01-token", {"reason": "not mine"}),
        ("POST", f"{base}/dispute", "d01-token", {"reason": "SPA quoted by phone"}),
        ("POST", f"{base}/resolve", "d01-token", {"reason": "x", "resolution": "waived"}),
        ("POST", f"{base}/resolve", "auditor-token", {"reason": "x", "resolution": "waived"}),
        ("POST", f"{base}/resolve", "admin-token", {"reason": "SPA confirmed"}),
        (
            "POST",
            f"{base}/resolve",
            "admin-token",
            {"reason": "SPA confirmed", "resolution": "waived"},
        ),
        ("POST", f"{base}/resolve", "admin-token", {"reason": "again", "resolution": "waived"}),
        ("POST", f"{base}/acknowledge", "admin-token", {"reason": ""}),
        (
            "POST",
            "/api/violations/00000000-0000-4000-8000-000000000000/acknowledge",
            "admin-token",
            {"reason": "x"},
        ),
        ("GET", base, "d01-token", None),
    )
    statuses = [status for status, _ in results]
    assert statuses == [403, 200, 403, 403, 400, 200, 409, 400, 404, 200]
    assert "resolved" in results[6][1]["error"]["message"]
    document = results[-1][1]
    assert document["status"] == "resolved" and document["resolution"] == "waived"
    assert [(s["action"], s["actor"], s["role"]) for s in document["steps"]] == [
        ("dispute", "d01-it", "distributor"),
        ("resolve", "pricing-alice", "admin"),
    ]
    row = next(r for r in channel.snapshot()["violations"] if r["violation_id"] == d01)
    assert (row["status"], row["resolution"]) == ("resolved", "waived")


def test_a_step_shows_in_the_next_read_of_the_list(channel):
    d01 = first_violation(channel, "D01")

    def status(body: Any) -> str:
        return next(r["status"] for r in body["rows"] if r["violation_id"] == d01)

    before, step, after = session(
        channel,
        ("GET", "/api/violations", "auditor-token", None),  # statuses read and kept
        ("POST", f"/api/violations/{d01}/acknowledge", "d01-token", {"reason": "seen"}),
        ("GET", "/api/violations", "auditor-token", None),
    )
    assert (status(before[1]), step[0], status(after[1])) == ("detected", 200, "acknowledged")


async def silent_body(client: TestClient, path: str, token: str) -> tuple[int, Any, float]:
    """POST declaring a large body and sending none of it: (status, JSON answer, seconds)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    started = time.monotonic()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n".encode()
    )
    await writer.drain()
    async with asyncio.timeout(20):
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
                b":"
            )[1]
        )
        body = await reader.readexactly(length)
    elapsed = time.monotonic() - started
    writer.close()
    return int(head.split()[1]), json.loads(body), elapsed


def test_a_body_that_never_comes_is_answered_408_not_waited_for(channel, monkeypatch):
    monkeypatch.setenv("CHANNELFLOW_BODY_TIMEOUT_SECONDS", "0.5")
    violation = first_violation(channel, "D01")

    async def go() -> tuple[int, Any, float]:
        context = ApiContext.of_channel(channel, registry(), "test")
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        try:
            return await silent_body(
                client, f"/api/violations/{violation}/acknowledge", "d01-token"
            )
        finally:
            await client.close()

    status, answer, elapsed = asyncio.run(go())
    assert (status, answer["error"]["code"]) == (408, "request_timeout")
    assert "CHANNELFLOW_BODY_TIMEOUT_SECONDS" in answer["error"]["message"]
    assert elapsed >= 0.5  # it waited for the body first (the read gives up after 20 s)
    row = next(r for r in channel.snapshot()["violations"] if r["violation_id"] == violation)
    assert row["status"] == "detected"  # nothing was done


def test_a_violation_names_the_rate_that_converted_its_floor():
    """X's floor is 20.00 USD; at EUR>USD 1.25 a sale at 15.00 EUR is below its 16.00 EUR."""
    channel = EmbeddedChannel()
    listed = price(1, "12.50", "20.00", datetime(2026, 1, 1, tzinfo=UTC), sku="X")
    channel.feed_events([product("X"), listed, EUR_USD])
    channel.feed_events(
        [sold(1, 1, date(2026, 7, 10), unit_price=Decimal("15.00"), currency="EUR")]
    )
    converted = first_violation(channel, "D01")
    found = violation_read(channel, converted, "admin-token")
    assert found["price"] == {
        "event_id": str(listed.event_id),
        "scope": "list",
        "floor_price": "16.00",
        "rate_event_id": str(EUR_USD.event_id),
        "alias_event_id": None,
    }


def test_a_violation_in_the_floors_currency_names_no_rate(channel):
    violation = first_violation(channel, "D01")
    found = violation_read(channel, violation, "d01-token")
    assert found["price"]["rate_event_id"] is None


def test_a_violation_names_the_mapping_that_brought_its_masters_price():
    """A floor of 15.00 for master M1 judges D01's R6 once R6 is mapped to M1: the
    violation names that mapping step; a sale to an unmapped reseller names none."""
    channel = EmbeddedChannel()
    listed = price(1, "12.50", "20.00", datetime(2026, 1, 1, tzinfo=UTC), sku="X")
    for_master = price(2, "9.00", "15.00", datetime(2026, 7, 1, tzinfo=UTC), "D01", "M1", sku="X")
    mapping = mapped("D01", "R6", "M1")
    channel.feed_events([product("X"), listed, for_master, registered("M1", "Acme Tools Inc.")])
    channel.feed_events([mapping])
    channel.feed_events(
        [sold(1, 1, date(2026, 7, 10), unit_price=Decimal("14.00"), reseller_id="R6")]
    )
    violation = first_violation(channel, "D01")
    found = violation_read(channel, violation, "admin-token")
    assert (found["price"]["event_id"], found["price"]["alias_event_id"]) == (
        str(for_master.event_id),
        str(mapping.event_id),
    )
