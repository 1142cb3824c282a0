"""The PricingViolation aggregate: lifecycle, who/role/when/why, permissions, persistence."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

from domain.identity import derived_id
from domain.roles import Role
from domain.violation import PricingViolation
from domain.violation_lifecycle import (
    TRANSITIONS,
    Action,
    IllegalTransition,
    NotAllowed,
    Resolution,
    Step,
    ViolationStatus,
    allowed_actions,
    check_allowed,
    is_allowed,
    next_status,
)
from infra.eventstore import open_audit_log
from projections.price_rules import Severity, ViolationDetected, violation_id_for, violation_row

SOLD = datetime(2026, 7, 2, 9, 30, tzinfo=UTC)
T1 = datetime(2026, 7, 3, 10, tzinfo=UTC)
T2 = T1 + timedelta(days=1)
T3 = T2 + timedelta(days=1)


def fact(distributor_id: str = "D01", transaction_id: str = "TX-1") -> ViolationDetected:
    return ViolationDetected(
        violation_id=violation_id_for(distributor_id, transaction_id),
        distributor_id=distributor_id,
        transaction_id=transaction_id,
        reseller_id="R01",
        sku="SKU-1",
        sold_at=SOLD,
        quantity=3,
        unit_price=Decimal("12.50"),
        floor_price=Decimal("15.00"),
        currency="USD",
        severity=Severity.MAJOR,
        event_id=UUID(int=7, version=4),
        scope="list",
        price_event_id=UUID(int=1, version=4),
    )


def detected(distributor_id: str = "D01", transaction_id: str = "TX-1") -> PricingViolation:
    return PricingViolation(**dataclasses.asdict(fact(distributor_id, transaction_id)))


ADMIN: dict[str, Any] = {"actor_id": "pricing-ann", "role": "admin"}
DIST: dict[str, Any] = {"actor_id": "d01-ops", "role": "distributor", "actor_distributor_id": "D01"}


def acknowledge(v: PricingViolation, at: datetime = T1, **who: Any) -> None:
    v.acknowledge(at=at, reason="price keyed wrong at the branch", **(who or DIST))


def dispute(v: PricingViolation, at: datetime = T1, **who: Any) -> None:
    v.dispute(at=at, reason="quoted a special price by the rep", **(who or DIST))


def resolve(v: PricingViolation, at: datetime = T2, resolution: str = "penalized") -> None:
    v.resolve(at=at, reason="second offence this quarter", resolution=resolution, **ADMIN)


Command = Callable[[PricingViolation], None]
COMMANDS: dict[Action, Command] = {
    Action.ACKNOWLEDGE: lambda v: acknowledge(v, T3, **ADMIN),
    Action.DISPUTE: lambda v: dispute(v, T3, **ADMIN),
    Action.RESOLVE: lambda v: resolve(v, T3),
}


def in_status(status: ViolationStatus) -> PricingViolation:
    v = detected()
    if status is ViolationStatus.ACKNOWLEDGED:
        acknowledge(v)
    elif status is ViolationStatus.DISPUTED:
        dispute(v)
    elif status is ViolationStatus.RESOLVED:
        resolve(v, T1)
    assert v.status is status
    return v


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


# --- who, role, when, why ------------------------------------------------------------------


def test_who_role_when_why_are_recorded_in_the_events() -> None:
    v = detected()
    plus2 = timezone(timedelta(hours=2))
    v.dispute(
        actor_id="d01-ops",
        role="distributor",
        actor_distributor_id="D01",
        at=T1.astimezone(plus2),
        reason="  quoted a special price  ",
    )
    v.resolve(
        actor_id="pricing-ann",
        role="admin",
        at=T2,
        reason="quote not on file",
        resolution="penalized",
        amount=Decimal("37.50"),
    )
    created, disputed, resolved = v.collect_events()
    assert type(disputed).__name__ == "Disputed"
    assert type(resolved).__name__ == "Resolved"
    d: Any = disputed
    assert (d.actor_id, d.role, d.actor_distributor_id, d.at, d.reason) == (
        "d01-ops",
        "distributor",
        "D01",
        T1,
        "quoted a special price",
    )
    assert d.at.utcoffset() == timedelta(0)
    r: Any = resolved
    assert (r.actor_id, r.role, r.at, r.reason, r.resolution, r.amount) == (
        "pricing-ann",
        "admin",
        T2,
        "quote not on file",
        "penalized",
        Decimal("37.50"),
    )
    assert [e.originator_version for e in (created, disputed, resolved)] == [1, 2, 3]
    assert v.steps == (
        Step(
            Action.DISPUTE,
            ViolationStatus.DETECTED,
            ViolationStatus.DISPUTED,
            "d01-ops",
            "distributor",
            "D01",
            T1,
            "quoted a special price",
        ),
        Step(
            Action.RESOLVE,
            ViolationStatus.DISPUTED,
            ViolationStatus.RESOLVED,
            "pricing-ann",
            "admin",
            None,
            T2,
            "quote not on file",
            Resolution.PENALIZED,
            Decimal("37.50"),
        ),
    )


def test_pending_events_before_collection() -> None:
    v = detected()
    acknowledge(v)
    assert [type(e).__name__ for e in v.pending_events] == ["Detected", "Acknowledged"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(reason: str) -> None:
    v = detected()
    with pytest.raises(ValueError, match="acknowledge needs a non-empty reason"):
        v.acknowledge(at=T1, reason=reason, **DIST)
    assert v.status is ViolationStatus.DETECTED


def test_an_actor_is_required() -> None:
    with pytest.raises(ValueError, match="id of the actor"):
        detected().resolve(actor_id=" ", role="admin", at=T1, reason="x", resolution="waived")


def test_a_naive_time_is_refused() -> None:
    naive = datetime(2026, 7, 3, 10)  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        detected().acknowledge(at=naive, reason="ok", **DIST)


def test_a_step_before_the_previous_one_is_refused() -> None:
    v = detected()
    dispute(v, T2)
    with pytest.raises(ValueError, match="before the previous step"):
        resolve(v, T1)
    resolve(v, T2)  # the same instant is fine
    assert v.status is ViolationStatus.RESOLVED


def test_unknown_resolution_and_bad_amounts() -> None:
    v = detected()
    with pytest.raises(ValueError, match="unknown resolution 'forgiven'"):
        resolve(v, resolution="forgiven")
    with pytest.raises(ValueError, match="non-negative"):
        v.resolve(at=T1, reason="x", resolution="penalized", amount=Decimal("-1"), **ADMIN)
    with pytest.raises(ValueError, match="waived violation carries no amount"):
        v.resolve(at=T1, reason="x", resolution="waived", amount=Decimal("1"), **ADMIN)
    assert v.status is ViolationStatus.DETECTED and v.collect_events()[-1].originator_version == 1


# --- permissions ---------------------------------------------------------------------------

MATRIX: list[tuple[str, str | None, str, bool]] = [
    # role, actor's distributor, action, allowed on a violation of D01
    ("distributor", "D01", "acknowledge", True),
    ("distributor", "D01", "dispute", True),
    ("distributor", "D01", "resolve", False),
    ("distributor", "D02", "acknowledge", False),
    ("distributor", "D02", "dispute", False),
    ("distributor", "D02", "resolve", False),
    ("distributor", None, "acknowledge", False),
    ("admin", None, "acknowledge", True),
    ("admin", None, "dispute", True),
    ("admin", None, "resolve", True),
    ("channel_manager", None, "acknowledge", False),
    ("channel_manager", None, "dispute", False),
    ("channel_manager", None, "resolve", False),
    ("auditor", None, "acknowledge", False),
    ("auditor", None, "dispute", False),
    ("auditor", None, "resolve", False),
    ("superuser", None, "resolve", False),
]


@pytest.mark.parametrize(("role", "actor_distributor", "action", "allowed"), MATRIX)
def test_permission_matrix(
    role: str, actor_distributor: str | None, action: str, allowed: bool
) -> None:
    assert is_allowed(role, actor_distributor, "D01", action) is allowed
    if allowed:
        check_allowed(role, actor_distributor, "D01", action)
    else:
        with pytest.raises(NotAllowed):
            check_allowed(role, actor_distributor, "D01", action)


def test_the_matrix_covers_every_role_and_action() -> None:
    covered = {(role, action) for role, _, action, _ in MATRIX}
    assert {(r.value, a.value) for r in Role for a in Action} <= covered


def test_permission_messages() -> None:
    with pytest.raises(NotAllowed, match="role auditor may not resolve a violation"):
        check_allowed("auditor", None, "D01", "resolve")
    with pytest.raises(NotAllowed, match="distributor 'D02' may not dispute a violation of"):
        check_allowed("distributor", "D02", "D01", "dispute")
    with pytest.raises(NotAllowed, match="unknown role 'root'"):
        check_allowed("root", None, "D01", "resolve")
    assert issubclass(NotAllowed, PermissionError)
    with pytest.raises(ValueError, match="unknown violation action"):
        check_allowed("admin", None, "D01", "delete")


@pytest.mark.parametrize(
    "who",
    [
        {"actor_id": "cm", "role": "channel_manager"},
        {"actor_id": "au", "role": "auditor"},
        {"actor_id": "x", "role": "distributor", "actor_distributor_id": "D02"},
    ],
)
def test_the_aggregate_enforces_permissions_too(who: dict[str, Any]) -> None:
    v = detected()
    v.collect_events()
    with pytest.raises(NotAllowed):
        v.acknowledge(at=T1, reason="ok", **who)
    with pytest.raises(NotAllowed):
        v.resolve(at=T1, reason="ok", resolution="waived", **who)
    assert v.status is ViolationStatus.DETECTED and v.collect_events() == []


def test_a_distributor_cannot_resolve_its_own_violation() -> None:
    v = detected()
    with pytest.raises(NotAllowed, match="role distributor may not resolve"):
        v.resolve(at=T1, reason="we fixed it", resolution="waived", **DIST)


def test_permission_is_checked_before_the_state() -> None:
    v = in_status(ViolationStatus.RESOLVED)
    with pytest.raises(NotAllowed):  # not IllegalTransition: says nothing about the state
        v.acknowledge(at=T3, reason="ok", actor_id="x", role="auditor")


# --- persistence ---------------------------------------------------------------------------


def _worked(v: PricingViolation) -> PricingViolation:
    dispute(v, T1)
    v.resolve(at=T2, reason="upheld", resolution="credited", amount=Decimal("7.50"), **ADMIN)
    return v


@pytest.mark.parametrize(
    "make_app",
    [
        lambda: Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        lambda: open_audit_log("sqlite:///:memory:"),
    ],
    ids=["popo", "sqlite"],
)
def test_round_trip_through_an_application(make_app: Callable[[], Application[UUID]]) -> None:
    app = make_app()
    v = detected()
    app.save(v)
    loaded: PricingViolation = app.repository.get(v.id)
    assert loaded.status is ViolationStatus.DETECTED
    assert (loaded.sold_at, loaded.unit_price, loaded.severity) == (SOLD, Decimal("12.50"), "major")

    dispute(loaded, T1)
    app.save(loaded)
    again: PricingViolation = app.repository.get(v.id)
    assert again.status is ViolationStatus.DISPUTED
    again.resolve(at=T2, reason="upheld", resolution="credited", amount=Decimal("7.50"), **ADMIN)
    app.save(again)

    final: PricingViolation = app.repository.get(v.id)
    assert final.version == 3
    assert final.status is ViolationStatus.RESOLVED
    assert final.resolution is Resolution.CREDITED
    assert final.resolution_amount == Decimal("7.50")
    assert final.steps == _worked(detected()).steps
    assert [s.at for s in final.steps] == [T1, T2]
    with pytest.raises(IllegalTransition):
        resolve(final, T3)
    row = violation_row(fact(), final.status, final.resolution)
    assert (row["status"], row["resolution"]) == ("resolved", "credited")


def test_recording_the_same_sale_twice_is_one_violation() -> None:
    app = open_audit_log("sqlite:///:memory:")
    app.save(detected())
    with pytest.raises(IntegrityError):
        app.save(detected())  # a replay derives the same id: the store refuses a second
    assert app.repository.get(detected().id).version == 1
