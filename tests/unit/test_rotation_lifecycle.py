"""The StockRotation aggregate: decided once, returns received, cancellation, persistence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.application import Application

from domain.claim_steps import IllegalTransition, NotAllowed
from domain.rotation_lifecycle import RotationStatus, StockRotation, rotation_aggregate_id
from domain.stock_rotation import RotationDecision
from tests.unit.agreement_events import rotation, uid
from tests.unit.rotation_channel import rotations

RECORDED = datetime(2026, 5, 20, 13, 0, tzinfo=UTC)
LATER = datetime(2026, 5, 28, 9, 0, tzinfo=UTC)
D1: dict[str, Any] = {"actor_id": "d1-ops", "role": "distributor", "actor_distributor_id": "D1"}


def accepted() -> tuple[StockRotation, RotationDecision]:
    request = rotation("R1", {"X": 40})
    aggregate = StockRotation.request(request, RECORDED)
    decision = rotations().decide(request)
    assert decision.status == "accepted"
    aggregate.record_decision(decision)
    return aggregate, decision


def test_id_from_the_request_key_and_the_decision_recorded_once() -> None:
    aggregate, decision = accepted()
    assert aggregate.id == rotation_aggregate_id("D1", "R1")
    assert aggregate.status is RotationStatus.ACCEPTED
    assert aggregate.decision is not None and aggregate.decision["return_value"] == "800.00"
    assert aggregate.decision["return_shipment_id"] == decision.expected_return.shipment_id  # type: ignore[union-attr]
    assert not aggregate.record_decision(decision)  # a replay: nothing new
    other = rotations().decide(rotation("R1", {"X": 130}))
    with pytest.raises(IllegalTransition, match="decided already"):
        aggregate.record_decision(other)


def test_a_rejected_request_expects_no_return() -> None:
    request = rotation("R1", {"X": 130})
    aggregate = StockRotation.request(request, RECORDED)
    aggregate.record_decision(rotations().decide(request))
    assert aggregate.status is RotationStatus.REJECTED
    assert aggregate.decision is not None and aggregate.decision["reasons"] == [
        "more_than_held",
        "over_allowance",
    ]
    with pytest.raises(IllegalTransition):
        aggregate.receive(uid(9), {"X": 1}, LATER)


def test_returns_received_in_full_complete_the_rotation() -> None:
    aggregate, _ = accepted()
    aggregate.receive(uid(1), {"X": 25}, LATER)
    assert aggregate.status is RotationStatus.ACCEPTED and aggregate.received == {"X": 25}
    with pytest.raises(ValueError, match="16 units of 'X' returned, 15 due"):
        aggregate.receive(uid(2), {"X": 16}, LATER)
    with pytest.raises(ValueError, match="0 due"):
        aggregate.receive(uid(2), {"Y": 1}, LATER)
    aggregate.receive(uid(2), {"X": 15}, LATER)
    assert aggregate.status is RotationStatus.RETURNED


def test_cancelled_by_its_distributor_or_admin_before_anything_came_back() -> None:
    aggregate, _ = accepted()
    with pytest.raises(NotAllowed):
        aggregate.cancel(
            actor_id="d2", role="distributor", actor_distributor_id="D2", at=LATER, reason="x"
        )
    with pytest.raises(NotAllowed):
        aggregate.cancel(actor_id="cm", role="channel_manager", at=LATER, reason="x")
    with pytest.raises(ValueError, match="a reason"):
        aggregate.cancel(**D1, at=LATER, reason=" ")
    aggregate.cancel(**D1, at=LATER, reason="the exchange order was withdrawn")
    assert aggregate.status is RotationStatus.CANCELLED
    assert aggregate.cancelled_by == (
        "d1-ops",
        "distributor",
        LATER,
        "the exchange order was withdrawn",
    )
    partly, _ = accepted()
    partly.receive(uid(1), {"X": 5}, LATER)
    with pytest.raises(IllegalTransition, match="cannot cancel"):
        partly.cancel(actor_id="fin", role="admin", at=LATER, reason="late")


def test_stored_and_loaded_alike() -> None:
    app: Application[Any] = Application()
    aggregate, _ = accepted()
    aggregate.receive(uid(1), {"X": 40}, LATER)
    app.save(aggregate)
    again: StockRotation = app.repository.get(aggregate.id)
    assert again.decision == aggregate.decision and again.received == {"X": 40}
    assert again.status is RotationStatus.RETURNED and again.returns == {"X": 40}
