"""GET /api/dead-letters/lines: the rejected lines themselves, why, and their original bytes;
a distributor sees those sent under its own id only."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime

import pytest

from streams.generator import generate_channel, malformed_lines
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from tests.unit.api.authz_matrix import Api

#: bad inputs as distributors' producers would send them: keyed by their distributor id
#: (messages of one event: a bundle's bad event is kept alone, tests/unit/test_bundles.py)
SENT = [
    (raw, reason, distributor)
    for distributor in ("D01", "D02")
    for raw, reason in [line for line in malformed_lines() if not line[0].startswith(b"[")][:6]
]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=5, weeks=2))
    channel.feed(Input(raw, key, "channelflow.sales", 0, n) for n, (raw, _, key) in enumerate(SENT))
    client = Api(channel)
    yield client
    client.close()


def lines(api: Api, caller: str, **query: str) -> list[dict[str, object]]:
    status, _, body = api.call("GET", "/api/dead-letters/lines", caller, **query)
    assert status == 200, body
    assert body["total"] == len(body["rows"])
    rows: list[dict[str, object]] = body["rows"]
    return rows


def test_a_distributor_sees_its_own_rejected_lines_with_reason_and_bytes(api):
    assert {row["key"] for row in lines(api, "d01")} == {"D01"}
    own = lines(api, "d01", source="channelflow.sales")
    sent = [(raw, reason) for raw, reason, key in SENT if key == "D01"]
    assert [(base64.b64decode(str(row["original_b64"])), row["reason"]) for row in own] == sent
    assert {row["key"] for row in own} == {"D01"}
    assert {row["source"] for row in own} == {"channelflow.sales"}
    assert [row["source_offset"] for row in own] == [0, 1, 2, 3, 4, 5]
    # the bytes as text where they are UTF-8, and not where they are not
    assert own[0]["original"] == sent[0][0].decode()
    assert own[1]["original"] is None and sent[1][0].startswith(b"\xff")
    assert all(row["detail"] for row in own)


def test_a_distributor_may_not_ask_for_another(api):
    status, _, body = api.call("GET", "/api/dead-letters/lines", "d01", distributor_id="D02")
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_the_vendor_sees_all_and_filters(api):
    every = lines(api, "cm")
    assert {row["key"] for row in every} >= {"D01", "D02"}
    assert len(lines(api, "cm", distributor_id="D02", source="channelflow.sales")) == 6
    only = lines(api, "auditor", reason="schema_violation")
    assert only and {row["reason"] for row in only} == {"schema_violation"}
    assert lines(api, "admin", source="sales") == [r for r in every if "sales" in str(r["source"])]
    assert lines(api, "admin", source="no-such-source") == []


def test_newest_first(api):
    newest = lines(api, "cm", order="newest")
    assert sorted(newest, key=lambda r: (r["partition"], r["offset"])) == lines(api, "cm")
    times = [datetime.fromisoformat(str(row["recorded_at"])) for row in newest]
    assert times == sorted(times, reverse=True) and len(set(times)) > 1
    status, _, body = api.call("GET", "/api/dead-letters/lines", "cm", order="oldest")
    assert status == 400 and "order" in body["error"]["message"]


def test_pages(api):
    status, _, body = api.call("GET", "/api/dead-letters/lines", "cm", limit="2", offset="1")
    assert status == 200 and len(body["rows"]) == 2 and body["total"] > 3
    assert body["rows"] == lines(api, "cm")[1:3]
