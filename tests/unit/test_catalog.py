"""Normalization through ProductDefined: identifiers and units become sku + base units."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from projections.channel import apply_event
from projections.dedup import Verdict
from projections.inventory import Reconciliation
from projections.positions import Position
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores
from schemas.events import InventoryCounted, PriceChanged, SaleReported, ShipmentRecorded
from tests.unit.catalog import catalog_stores, product

T0 = datetime(2026, 7, 6, 10, tzinfo=UTC)


def sale(item: str, quantity: int, unit: str | None = None, price: str = "10.00") -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=T0, source="api", distributor_id="D1",
        transaction_id=f"T-{item}-{quantity}-{unit}", reseller_id="R1", sku=item,
        quantity=quantity, unit=unit, unit_price=Decimal(price), currency="USD", sold_at=T0,
    )  # fmt: skip


def stores_with_router() -> ChannelStores:
    stores = catalog_stores()
    apply_event(
        stores,
        product(
            "RT-100",
            unit_conversions={"CA": 12},
            identifiers={"upc": "012345678905", "vendor_part": "VP-RT100"},
        ),
        None,
    )
    return stores


def test_upc_and_vendor_part_resolve_to_the_sku():
    stores = stores_with_router()
    for item in ("RT-100", "012345678905", "VP-RT100"):
        assert apply_event(stores, sale(item, 1), None).verdict is Verdict.ACCEPTED
    (row,) = build_snapshot(stores)["inventory"]
    assert (row["sku"], row["sell_through"]) == ("RT-100", 3)


def test_cases_become_base_units_and_the_price_per_unit():
    stores = stores_with_router()
    apply_event(stores, sale("RT-100", 2, unit="CA", price="120.00"), None)
    (row,) = build_snapshot(stores)["inventory"]
    assert row["sell_through"] == 24


def test_the_case_price_is_divided_exactly_into_the_unit_price():
    stores = stores_with_router()
    from projections.catalog import normalize

    normalized = normalize(stores.products, stores.aliases, sale("RT-100", 1, "CA", "100.00"))
    assert isinstance(normalized, SaleReported)
    assert normalized.quantity == 12
    assert normalized.unit is None
    assert (normalized.unit_price * 12).quantize(Decimal("0.01")) == Decimal("100.00")


def test_unknown_item_and_unknown_unit_are_rejected_with_reasons():
    stores = stores_with_router()
    unknown = apply_event(stores, sale("NOPE-1", 1), None)
    assert (unknown.verdict, unknown.dead_letter_reason) == (None, "unknown_sku")
    assert "NOPE-1" in (unknown.detail or "")
    bad_unit = apply_event(stores, sale("RT-100", 1, unit="PAL"), None)
    assert bad_unit.dead_letter_reason == "unknown_unit"
    assert "CA, EA" in (bad_unit.detail or "")
    quality = build_snapshot(stores)["quality"][0]
    assert quality["rejected_by_reason"] == {"unknown_sku": 1, "unknown_unit": 1}
    assert quality["accepted"] == 0


def test_a_rejected_line_sent_again_is_not_counted_again():
    stores = stores_with_router()
    line = sale("NOPE-1", 1)
    first = apply_event(stores, line, Position("sales:0", 1))
    again = apply_event(stores, line, Position("sales:0", 7))  # e.g. the same file re-sent
    assert (first.dead_letter_reason, again.verdict) == ("unknown_sku", Verdict.REDELIVERY)
    assert build_snapshot(stores)["quality"][0]["rejected_by_reason"] == {"unknown_sku": 1}
    fix = line.model_copy(update={"sku": "RT-100", "event_id": uuid.uuid4()})
    assert apply_event(stores, fix, Position("sales:0", 9)).verdict is Verdict.ACCEPTED


def test_counts_and_shipments_are_normalized_too():
    stores = stores_with_router()
    apply_event(
        stores,
        ShipmentRecorded(
            event_id=uuid.uuid4(),
            occurred_at=T0,
            source="erp",
            shipment_id="S1",
            distributor_id="D1",
            sku="VP-RT100",
            quantity=5,
            unit="CA",
            unit_price=Decimal("96.00"),
            currency="USD",
            shipped_at=T0,
        ),
        None,
    )
    later = datetime(2026, 7, 7, tzinfo=UTC)
    fact = apply_event(
        stores,
        InventoryCounted(
            event_id=uuid.uuid4(),
            occurred_at=later,
            source="edi852",
            distributor_id="D1",
            sku="012345678905",
            on_hand=4,
            unit="CA",
            counted_at=later,
        ),
        None,
    ).facts[0]
    assert isinstance(fact, Reconciliation)
    assert (fact.sku, fact.on_hand, fact.expected, fact.variance) == ("RT-100", 48, 60, -12)


def test_inventory_value_uses_the_distributor_cost_in_effect():
    stores = stores_with_router()
    apply_event(
        stores,
        PriceChanged(
            event_id=uuid.uuid4(),
            occurred_at=T0,
            source="erp",
            sku="RT-100",
            distributor_cost=Decimal("8.25"),
            floor_price=Decimal("11.00"),
            currency="USD",
            effective_from=datetime(2026, 7, 1, tzinfo=UTC),
        ),
        None,
    )
    apply_event(
        stores,
        ShipmentRecorded(
            event_id=uuid.uuid4(),
            occurred_at=T0,
            source="erp",
            shipment_id="S1",
            distributor_id="D1",
            sku="RT-100",
            quantity=40,
            unit_price=Decimal("8.25"),
            currency="USD",
            shipped_at=T0,
        ),
        None,
    )
    apply_event(stores, sale("RT-100", 3), None)
    (row,) = build_snapshot(stores)["inventory"]
    assert row["value"] == "305.25"  # 37 × 8.25
