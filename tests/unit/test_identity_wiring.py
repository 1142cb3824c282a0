"""Reseller identity through the embedded runner (the one projection every door calls):
masters and alias changes as raw messages, reseller growth and top resellers re-derived by
master after a merge and given back by the unmerge, a refused mapping dead-lettered with
its reason and original bytes, and a replay of the same lines equal to live."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from projections.scorecard_reads import period_cards
from projections.snapshot import reseller_growth_of, reseller_rows, top_resellers_of
from schemas.codec import encode_event
from schemas.events import Envelope, ResellerOnboarded, SaleReported
from streams.runners.embedded import EmbeddedChannel
from tests.unit.catalog import product
from tests.unit.channel_cases import replayed_file
from tests.unit.party_events import mapped, registered, unmapped

NOW = datetime(2026, 7, 31, 12, tzinfo=UTC)


def day(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}T10:00:00+00:00")


def onboarding(n: int, distributor: str, reseller: str, at: str) -> ResellerOnboarded:
    return ResellerOnboarded(
        event_id=UUID(int=n, version=4), occurred_at=day(at), source="api",
        distributor_id=distributor, reseller_id=reseller, name=f"{reseller} Ltd",
        onboarded_at=day(at),
    )  # fmt: skip


def sale(n: int, distributor: str, reseller: str, at: str, qty: int, price: str) -> SaleReported:
    return SaleReported.model_validate(
        {"event_id": UUID(int=1000 + n, version=4), "occurred_at": day(at), "source": "api",
         "distributor_id": distributor, "transaction_id": f"T{n}", "reseller_id": reseller,
         "sku": "SKU-1", "quantity": qty, "unit_price": price, "currency": "USD",
         "sold_at": day(at)}
    )  # fmt: skip


#: docs/IDENTITY.md's worked example: D1 sells to R1 and R1B (R1 under a typo) and R2; D2
#: to X9, which is R1 buying through D2
NETWORK: list[Envelope] = [
    product("SKU-1"),
    onboarding(1, "D1", "R1", "2026-05-10"),
    sale(1, "D1", "R1", "2026-06-03", 2, "100.00"),
    sale(2, "D1", "R1", "2026-07-15", 1, "50.00"),
    sale(3, "D1", "R1B", "2026-07-28", 1, "20.00"),
    sale(4, "D1", "R2", "2026-07-02", 3, "10.00"),
    onboarding(2, "D2", "X9", "2026-04-20"),
    sale(5, "D2", "X9", "2026-04-25", 5, "40.00"),
    sale(6, "D2", "X9", "2026-07-20", 1, "30.00"),
]
MASTERS: list[Envelope] = [registered("M1", "Acme Tools Inc."), registered("M2", "Zeta", n=2)]
MERGE: list[Envelope] = [
    mapped("D1", "R1", "M1", n=101),
    mapped("D1", "R1B", "M1", n=102),
    mapped("D2", "X9", "M1", n=103),
]
UNMERGE: list[Envelope] = [
    unmapped("D1", "R1", "M1", n=201),
    unmapped("D1", "R1B", "M1", n=202),
    unmapped("D2", "X9", "M1", n=203),
]


def fed(*runs: Sequence[Envelope]) -> EmbeddedChannel:
    channel = EmbeddedChannel()
    for run in runs:
        channel.feed_events(run)
    return channel


def figures(channel: EmbeddedChannel) -> dict[str, Any]:
    stores = channel.stores
    return {
        "top": [
            (r["distributor_id"], r["reseller_id"], r["revenue"], r["aliases"])
            for r in top_resellers_of(stores, None, 10)
        ],
        "top_d1": [(r["reseller_id"], r["revenue"]) for r in top_resellers_of(stores, "D1")],
        "growth": [
            (r["month"], r["onboarded"], r["first_sales"]) for r in reseller_growth_of(stores)
        ],
        "network": reseller_rows(stores, NOW),
    }


@pytest.fixture(scope="module")
def before() -> dict[str, Any]:
    return figures(fed(NETWORK, MASTERS))


def test_with_no_mapping_every_alias_is_its_own_reseller(before: dict[str, Any]) -> None:
    assert before["top"] == [
        ("D1", "R1", "250.00", ["D1|R1"]),
        ("D2", "X9", "230.00", ["D2|X9"]),
        ("D1", "R2", "30.00", ["D1|R2"]),
        ("D1", "R1B", "20.00", ["D1|R1B"]),
    ]
    assert before["growth"] == [
        ("2026-04", 1, 1), ("2026-05", 1, 0), ("2026-06", 0, 1), ("2026-07", 0, 2),
    ]  # fmt: skip


def test_a_merge_re_derives_growth_and_top_and_the_unmerge_restores_them(
    before: dict[str, Any],
) -> None:
    channel = fed(NETWORK, MASTERS, MERGE)
    merged = figures(channel)
    assert merged["top"] == [
        ("*", "M1", "500.00", ["D1|R1", "D1|R1B", "D2|X9"]),  # through two distributors
        ("D1", "R2", "30.00", ["D1|R2"]),
    ]
    assert merged["top_d1"] == [("M1", "270.00"), ("R2", "30.00")]
    assert merged["growth"] == [("2026-04", 1, 1), ("2026-07", 0, 1)]
    assert [(r["distributor_id"], r["onboarded"], r["active_90d"]) for r in merged["network"]] == [
        ("D1", 1, 2),
        ("D2", 1, 1),
    ]
    channel.feed_events(UNMERGE)
    assert figures(channel) == before
    assert channel.dead_letters == []


def test_a_conflicting_mapping_is_refused_naming_the_master_that_holds_the_alias() -> None:
    channel = fed(NETWORK, MASTERS, MERGE)
    conflicting = mapped("D1", "R1", "M2", n=104)
    unknown = mapped("D1", "R2", "M9", n=105)
    channel.feed_events([conflicting])
    channel.feed_events([unknown])
    letters = [(letter.reason, letter.key) for letter in channel.dead_letters]
    assert letters == [("conflicting_mapping", "D1"), ("unknown_master", "D1")]
    refused = channel.dead_letters[0]
    assert "'M1'" in refused.detail and "unmap it" in refused.detail
    assert refused.original == encode_event(conflicting)
    alias = channel.stores.party_aliases.get("id|D1|R1")
    assert alias is not None and alias.master_id == "M1" and len(alias.history) == 1
    dead = {row["reason"]: row["count"] for row in channel.snapshot()["dead_letters"]}
    assert dead == {"conflicting_mapping": 1, "unknown_master": 1}


def test_a_resent_mapping_counts_once() -> None:
    channel = fed(NETWORK, MASTERS, MERGE, MERGE)
    alias = channel.stores.party_aliases.get("id|D2|X9")
    assert alias is not None and [step.action for step in alias.history] == ["mapped"]
    assert channel.dead_letters == []


def test_a_replay_of_the_same_lines_equals_live(tmp_path: Path) -> None:
    runs = (NETWORK, MASTERS, MERGE, UNMERGE[:1], [mapped("D1", "R1", "M2", n=106)])
    live = fed(*runs)
    replay = replayed_file(tmp_path, [e for run in runs for e in run])
    assert replay.snapshot(NOW) == live.snapshot(NOW)
    sections = live.snapshot(NOW)
    assert [row["master_id"] for row in sections["masters"]] == ["M1", "M2"]
    by_key = {row["alias_key"]: row for row in sections["party_aliases"]}
    assert by_key["id|D1|R1"]["master_id"] == "M2"
    assert [step["action"] for step in by_key["id|D1|R1"]["history"]] == [
        "mapped", "unmapped", "mapped",
    ]  # fmt: skip
    assert by_key["id|D1|R1"]["history"][0]["changed_by"] == "ops-ana"


def test_the_scorecard_counts_a_master_of_two_aliases_once() -> None:
    """D1's R1 and R1B (active in the 90 days to July 31) are one reseller once merged: the
    July card's active resellers go from 3 (R1, R1B, R2) to 2 (M1, R2)."""

    def active(channel: EmbeddedChannel) -> int | None:
        [july] = period_cards(channel.stores, "2026-07", NOW, ["D1"])
        return None if july.standing is None else july.standing.active_resellers

    assert active(fed(NETWORK, MASTERS)) == 3
    assert active(fed(NETWORK, MASTERS, MERGE)) == 2
