"""The distributor scorecard end to end in the embedded runner: the hand-computed case of
tests/scorecard_channel.py through the projections and the HTTP API (ranking, a
distributor's own card, the CSV export, who may read what)."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from domain.roles import Role
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry, token_hash
from streams.config import Settings
from streams.health import Coverage, Health
from streams.runners.embedded import EmbeddedChannel
from tests.scorecard_channel import (
    D1_JULY,
    D1_Q3_SCORE,
    D2_JULY_SCORE,
    channel_events,
    reference_events,
)

TOKENS = TokenRegistry(
    [
        {"sha256": token_hash("cm"), "role": Role.CHANNEL_MANAGER.value, "actor": "cm"},
        {"sha256": token_hash("d1"), "role": Role.DISTRIBUTOR.value, "actor": "d1-it",
         "distributor_id": "D1"},
    ]
)  # fmt: skip


def fed_channel() -> EmbeddedChannel:
    channel = EmbeddedChannel(rebate_grace_days=10_000)
    channel.feed_events(reference_events())
    channel.feed_events(channel_events())
    return channel


def answers(
    channel: EmbeddedChannel, *calls: tuple[str, str], health: Health | None = None
) -> list[tuple[int, Any]]:
    """(status, JSON or text) of each GET (path, token)."""

    async def go() -> list[tuple[int, Any]]:
        context = replace(ApiContext.of_channel(channel, TOKENS), health=health)
        client = TestClient(TestServer(make_web_app(context)))
        await client.start_server()
        found = []
        try:
            for target, token in calls:
                response = await client.get(target, headers={"Authorization": f"Bearer {token}"})
                is_json = response.content_type == "application/json"
                found.append(
                    (response.status, await (response.json() if is_json else response.text()))
                )
        finally:
            await client.close()
        return found

    return asyncio.run(go())


def test_the_hand_computed_july_ranking():
    channel = fed_channel()
    [(status, page)] = answers(channel, ("/api/scorecard?period=2026-07", "cm"))
    assert status == 200
    first, second = page["rows"]
    assert (first["distributor_id"], first["score"], first["rank"]) == ("D2", D2_JULY_SCORE, 1)
    assert second == D1_JULY
    assert first["share_of_channel_revenue"] == "0.5977"


def test_the_quarter_holds_the_same_inputs_without_july_targets():
    channel = fed_channel()
    [(_, row)] = answers(channel, ("/api/scorecard/D1?period=2026-Q3", "cm"))
    assert row["score"] == D1_Q3_SCORE
    assert row["revenue_target"] is None and "sell_through" not in row["parts"]
    assert row["sell_through_revenue"] == D1_JULY["sell_through_revenue"]


def test_a_distributor_reads_its_own_card_only():
    channel = fed_channel()
    own, other, ranking, bad = answers(
        channel,
        ("/api/scorecard/D1?period=2026-07", "d1"),
        ("/api/scorecard/D2?period=2026-07", "d1"),
        ("/api/scorecard?period=2026-07", "d1"),
        ("/api/scorecard/D1?period=2026-13", "d1"),
    )
    assert own[0] == 200
    assert own[1] == {**D1_JULY, "rank": None, "share_of_channel_revenue": None}
    assert (other[0], ranking[0], bad[0]) == (403, 403, 400)


def test_the_card_of_a_distributor_never_heard_of_is_not_found():
    channel = fed_channel()
    card, listed = answers(
        channel,
        ("/api/scorecard/D99?period=2026-07", "cm"),
        ("/api/inventory?distributor_id=D99", "cm"),
    )
    assert card == (
        404,
        {"error": {"status": 404, "code": "not_found", "message": "no distributor D99 is known"}},
    )
    assert (
        listed == card
    )  # a list filtered by it too (tests/unit/api/authz/test_unknown_distributor.py)
    half = Health(None, coverage=lambda: Coverage(2, frozenset({0}), frozenset()))
    [(status, body)] = answers(channel, ("/api/scorecard/D99?period=2026-07", "cm"), health=half)
    assert status == 404
    assert body["error"]["message"].startswith(
        "no distributor D99 is known to this worker: it holds part of the channel (partitions 1 "
    )


def test_the_csv_export_is_the_ranking():
    channel = fed_channel()
    [(status, text)] = answers(channel, ("/api/scorecard.csv?period=2026-07", "cm"))
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["rank"], r["distributor_id"], r["score"]) for r in rows] == [
        ("1", "D2", D2_JULY_SCORE),
        ("2", "D1", D1_JULY["score"]),
    ]
    d1 = rows[1]
    written = (d1["part_pricing"], d1["weeks_missing"], d1["rebate_programs"])
    assert written == ("0.0000", "1", "P1 1/2")


def test_the_score_follows_the_configured_weights(monkeypatch):
    """CHANNELFLOW_SCORE_WEIGHTS: only data quality (0.7000) and rebates (0.5000) weigh,
    equally: D1's July score is 100 × (0.7 + 0.5) ÷ 2 = 60.0 in the ranking, the card, the
    CSV and the snapshot; the parts themselves do not change."""
    weights = (
        "sell_through=0,inventory=0,timeliness=0,pricing=0,resellers=0,data_quality=1,rebates=1"
    )
    monkeypatch.setenv("CHANNELFLOW_SCORE_WEIGHTS", weights)
    channel = fed_channel()
    channel.score = Settings.from_env().score_config()
    (_, ranking), (_, card), (_, text), (_, snapshot) = answers(
        channel,
        ("/api/scorecard?period=2026-07", "cm"),
        ("/api/scorecard/D1?period=2026-07", "d1"),
        ("/api/scorecard.csv?period=2026-07", "cm"),
        ("/api/snapshot", "cm"),
    )
    d1 = next(row for row in ranking["rows"] if row["distributor_id"] == "D1")
    assert (d1["score"], d1["parts"]) == ("60.0", D1_JULY["parts"])
    assert card["score"] == "60.0"
    assert {r["distributor_id"]: r["score"] for r in csv.DictReader(io.StringIO(text))}[
        "D1"
    ] == "60.0"
    [july] = [
        row
        for row in snapshot["scorecards"]
        if (row["distributor_id"], row["period"]) == ("D1", "2026-07")
    ]
    assert july["score"] == "60.0"
    assert channel.snapshot()["scorecards"] == snapshot["scorecards"]


def test_a_mistake_in_the_score_settings_names_the_variable():
    with pytest.raises(SystemExit, match=r"CHANNELFLOW_SCORE_WEIGHTS='price=1': 'price' is not"):
        Settings.from_env({"CHANNELFLOW_SCORE_WEIGHTS": "price=1"}).score_config()
    with pytest.raises(SystemExit, match="CHANNELFLOW_SCORE_WEEKS_BAND='8-4'"):
        Settings.from_env({"CHANNELFLOW_SCORE_WEEKS_BAND": "8-4"}).score_config()
