"""The channel projection: dedup verdicts (accepted, duplicate, redelivery, conflict) and the
quality counts they give."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from projections.channel import CONFLICTING_DUPLICATE, Outcome, apply_event
from projections.dedup import Verdict
from projections.inventory import Reconciliation
from projections.positions import Position
from projections.snapshot import build_snapshot
from schemas.events import PriceChanged
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import (
    SALES,
    T0,
    count,
    counts,
    inventory,
    quality,
    run,
    sale,
    shipment,
    uid,
)


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
        detail="transaction_id 'T1' was accepted before with other content (the first "
        "stands): a new sale needs a transaction_id of its own",
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
