"""The DebitClaim aggregate: decisions recorded once, lifecycle steps, roles, persistence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.application import Application

from domain.claim_lifecycle import (
    ClaimAction,
    ClaimStatus,
    DebitClaim,
    IllegalTransition,
    NotAllowed,
)
from domain.claim_rules import claim_aggregate_id
from tests.unit.claim_events import RECORDED, claim, decided_claim, example_channel, line, uid

D = Decimal
T1 = RECORDED + timedelta(days=1)
T2 = T1 + timedelta(days=1)
T3 = T2 + timedelta(days=1)
ADMIN: dict[str, Any] = {"actor_id": "fin-1", "role": "admin"}
D1: dict[str, Any] = {"actor_id": "d1-ap", "role": "distributor", "actor_distributor_id": "D1"}


def test_id_from_the_claim_key() -> None:
    aggregate = DebitClaim.submit(claim("C1", line(1, "T1", 60)), RECORDED)
    assert aggregate.id == claim_aggregate_id("D1", "C1")


def test_validated_once_no_line_is_pending() -> None:
    submitted = claim("C1", line(1, "T1", 60), line(2, "T9", 5))
    aggregate = DebitClaim.submit(submitted, RECORDED)
    channel = example_channel()
    first, pending = channel.claim(submitted)
    assert aggregate.record_decision(first) and aggregate.record_decision(pending)
    assert aggregate.status is ClaimStatus.SUBMITTED and aggregate.pending_lines == (2,)
    assert not aggregate.record_decision(first)  # the same decision again: a no-op
    expired = channel.expire("D1", "T9", RECORDED + timedelta(days=30))
    aggregate.record_decision(expired[0])
    assert aggregate.status is ClaimStatus.VALIDATED
    assert aggregate.total_claimed == D("1950.00") and aggregate.total_accepted == D("1800.00")


def test_a_decision_of_another_claim_or_line_is_refused() -> None:
    aggregate = DebitClaim.submit(claim("C1", line(1, "T1", 60)), RECORDED)
    other = example_channel().claim(claim("C2", line(1, "T1", 60)))[0]
    with pytest.raises(ValueError, match="given to"):
        aggregate.record_decision(other)


def test_approve_then_pay() -> None:
    aggregate = decided_claim()
    assert aggregate.total_accepted == D("3000.00")
    aggregate.approve(**ADMIN, at=T1, reason="checked against POS")
    aggregate.pay(**ADMIN, at=T2, reference="ACH-778")
    assert aggregate.status is ClaimStatus.PAID and aggregate.outstanding == D("0.00")
    steps = [(s.action, s.from_status, s.to_status, s.amount) for s in aggregate.steps]
    assert steps == [
        (ClaimAction.APPROVE, "validated", "approved", D("3000.00")),
        (ClaimAction.PAY, "approved", "paid", D("3000.00")),
    ]
    assert aggregate.steps[1].reference == "ACH-778" and aggregate.steps[1].actor_id == "fin-1"


def test_credit_instead_of_payment() -> None:
    aggregate = decided_claim()
    aggregate.approve(**ADMIN, at=T1, reason="ok")
    aggregate.credit(**ADMIN, at=T2, reference="CM-12")
    assert aggregate.status is ClaimStatus.CREDITED


def test_dispute_and_resolve_with_who_and_why() -> None:
    aggregate = decided_claim()
    aggregate.dispute(**D1, at=T1, reason="T3 was sold to R9's branch", lines=(3,))
    assert aggregate.status is ClaimStatus.DISPUTED
    aggregate.resolve(
        **ADMIN, at=T2, reason="branch confirmed", outcome="upheld", granted=D("300.00")
    )
    assert aggregate.status is ClaimStatus.VALIDATED and aggregate.total_accepted == D("3300.00")
    dispute, resolution = aggregate.steps
    assert (dispute.actor_distributor_id, dispute.reason, dispute.lines) == (
        "D1",
        "T3 was sold to R9's branch",
        (3,),
    )
    assert (resolution.reference, resolution.amount) == ("upheld", D("300.00"))


@pytest.mark.parametrize(
    ("action", "who"),
    [("approve", D1), ("pay", D1), ("dispute", {**D1, "actor_distributor_id": "D2"})],
)
def test_roles(action: str, who: dict[str, Any]) -> None:
    aggregate = decided_claim()
    if action == "pay":
        aggregate.approve(**ADMIN, at=T1, reason="ok")
    extra: dict[str, dict[str, Any]] = {
        "approve": {"reason": "x"},
        "pay": {"reference": "R"},
        "dispute": {"reason": "x", "lines": (1,)},
    }
    kwargs: dict[str, Any] = {"at": T2, **who, **extra[action]}
    with pytest.raises(NotAllowed):
        getattr(aggregate, action)(**kwargs)
    with pytest.raises(NotAllowed):
        aggregate.approve(actor_id="cm", role="channel_manager", at=T2, reason="x")


def test_illegal_steps() -> None:
    aggregate = decided_claim()
    with pytest.raises(IllegalTransition, match="cannot pay claim 'C1': it is validated"):
        aggregate.pay(**ADMIN, at=T1, reference="R")
    submitted = DebitClaim.submit(claim("C1", line(1, "T9", 1)), RECORDED)
    with pytest.raises(IllegalTransition):
        submitted.approve(**ADMIN, at=T1, reason="too early")
    with pytest.raises(ValueError, match="non-empty"):
        aggregate.approve(**ADMIN, at=T1, reason=" ")
    aggregate.approve(**ADMIN, at=T2, reason="ok")
    with pytest.raises(ValueError, match="before the previous step"):
        aggregate.pay(**ADMIN, at=T1, reference="R")
    with pytest.raises(ValueError, match="upheld"):
        aggregate.dispute(**D1, at=T3, reason="no", lines=(1,))
        aggregate.resolve(**ADMIN, at=T3, reason="no", outcome="rejected", granted=D("1"))


def test_a_reopened_line_withdraws_an_unpaid_approval() -> None:
    aggregate = decided_claim()
    aggregate.approve(**ADMIN, at=T1, reason="ok")
    assert aggregate.reopen_line(1, replacement_event_id=uid(77), at=T2)
    assert aggregate.status is ClaimStatus.SUBMITTED and aggregate.pending_lines == (1,)
    assert not aggregate.reopen_line(3, replacement_event_id=uid(77), at=T2)  # rejected line


def test_a_reopened_line_after_payment_shows_what_to_recover() -> None:
    aggregate = decided_claim()
    aggregate.approve(**ADMIN, at=T1, reason="ok")
    aggregate.pay(**ADMIN, at=T2, reference="ACH-1")
    aggregate.reopen_line(1, replacement_event_id=uid(77), at=T3)
    assert aggregate.status is ClaimStatus.PAID and aggregate.outstanding == D("-1800.00")


def test_stored_and_read_back_the_same() -> None:
    app: Application[Any] = Application()
    aggregate = decided_claim()
    aggregate.dispute(**D1, at=T1, reason="why not", lines=(2, 3))
    aggregate.resolve(**ADMIN, at=T2, reason="no", outcome="rejected")
    aggregate.approve(**ADMIN, at=T3, reason="ok")
    app.save(aggregate)
    again: DebitClaim = app.repository.get(aggregate.id)
    assert again.decisions == aggregate.decisions and again.lines == aggregate.lines
    assert again.steps == aggregate.steps and again.status is ClaimStatus.APPROVED
    assert again.total_accepted == aggregate.total_accepted
