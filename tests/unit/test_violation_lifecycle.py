"""The PricingViolation aggregate's lifecycle: creation and ids, every legal transition and
every illegal one."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from domain.identity import derived_id
from domain.violation import PricingViolation
from domain.violation_lifecycle import (
    TRANSITIONS,
    Action,
    IllegalTransition,
    Resolution,
    ViolationStatus,
    allowed_actions,
    next_status,
)
from projections.price_rules import violation_id_for
from tests.unit.violation_cases import (
    ADMIN,
    COMMANDS,
    T1,
    T2,
    T3,
    acknowledge,
    detected,
    dispute,
    fact,
    in_status,
    resolve,
)

# --- creation and ids ----------------------------------------------------------------------


def test_created_detected_with_the_fact() -> None:
    v = detected()
    assert v.id == derived_id("violation", "D01", "TX-1") == v.violation_id
    assert v.status is ViolationStatus.DETECTED
    assert (v.distributor_id, v.transaction_id, v.reseller_id, v.sku) == (
        "D01",
        "TX-1",
        "R01",
        "SKU-1",
    )
    assert (v.unit_price, v.floor_price, v.severity, v.quantity) == (
        Decimal("12.50"),
        Decimal("15.00"),
        "major",
        3,
    )
    assert v.resolution is None and v.steps == ()
    (created,) = v.collect_events()
    assert type(created).__name__ == "Detected"


def test_same_create_id_for_the_same_sale_key() -> None:
    a = PricingViolation.create_id("D01", "TX-1")
    assert a == PricingViolation.create_id(distributor_id="D01", transaction_id="TX-1", sku="x")
    assert a == violation_id_for("D01", "TX-1") == detected().id
    assert a != PricingViolation.create_id("D01", "TX-2")
    assert a != PricingViolation.create_id("D02", "TX-1")


def test_a_violation_id_not_derived_from_the_sale_key_is_refused() -> None:
    wrong = dataclasses.replace(fact(), violation_id=violation_id_for("D01", "OTHER"))
    with pytest.raises(ValueError, match="not the one derived"):
        PricingViolation(**dataclasses.asdict(wrong))


# --- every legal transition ----------------------------------------------------------------


def test_detected_to_acknowledged_to_resolved() -> None:
    v = detected()
    acknowledge(v)
    assert v.status is ViolationStatus.ACKNOWLEDGED
    resolve(v, resolution="credited")
    assert v.status is ViolationStatus.RESOLVED
    assert v.resolution is Resolution.CREDITED


def test_detected_to_disputed_to_resolved() -> None:
    v = detected()
    dispute(v)
    assert v.status is ViolationStatus.DISPUTED
    resolve(v, resolution="waived")
    assert (v.status, v.resolution) == (ViolationStatus.RESOLVED, Resolution.WAIVED)


def test_disputed_then_acknowledged_then_resolved() -> None:
    v = detected()
    dispute(v, T1)
    acknowledge(v, T2)
    assert v.status is ViolationStatus.ACKNOWLEDGED
    resolve(v, T3)
    assert [s.to_status for s in v.steps] == [
        ViolationStatus.DISPUTED,
        ViolationStatus.ACKNOWLEDGED,
        ViolationStatus.RESOLVED,
    ]


def test_an_unanswered_violation_can_be_resolved_directly() -> None:
    v = detected()
    resolve(v, T1, resolution="penalized")
    assert (v.status, v.resolution) == (ViolationStatus.RESOLVED, Resolution.PENALIZED)


def test_admin_may_acknowledge_and_dispute_on_behalf() -> None:
    v = detected()
    dispute(v, **ADMIN)
    acknowledge(v, T2, **ADMIN)
    assert [s.role for s in v.steps] == ["admin", "admin"]


@pytest.mark.parametrize("resolution", list(Resolution))
def test_each_resolution(resolution: Resolution) -> None:
    v = detected()
    resolve(v, resolution=resolution.value)
    assert v.resolution is resolution


def test_resolution_amount_is_recorded() -> None:
    v = detected()
    v.resolve(
        at=T1,
        reason="penalty per VPA 4.2",
        resolution="penalized",
        amount=Decimal("250.00"),
        **ADMIN,
    )
    assert v.resolution_amount == Decimal("250.00")
    assert v.steps[-1].amount == Decimal("250.00")


# --- every illegal transition --------------------------------------------------------------

ILLEGAL = [
    (status, action)
    for status in ViolationStatus
    for action in Action
    if (status, action) not in TRANSITIONS
]


def test_the_illegal_list_is_what_a_pricing_team_expects() -> None:
    assert sorted(ILLEGAL) == sorted(
        [
            (ViolationStatus.ACKNOWLEDGED, Action.ACKNOWLEDGE),
            (ViolationStatus.ACKNOWLEDGED, Action.DISPUTE),
            (ViolationStatus.DISPUTED, Action.DISPUTE),
            (ViolationStatus.RESOLVED, Action.ACKNOWLEDGE),
            (ViolationStatus.RESOLVED, Action.DISPUTE),
            (ViolationStatus.RESOLVED, Action.RESOLVE),
        ]
    )


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_illegal_transitions_raise_and_change_nothing(
    status: ViolationStatus, action: Action
) -> None:
    v = in_status(status)
    v.collect_events()
    steps_before, version = v.steps, v.version
    with pytest.raises(IllegalTransition) as raised:
        COMMANDS[action](v)
    message = str(raised.value)
    assert f"cannot {action.value} a violation that is {status.value}" in message
    requested = {"acknowledge": "acknowledged", "dispute": "disputed", "resolve": "resolved"}
    assert f"{status.value} → {requested[action.value]} is not allowed" in message
    assert raised.value.current is status and raised.value.action is action
    assert isinstance(raised.value, ValueError)
    assert (v.status, v.steps, v.version) == (status, steps_before, version)
    assert v.collect_events() == []


def test_resolving_twice_is_illegal() -> None:
    v = detected()
    resolve(v, T1)
    with pytest.raises(IllegalTransition, match=r"cannot resolve a violation that is resolved"):
        resolve(v, T2)
    with pytest.raises(IllegalTransition, match=r"resolved → resolved is not allowed; it is final"):
        resolve(v, T2)


def test_acknowledging_after_resolve_is_illegal() -> None:
    v = detected()
    acknowledge(v)
    resolve(v)
    with pytest.raises(
        IllegalTransition,
        match=r"cannot acknowledge a violation that is resolved \(resolved → acknowledged",
    ):
        acknowledge(v, T3, **ADMIN)


def test_disputing_after_acknowledging_names_what_is_allowed() -> None:
    v = detected()
    acknowledge(v)
    with pytest.raises(IllegalTransition, match="allowed from acknowledged: resolve"):
        dispute(v, T2)


def test_next_status_and_allowed_actions() -> None:
    assert next_status("detected", "dispute") is ViolationStatus.DISPUTED
    assert next_status("disputed", "acknowledge") is ViolationStatus.ACKNOWLEDGED
    assert allowed_actions("detected") == (Action.ACKNOWLEDGE, Action.DISPUTE, Action.RESOLVE)
    assert allowed_actions("disputed") == (Action.ACKNOWLEDGE, Action.RESOLVE)
    assert allowed_actions("acknowledged") == (Action.RESOLVE,)
    assert allowed_actions("resolved") == ()
    with pytest.raises(IllegalTransition):
        next_status("resolved", "resolve")
    with pytest.raises(ValueError, match="unknown violation action 'reopen'"):
        next_status("detected", "reopen")
