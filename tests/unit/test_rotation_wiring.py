"""Stock rotation requests through the channel projection (docs/AGREEMENTS.md, "Stock
rotation"): decided against the stores, the allowance and the units reserved, duplicates
and conflicts, the return shipment received, and the audit aggregate recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import orjson

from domain.rotation_lifecycle import RotationStatus, StockRotation, rotation_aggregate_id
from infra.eventstore import open_audit_log
from projections.channel import apply_event, apply_message
from projections.dedup import Verdict
from projections.outcome import Outcome
from projections.positions import message_position
from projections.rotation_facts import RotationDecided, RotationReturned
from projections.rotation_inputs import period_purchases
from projections.rotation_state import RotationRecord
from projections.stores import ChannelStores
from schemas.codec import event_to_dict
from schemas.envelope import Envelope
from streams.metrics import REGISTRY
from streams.runners.processing import record_facts
from tests.unit.agreement_events import rate, signed
from tests.unit.channel_cases import shipment
from tests.unit.rotation_cases import MAY_20, TERMS, channel, request, returned, stocked
from tests.unit.test_aging_wiring import priced_stores


def accepted_count() -> float:
    name, labels = "channelflow_rotation_requests_total", {"outcome": "accepted"}
    value = REGISTRY.get_sample_value(name, labels)
    return value or 0.0


def reserved(stores: ChannelStores) -> dict[str, int]:
    reservations = stores.rotation_reserved.get("D01")
    return {} if reservations is None else reservations.units


def send(stores: ChannelStores, topic: str, offset: int, event: Envelope) -> Outcome:
    raw = orjson.dumps(event_to_dict(event))
    [outcome] = apply_message(stores, raw, "D01", message_position(f"{topic}:0", offset))
    return outcome


def decided(outcome: Outcome) -> RotationDecided:
    [fact] = outcome.facts
    assert isinstance(fact, RotationDecided)
    return fact


def test_the_period_purchases_are_the_quarters_sell_in() -> None:
    noon = datetime.combine(MAY_20, time(12), tzinfo=UTC)
    purchases = period_purchases(channel(), "D01", "2026-Q2", "USD", noon)
    assert (purchases.converted, purchases.complete) == (Decimal("9000.00"), True)
    year = period_purchases(channel(), "D01", "2026", "USD", noon)
    assert year.converted == Decimal("9900.00")
    # in euros, each day's dollars wait for that day's rate: nothing is guessed
    euros = period_purchases(channel(), "D01", "2026-Q2", "EUR", noon)
    assert euros.converted == 0 and sum(g.amount for g in euros.unconverted) == Decimal("9000")


def test_accepted_then_over_the_allowance_then_received() -> None:
    stores = channel()
    first = decided(send(stores, "rotations", 0, request("R1", {"X": 40})))
    # 40 × 12.50 = 500.00 of an allowance of 10 % × 9,000.00 = 900.00
    assert first.decision.status == "accepted"
    assert (first.decision.return_value, first.decision.allowance) == (
        Decimal("500.00"),
        Decimal("900.00"),
    )
    second = decided(send(stores, "rotations", 1, request("R2", {"X": 40}, n=2)))
    assert second.decision.reasons == ("over_allowance",)
    assert second.decision.used_before == Decimal("500.00")
    expected = first.decision.expected_return
    assert expected is not None and expected.lines == (("X", -40),)
    assert reserved(stores) == {"X": 40}

    outcome = send(stores, "shipments", 0, returned(50, expected.shipment_id, 25))
    [fact] = outcome.facts
    assert isinstance(fact, RotationReturned) and fact.lines == {"X": 25}
    assert reserved(stores) == {"X": 15}
    again = send(stores, "shipments", 0, returned(50, expected.shipment_id, 25))
    assert not again.facts  # the same position again
    assert reserved(stores) == {"X": 15}
    record = stores.rotations.get("D01|R1")
    assert record is not None and record.status == "accepted" and record.received == {"X": 25}
    assert RotationRecord.from_json(orjson.loads(orjson.dumps(record.to_json()))) == record


def test_a_return_beyond_what_is_due_counts_as_an_ordinary_return() -> None:
    stores = channel()
    first = decided(send(stores, "rotations", 0, request("R1", {"X": 40})))
    assert first.decision.expected_return is not None
    shipment_id = first.decision.expected_return.shipment_id
    outcome = send(stores, "shipments", 0, returned(50, shipment_id, 45))
    assert outcome.facts[0].lines == {"X": 40}  # type: ignore[union-attr]
    assert list(stores.rotation_returns.scan("D01|")) == [] and reserved(stores) == {}
    record = stores.rotations.get("D01|R1")
    assert record is not None and record.status == "returned"
    assert stores.inventory.get("D01|X").expected_on_hand == 1100 - 45  # type: ignore[union-attr]


def test_a_request_is_decided_once_per_key() -> None:
    stores = channel()
    assert send(stores, "rotations", 0, request("R1", {"X": 40})).verdict is Verdict.ACCEPTED
    again = send(stores, "rotations", 0, request("R1", {"X": 40}))
    assert again.verdict is Verdict.REDELIVERY and not again.facts
    resent = send(stores, "rotations", 1, request("R1", {"X": 40}, n=2))
    assert resent.verdict is Verdict.DUPLICATE and not resent.facts
    other = send(stores, "rotations", 2, request("R1", {"X": 41}, n=3))
    assert other.dead_letter_reason == "conflicting_duplicate" and "R1" in (other.detail or "")
    assert reserved(stores) == {"X": 40}


def test_a_request_dated_after_its_recording_is_dead_lettered() -> None:
    stores = channel()
    late = request("R1", {"X": 40}, day=MAY_20.replace(day=25))
    outcome = send(stores, "rotations", 0, late.model_copy(update={"recorded_at": None}))
    assert outcome.verdict is Verdict.ACCEPTED  # a file's event: its own time
    outcome = send(stores, "rotations", 1, request("R9", {"X": 1}, requested_at=late.requested_at))
    assert outcome.dead_letter_reason == "future_date"
    assert "requested_at" in (outcome.detail or "")


def test_the_audit_aggregate_takes_the_decision_and_each_return_once() -> None:
    stores = channel()
    facts = list(send(stores, "rotations", 0, request("R1", {"X": 40})).facts)
    expected = decided(Outcome(None, facts=tuple(facts))).decision.expected_return
    assert expected is not None
    facts += send(stores, "shipments", 0, returned(50, expected.shipment_id, 40)).facts
    audit = open_audit_log("sqlite:///:memory:")
    before = accepted_count()
    assert record_facts(audit, facts) == 2
    assert record_facts(audit, facts) == 0  # a replay or a redelivery: nothing new
    assert accepted_count() == before + 1
    rotation: StockRotation = audit.repository.get(rotation_aggregate_id("D01", "R1"))
    assert rotation.status is RotationStatus.RETURNED and rotation.received == {"X": 40}
    assert rotation.decision is not None
    assert rotation.decision["return_shipment_id"] == expected.shipment_id


def test_the_stored_values_read_back_as_written() -> None:
    stores = channel()
    send(stores, "rotations", 0, request("R1", {"X": 40}))
    values: list[Any] = [
        value
        for store in (stores.rotations, stores.rotation_ledgers, stores.rotation_returns,
                      stores.rotation_reserved)
        for _, value in store.scan()
    ]  # fmt: skip
    assert len(values) == 4
    for value in values:
        assert type(value).from_json(orjson.loads(orjson.dumps(value.to_json()))) == value


def test_purchases_in_another_currency_convert_at_their_days_rate() -> None:
    """9,000.00 USD bought in Q2 (1,000 × 9.00 on April 10) and 100 × 10.00 EUR on May 4:
    without a rate the EUR waits (not complete); EUR>USD 1.10 from May 1 makes it 1,100.00,
    9,000.00 + 1,100.00 in all, with the rate's event in the lineage."""
    stores = channel()
    at = datetime(2026, 5, 4, 12, tzinfo=UTC)
    bought = shipment(90, "SH-EUR", 100, sku="X", occurred_at=at, shipped_at=at, recorded_at=at)
    send(
        stores,
        "shipments",
        9,
        bought.model_copy(update={"currency": "EUR", "unit_price": Decimal("10.00")}),
    )
    noon = datetime.combine(MAY_20, time(12), tzinfo=UTC)
    waiting = period_purchases(stores, "D01", "2026-Q2", "USD", noon)
    assert (waiting.converted, waiting.complete) == (Decimal("9000.00"), False)
    published = rate("EUR", "USD", "1.10", date(2026, 5, 1))
    apply_event(stores, published, None)
    purchases = period_purchases(stores, "D01", "2026-Q2", "USD", noon)
    assert (purchases.converted, purchases.complete) == (Decimal("10100.00"), True)
    assert purchases.rate_event_ids == (published.event_id,)


def test_units_returned_are_valued_at_the_distributors_discounted_cost() -> None:
    """With AG-1 giving X's group 5 %, X costs D01 11.88 (12.50 less 5 %, to the cent):
    40 returned are worth 475.20, as stock value counts them (projections.costs)."""
    stores = priced_stores()
    discount = [{"group_id": "G-NET", "discount": "0.05"}]
    apply_event(stores, signed(**{**TERMS, "discounts": discount}), None)
    for offset, event in enumerate(stocked()[1:]):
        send(stores, "shipments", offset, event)
    first = decided(send(stores, "rotations", 0, request("R1", {"X": 40})))
    assert (first.decision.status, first.decision.return_value) == ("accepted", Decimal("475.20"))
