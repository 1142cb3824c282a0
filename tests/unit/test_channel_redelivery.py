"""The channel projection under redelivery: rejected inputs counted once, a crash between
its stores applied exactly once, the snapshot independent of the stores' identity."""

from __future__ import annotations

import copy
from datetime import timedelta

from projections.channel import Outcome, apply_event, reject_input
from projections.dedup import Verdict
from projections.positions import Position
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores, DictStore
from schemas.events import Envelope
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import (
    COUNTS,
    SALES,
    SHIPMENTS,
    T0,
    count,
    counts,
    inventory,
    quality,
    run,
    sale,
    shipment,
)


def test_reject_input_counts_per_distributor_and_reason() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    run(stores, sale(1))
    assert reject_input(stores, "schema_violation", "D01", None) == Outcome(
        None, "schema_violation"
    )
    reject_input(stores, "schema_violation", "D01", None)
    reject_input(stores, "invalid_json", None, Position(SALES, 7))
    row = quality(stores)
    assert counts(row) == (1, 0, 0, 2)
    assert row["rejected_by_reason"] == {"schema_violation": 2}
    assert build_snapshot(stores)["dead_letters"] == [
        {"reason": "invalid_json", "count": 1},
        {"reason": "schema_violation", "count": 2},
    ]


def test_rejection_redelivered_at_the_same_position_counts_once() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    for _ in range(3):
        reject_input(stores, "schema_violation", "D01", Position(SALES, 4))
        reject_input(stores, "invalid_json", None, Position(SALES, 5))
    assert counts(quality(stores)) == (0, 0, 0, 1)
    assert build_snapshot(stores)["dead_letters"] == [
        {"reason": "invalid_json", "count": 1},
        {"reason": "schema_violation", "count": 1},
    ]


def _mixed_with_positions() -> list[tuple[Envelope, Position]]:
    events: list[Envelope] = [
        shipment(1, "SH1", 10),
        sale(2, "T1", 3),
        sale(3, "T1", 3, source="csv"),  # duplicate
        sale(4, "T1", 4),  # conflict
        sale(5, "T2", -1),  # return
        count(6, 8, T0 + timedelta(hours=6)),
    ]
    offsets = {SALES: 0, SHIPMENTS: 0, COUNTS: 0}
    out = []
    for event in events:
        source = {"ShipmentRecorded": SHIPMENTS, "SaleReported": SALES}.get(
            event.event_type,
            COUNTS,
        )
        out.append((event, Position(source, offsets[source])))
        offsets[source] += 1
    return out


def test_the_same_position_applied_twice_changes_nothing() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    inputs = _mixed_with_positions()
    first = [apply_event(stores, event, position) for event, position in inputs]
    assert [o.verdict for o in first] == [
        Verdict.ACCEPTED,
        Verdict.ACCEPTED,
        Verdict.DUPLICATE,
        Verdict.CONFLICT,
        Verdict.ACCEPTED,
        Verdict.ACCEPTED,
    ]
    snapshot = build_snapshot(stores)
    assert counts(quality(stores)) == (4, 1, 1, 0)
    row = inventory(stores)
    # 10 in, 3 - 1 out; the count of 8 vs expected 8
    assert (row["sell_in"], row["sell_through"], row["expected_on_hand"]) == (10, 2, 8)
    assert row["last_variance"] == 0

    # Kafka redelivers everything after a crash (committed offset lagging behind).
    again = [apply_event(stores, event, position) for event, position in inputs]
    assert build_snapshot(stores) == snapshot
    # the re-applied original reconciles nothing twice
    assert again[5].facts == ()
    assert again[1].verdict is Verdict.ACCEPTED  # seen entry written from this position


def test_redelivery_after_seen_was_written_but_not_inventory_applies_once() -> None:
    crashed = catalog_stores("SKU-1", "SKU-2")
    position = Position(SALES, 42)
    apply_event(crashed, shipment(1, quantity=10), Position(SHIPMENTS, 0))
    apply_event(crashed, sale(2, quantity=3), position)
    # The seen table's changelog got the entry; inventory and quality did not.
    recovered = ChannelStores(seen=crashed.seen, products=crashed.products)
    apply_event(recovered, shipment(1, quantity=10), Position(SHIPMENTS, 0))
    outcome = apply_event(recovered, sale(2, quantity=3), position)
    assert outcome.verdict is Verdict.ACCEPTED
    assert inventory(recovered)["sell_through"] == 3
    assert counts(quality(recovered)) == (2, 0, 0, 0)
    # ... and a further redelivery of the same offset is still exactly-once
    apply_event(recovered, sale(2, quantity=3), position)
    assert inventory(recovered)["sell_through"] == 3
    assert counts(quality(recovered)) == (2, 0, 0, 0)
    assert build_snapshot(recovered) == build_snapshot(crashed)


def test_partial_crash_between_inventory_and_quality() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    position = Position(SALES, 5)
    apply_event(stores, sale(1), position)
    # quality lost its write, inventory kept it
    stores.quality = DictStore()
    apply_event(stores, sale(1), position)
    assert inventory(stores)["sell_through"] == 3
    assert counts(quality(stores)) == (1, 0, 0, 0)


def test_snapshot_is_independent_of_store_object_identity() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    for event, position in _mixed_with_positions():
        apply_event(stores, event, position)
    clone = copy.deepcopy(stores)
    assert build_snapshot(clone) == build_snapshot(stores)
    inv = build_snapshot(stores)["inventory"][0]
    assert inv == {
        "distributor_id": "D01",
        "sku": "SKU-1",
        "sell_in": 10,
        "sell_through": 2,
        "expected_on_hand": 8,
        "last_count_on_hand": 8,
        "last_counted_at": "2026-07-06T20:00:00Z",
        "last_variance": 0,
        "late_after_count": 0,
        # "now" = latest movement (Monday 14:00); 28 days sold 2 → 0.5 a week → 16 weeks
        "weeks_of_supply": "16.0",
        "value": None,  # no price published
        "currency": None,
    }
