"""The exchange order of an accepted stock rotation matched to the vendor's shipment
(docs/AGREEMENTS.md, "Stock rotation"): a positive `ShipmentRecorded` under the expected
`ROT-EXC-…` id ships it, up to the units ordered; the row, the aggregate, the cancel."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.rotation_lifecycle import RotationStatus, StockRotation, rotation_aggregate_id
from infra.eventstore import open_audit_log
from projections.channel import apply_event
from projections.rotation_facts import RotationExchanged
from projections.rotation_reads import rotation_of
from projections.stores import ChannelStores
from schemas.agreements import RotationLine
from schemas.events import ShipmentRecorded
from streams.runners.processing import record_facts
from tests.unit.catalog import product
from tests.unit.channel_cases import shipment
from tests.unit.price_events import price
from tests.unit.rotation_cases import channel, request, returned
from tests.unit.test_rotation_cancel import cancel
from tests.unit.test_rotation_wiring import decided, send


def with_y() -> ChannelStores:
    """D01's channel, and Y at a distributor cost of 25.00 USD."""
    stores = channel()
    apply_event(stores, product("Y"), None)
    listed = price(2, "25.00", "30.00", datetime(2026, 1, 1, tzinfo=UTC), sku="Y")
    apply_event(stores, listed, None)
    return stores


def sent(n: int, shipment_id: str, units: int, sku: str = "Y") -> ShipmentRecorded:
    when = datetime(2026, 5, 25, 12, tzinfo=UTC)
    return shipment(
        n, shipment_id, units, sku=sku, occurred_at=when, shipped_at=when, recorded_at=when
    )


def exchanging(stores: ChannelStores) -> tuple[str, str]:
    """R1: 40 X back (500.00), 30 Y ordered (750.00); its return and exchange ids."""
    orders = [RotationLine(sku="Y", quantity=30)]
    decision = decided(send(stores, "rotations", 0, request("R1", {"X": 40}, orders=orders)))
    assert decision.decision.status == "accepted"
    exchange, back = decision.decision.expected_exchange, decision.decision.expected_return
    assert exchange is not None and back is not None
    assert exchange.lines == (("Y", 30),) and exchange.shipment_id.startswith("ROT-EXC-")
    return back.shipment_id, exchange.shipment_id


def test_the_exchange_shipment_is_matched_up_to_the_units_ordered() -> None:
    stores = with_y()
    _, exchange_id = exchanging(stores)
    row = rotation_of(stores, "D01", "R1")
    assert row is not None
    assert (row["exchange_shipment_id"], row["exchange_status"]) == (exchange_id, "none")
    # 35 Y: the 30 ordered are the exchange, the other 5 an ordinary shipment
    first = send(stores, "shipments", 0, sent(60, exchange_id, 35))
    [fact] = first.facts
    assert isinstance(fact, RotationExchanged) and fact.lines == {"Y": 30}
    assert not send(stores, "shipments", 0, sent(60, exchange_id, 35)).facts  # redelivered
    row = rotation_of(stores, "D01", "R1")
    assert row is not None and (row["exchanged"], row["exchange_status"]) == ({"Y": 30}, "shipped")
    assert row["status"] == "accepted"  # the return is still due
    assert stores.inventory.get("D01|Y").expected_on_hand == 35  # type: ignore[union-attr]
    assert list(stores.rotation_returns.scan("D01|ROT-EXC-")) == []


def test_part_of_the_order_shipped_is_partial() -> None:
    stores = with_y()
    _, exchange_id = exchanging(stores)
    [fact] = send(stores, "shipments", 0, sent(60, exchange_id, 20)).facts
    assert isinstance(fact, RotationExchanged) and fact.lines == {"Y": 20}
    row = rotation_of(stores, "D01", "R1")
    assert row is not None and (row["exchanged"], row["exchange_status"]) == ({"Y": 20}, "partial")
    [due] = [value.due for _, value in stores.rotation_returns.scan("D01|ROT-EXC-")]
    assert due == {"Y": 10}


def test_only_a_positive_line_of_an_ordered_sku_under_the_exchange_id_counts() -> None:
    stores = with_y()
    back_id, exchange_id = exchanging(stores)
    assert not send(stores, "shipments", 0, sent(60, exchange_id, -5)).facts  # a return
    assert not send(stores, "shipments", 1, sent(61, exchange_id, 5, sku="X")).facts
    assert not send(stores, "shipments", 2, sent(62, back_id, 5)).facts  # positive, return id
    row = rotation_of(stores, "D01", "R1")
    assert row is not None and row["exchanged"] == {} and row["received"] == {}


def test_a_shipped_exchange_cannot_be_cancelled_and_a_cancel_drops_the_exchange() -> None:
    stores = with_y()
    _, exchange_id = exchanging(stores)
    send(stores, "shipments", 0, sent(60, exchange_id, 1))
    refused = send(stores, "rotations", 1, cancel("R1"))
    assert refused.dead_letter_reason == "exchange_shipped" and "1 units" in (refused.detail or "")

    stores = with_y()
    _, exchange_id = exchanging(stores)
    assert send(stores, "rotations", 1, cancel("R1")).facts
    assert not send(stores, "shipments", 0, sent(60, exchange_id, 30)).facts
    row = rotation_of(stores, "D01", "R1")
    assert row is not None and (row["status"], row["exchanged"]) == ("cancelled", {})


def test_the_aggregate_records_each_exchange_shipment_once() -> None:
    stores = with_y()
    orders = [RotationLine(sku="Y", quantity=30)]
    outcome = send(stores, "rotations", 0, request("R1", {"X": 40}, orders=orders))
    facts, decision = list(outcome.facts), decided(outcome)
    assert decision.decision.expected_exchange is not None
    assert decision.decision.expected_return is not None
    exchange_id = decision.decision.expected_exchange.shipment_id
    facts += send(stores, "shipments", 0, sent(60, exchange_id, 30)).facts
    back = returned(50, decision.decision.expected_return.shipment_id, 40, date(2026, 5, 28))
    facts += send(stores, "shipments", 1, back).facts
    audit = open_audit_log("sqlite:///:memory:")
    assert record_facts(audit, facts) == 3
    assert record_facts(audit, facts) == 0
    rotation: StockRotation = audit.repository.get(rotation_aggregate_id("D01", "R1"))
    assert rotation.status is RotationStatus.RETURNED and rotation.exchanged == {"Y": 30}
    assert rotation.decision is not None
    assert rotation.decision["exchange_shipment_id"] == exchange_id
    assert len(rotation.exchange_events) == 1
