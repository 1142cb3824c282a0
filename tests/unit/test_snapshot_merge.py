"""Snapshots of disjoint sets of distributors merge into the snapshot of all of them.

Distributor ids are chosen so that a store's key order ("D01-B|" before "D01|") and sorted
ids ("D01" before "D01-B") disagree: a merge that used one order for every section would
put rows in the wrong place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.snapshot import Snapshot, build_snapshot, now_of
from projections.snapshot_merge import GROUP_ORDER, REFERENCE_SECTIONS, merge_snapshots
from projections.stores import ChannelStores
from schemas.events import Envelope
from streams.generator import generate_channel
from streams.runners.processing import Input, process_batch
from streams.runners.replay_shares import MOVEMENT_TYPES
from tests.parallel_channel import (
    agreements_and_rates,
    debit_claims,
    reseller_identity,
    with_lookalike_distributors,
)

EVENTS = with_lookalike_distributors(
    [
        *generate_channel(seed=4, weeks=4, distributors=3),
        *agreements_and_rates(("D01",)),
        *reseller_identity(("D01", "D02")),
    ]
)
EVENTS += debit_claims(EVENTS, ("D01", "D0", "D01-B"))
DISTRIBUTORS = sorted(
    {str(getattr(e, "distributor_id", None)) for e in EVENTS if e.event_type in MOVEMENT_TYPES}
)


def stores_of(events: Sequence[Envelope]) -> ChannelStores:
    stores = ChannelStores()
    process_batch(stores, (Input(e.model_dump_json().encode(), None, "test") for e in events))
    return stores


def snapshot_of(events: Sequence[Envelope], now: datetime | None) -> Snapshot:
    return build_snapshot(stores_of(events), now)


WHOLE = stores_of(EVENTS)
NOW = now_of(WHOLE)
EXPECTED = orjson.dumps(build_snapshot(WHOLE, NOW))


def part(distributors: set[str]) -> list[Envelope]:
    """Every reference event, and the movements of `distributors`."""
    return [
        e
        for e in EVENTS
        if e.event_type not in MOVEMENT_TYPES or getattr(e, "distributor_id", None) in distributors
    ]


def test_the_channel_has_lookalike_distributors_and_rows_in_every_section():
    assert {"D01", "D01-B"} <= set(DISTRIBUTORS)
    snapshot = build_snapshot(WHOLE, NOW)
    empty = [name for name, rows in snapshot.items() if not rows and name != "unpriced"]
    assert empty == []
    assert set(snapshot) == {*GROUP_ORDER, *REFERENCE_SECTIONS, "dead_letters"}


@settings(max_examples=12)
@given(st.lists(st.integers(0, 2), min_size=len(DISTRIBUTORS), max_size=len(DISTRIBUTORS)))
def test_any_split_of_the_distributors_merges_to_the_whole_snapshot(jobs: list[int]):
    shares = [{d for d, job in zip(DISTRIBUTORS, jobs, strict=True) if job == n} for n in range(3)]
    parts = [snapshot_of(part(share), NOW) for share in shares]
    assert orjson.dumps(merge_snapshots(parts)) == EXPECTED


def test_the_order_of_the_parts_does_not_matter():
    shares = [{d} for d in DISTRIBUTORS]
    parts = [snapshot_of(part(share), NOW) for share in shares]
    assert orjson.dumps(merge_snapshots(parts[::-1])) == EXPECTED


def test_dead_letters_add_up_by_reason():
    parts: list[Snapshot] = [
        {"dead_letters": [{"reason": "a", "count": 1}, {"reason": "c", "count": 2}]},
        {"dead_letters": [{"reason": "b", "count": 4}, {"reason": "c", "count": 1}]},
    ]
    assert merge_snapshots(parts)["dead_letters"] == [
        {"reason": "a", "count": 1},
        {"reason": "b", "count": 4},
        {"reason": "c", "count": 3},
    ]


def test_a_section_without_a_known_order_is_refused():
    with pytest.raises(ValueError, match="new_section"):
        merge_snapshots([{"new_section": []}])
