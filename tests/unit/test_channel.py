"""The channel projection: dedup verdicts, quality and dead-letter counts, crash redelivery."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from projections.channel import CONFLICTING_DUPLICATE, Outcome, apply_event, reject_input
from projections.dedup import Verdict
from projections.inventory import Reconciliation
from projections.positions import Position
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores, DictStore
from schemas.events import Envelope, InventoryCounted, PriceChanged, SaleReported, ShipmentRecorded
from tests.unit.catalog import catalog_stores

T0 = datetime(2026, 7, 6, 14, tzinfo=UTC)
SALES = "channelflow.sales:0"
SHIPMENTS = "channelflow.shipments:0"
COUNTS = "channelflow.inventory:0"


def uid(n: int) -> UUID:
    return UUID(int=n, version=4)


def sale(n: int, txn: str = "T1", quantity: int = 3, **changes: Any) -> SaleReported:
    fields: dict[str, Any] = {
        "event_id": uid(n),
        "occurred_at": T0,
        "recorded_at": T0 + timedelta(minutes=n),
        "source": "api",
        "distributor_id": "D01",
        "transaction_id": txn,
        "reseller_id": "R1",
        "sku": "SKU-1",
        "quantity": quantity,
        "unit_price": Decimal("12.50"),
        "currency": "USD",
        "sold_at": T0,
    }
    fields.update(changes)
    return SaleReported(**fields)


def shipment(
    n: int, shipment_id: str = "SH1", quantity: int = 10, **changes: Any
) -> ShipmentRecorded:
    fields: dict[str, Any] = {
        "event_id": uid(n),
        "occurred_at": T0 - timedelta(hours=2),
        "source": "erp",
        "shipment_id": shipment_id,
        "distributor_id": "D01",
        "sku": "SKU-1",
        "quantity": quantity,
        "unit_price": Decimal("9.00"),
        "currency": "USD",
        "shipped_at": T0 - timedelta(hours=2),
    }
    fields.update(changes)
    return ShipmentRecorded(**fields)


def count(n: int, on_hand: int, at: datetime, **changes: Any) -> InventoryCounted:
    fields: dict[str, Any] = {
        "event_id": uid(n),
        "occurred_at": at,
        "source": "edi852",
        "distributor_id": "D01",
        "sku": "SKU-1",
        "on_hand": on_hand,
        "counted_at": at,
    }
    fields.update(changes)
    return InventoryCounted(**fields)


def quality(stores: ChannelStores, distributor: str = "D01") -> dict[str, Any]:
    rows = [r for r in build_snapshot(stores)["quality"] if r["distributor_id"] == distributor]
    assert len(rows) == 1
    return rows[0]


def inventory(stores: ChannelStores, sku: str = "SKU-1") -> dict[str, Any]:
    rows = [r for r in build_snapshot(stores)["inventory"] if r["sku"] == sku]
    assert len(rows) == 1
    return rows[0]


def counts(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return row["accepted"], row["duplicates"], row["conflicts"], row["rejected"]


def run(stores: ChannelStores, *events: Envelope) -> list[Outcome]:
    return [apply_event(stores, event, None) for event in events]


def test_first_sale_is_accepted_and_projected() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    (outcome,) = run(stores, sale(1))
    assert outcome == Outcome(Verdict.ACCEPTED)
    assert counts(quality(stores)) == (1, 0, 0, 0)
    row = inventory(stores)
    assert (row["sell_in"], row["sell_through"], row["expected_on_hand"]) == (0, 3, -3)
    assert build_snapshot(stores)["dead_letters"] == []


def test_duplicate_with_new_envelope_is_counted_once_and_not_applied() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    original = sale(1)
    resent = sale(
        2,
        source="csv",
        occurred_at=T0 + timedelta(days=2),
        recorded_at=T0 + timedelta(days=2),
    )
    outcomes = run(stores, shipment(9), original, resent)
    assert [o.verdict for o in outcomes] == [Verdict.ACCEPTED, Verdict.ACCEPTED, Verdict.DUPLICATE]
    assert outcomes[2].dead_letter_reason is None
    assert counts(quality(stores)) == (2, 1, 0, 0)
    row = inventory(stores)
    assert (row["sell_in"], row["sell_through"], row["expected_on_hand"]) == (10, 3, 7)
    assert build_snapshot(stores)["dead_letters"] == []


def test_same_event_id_twice_is_a_redelivery_never_counted() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    outcomes = run(stores, sale(1), sale(1), sale(1))
    assert [o.verdict for o in outcomes] == [
        Verdict.ACCEPTED,
        Verdict.REDELIVERY,
        Verdict.REDELIVERY,
    ]
    assert counts(quality(stores)) == (1, 0, 0, 0)
    assert inventory(stores)["sell_through"] == 3


def test_same_event_id_at_a_new_offset_is_a_redelivery() -> None:
    """A producer retry writes the same message twice: two offsets, one event_id."""
    stores = catalog_stores("SKU-1", "SKU-2")
    apply_event(stores, sale(1), Position(SALES, 0))
    outcome = apply_event(stores, sale(1), Position(SALES, 1))
    assert outcome.verdict is Verdict.REDELIVERY
    assert counts(quality(stores)) == (1, 0, 0, 0)
    assert inventory(stores)["sell_through"] == 3


def test_same_key_different_content_is_a_conflict_dead_lettered() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    outcomes = run(stores, sale(1, quantity=3), sale(2, quantity=4))
    assert outcomes[1] == Outcome(
        Verdict.CONFLICT,
        CONFLICTING_DUPLICATE,
        detail="same idempotency key as an accepted event, different content",
    )
    assert outcomes[1].dead_letter_reason == "conflicting_duplicate"
    assert counts(quality(stores)) == (1, 0, 1, 0)
    assert inventory(stores)["sell_through"] == 3  # the first one stands
    assert build_snapshot(stores)["dead_letters"] == [
        {"reason": "conflicting_duplicate", "count": 1}
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"reseller_id": "R2"},
        {"unit_price": Decimal("12.49")},
        {"sold_at": T0 + timedelta(seconds=1)},
        {"end_customer": "EC-1"},
        {"sku": "SKU-2"},
    ],
    ids=["reseller", "price", "sold_at", "end_customer", "sku"],
)
def test_any_business_field_change_is_a_conflict(change: dict[str, Any]) -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    outcomes = run(stores, sale(1), sale(2, **change))
    assert outcomes[1].verdict is Verdict.CONFLICT


def test_other_distributors_transaction_is_a_different_key() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    outcomes = run(stores, sale(1), sale(2, distributor_id="D02", quantity=5))
    assert [o.verdict for o in outcomes] == [Verdict.ACCEPTED, Verdict.ACCEPTED]
    assert counts(quality(stores, "D02")) == (1, 0, 0, 0)


def test_shipments_are_keyed_by_shipment_id_and_sku() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    outcomes = run(
        stores,
        shipment(1, "SH1", 10),
        shipment(2, "SH1", 20, sku="SKU-2"),  # another line of the same shipment
        shipment(3, "SH1", 10, source="csv"),  # resend
        shipment(4, "SH1", 11),  # conflict
    )
    assert [o.verdict for o in outcomes] == [
        Verdict.ACCEPTED,
        Verdict.ACCEPTED,
        Verdict.DUPLICATE,
        Verdict.CONFLICT,
    ]
    assert inventory(stores, "SKU-1")["sell_in"] == 10
    assert inventory(stores, "SKU-2")["sell_in"] == 20
    assert counts(quality(stores)) == (2, 1, 1, 0)


def test_count_gives_a_reconciliation_fact_and_its_resend_none() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    at = T0 + timedelta(hours=6)
    outcomes = run(stores, shipment(1, quantity=10), sale(2, quantity=3), count(3, 6, at))
    assert outcomes[2].facts == (Reconciliation("D01", "SKU-1", at, 6, 7, -1, False),)
    resend = apply_event(stores, count(4, 6, at, source="api"), None)
    assert resend == Outcome(Verdict.DUPLICATE)
    conflicting = apply_event(stores, count(5, 5, at), None)
    assert conflicting == Outcome(
        Verdict.CONFLICT,
        CONFLICTING_DUPLICATE,
        detail="same idempotency key as an accepted event, different content",
    )
    row = inventory(stores)
    assert (row["expected_on_hand"], row["last_count_on_hand"], row["last_variance"]) == (6, 6, -1)
    assert row["last_counted_at"] == "2026-07-06T20:00:00Z"
    assert counts(quality(stores)) == (3, 1, 1, 0)


def test_events_without_a_key_are_accepted_and_not_quality_counted() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    price = PriceChanged(
        event_id=uid(1),
        occurred_at=T0,
        source="erp",
        sku="SKU-1",
        distributor_cost=Decimal("9.00"),
        floor_price=Decimal("11.00"),
        currency="USD",
        effective_from=T0,
    )
    assert apply_event(stores, price, None) == Outcome(Verdict.ACCEPTED)
    assert apply_event(stores, price, None) == Outcome(Verdict.ACCEPTED)
    snapshot = build_snapshot(stores)
    assert (snapshot["inventory"], snapshot["quality"], snapshot["dead_letters"]) == ([], [], [])


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


def test_redelivered_conflict_is_not_counted_again() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    run(stores, sale(1, quantity=3), sale(2, quantity=4), sale(2, quantity=4))
    assert counts(quality(stores)) == (1, 0, 1, 0)
    assert build_snapshot(stores)["dead_letters"] == [
        {"reason": "conflicting_duplicate", "count": 1}
    ]


def test_redelivered_duplicate_is_not_counted_again() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    apply_event(stores, sale(1), Position(SALES, 0))
    apply_event(stores, sale(2), Position(SALES, 1))
    apply_event(stores, sale(2), Position(SALES, 2))
    assert counts(quality(stores)) == (1, 1, 0, 0)


def test_resend_with_an_equal_price_written_differently_is_a_duplicate() -> None:
    stores = catalog_stores("SKU-1", "SKU-2")
    outcomes = run(
        stores, sale(1, unit_price=Decimal("12.50")), sale(2, unit_price=Decimal("12.5"))
    )
    assert outcomes[1].verdict is Verdict.DUPLICATE
