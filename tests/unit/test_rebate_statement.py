"""The rebate statement aggregate: calculated, adjusted (idempotently), approved, paid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from domain.identity import derived_id
from domain.rebate_statement import IllegalTransition, RebateStatement, reason_for
from domain.rebates import (
    ProgramTerms,
    RebateInputs,
    RebateResult,
    TierTerm,
    compute_rebate,
    events_digest,
)
from infra.eventstore import open_audit_log

CLOSED_AT = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
TERMS = ProgramTerms(
    program_id="VPA-1",
    distributor_ids="all",
    basis="sell_through",
    measure="revenue",
    period="quarter",
    tiers=(
        TierTerm(Decimal(0), Decimal(0)),
        TierTerm(Decimal(100000), Decimal("0.02")),
        TierTerm(Decimal(250000), Decimal("0.035")),
    ),
    tier_mode="retroactive",
    currency="USD",
)
RETURN_ID = str(UUID(int=101, version=4))
LATE_SALE_ID = str(UUID(int=102, version=4))


def period_with(revenue: str, ids: list[str]) -> tuple[RebateInputs, RebateResult]:
    amount = Decimal(revenue)
    inputs = RebateInputs(
        volume=amount,
        revenue=amount,
        units=len(ids) * 10,
        event_count=len(ids),
        digest=events_digest(ids),
    )
    return inputs, compute_rebate(TERMS, inputs, closed=True)


BASE_IDS = [str(UUID(int=n, version=4)) for n in range(1, 4)]


def closed_statement() -> RebateStatement:
    inputs, result = period_with("262500.00", BASE_IDS)
    return RebateStatement.calculate(
        program_id="VPA-1",
        distributor_id="D1",
        period="2026-Q3",
        inputs=inputs,
        result=result,
        calculated_at=CLOSED_AT,
        calculated_by="admin@vendor",
    )


def test_calculated_statement_records_every_input() -> None:
    statement = closed_statement()
    assert statement.id == derived_id("rebate-statement", "VPA-1", "D1", "2026-Q3")
    assert statement.id == RebateStatement.create_id("VPA-1", "D1", "2026-Q3")
    assert (statement.volume, statement.revenue, statement.units) == (
        Decimal("262500.00"),
        Decimal("262500.00"),
        30,
    )
    assert (statement.tier_index, statement.tier_rate) == (2, Decimal("0.035"))
    assert statement.rebate == statement.total == Decimal("9187.50")
    assert statement.commitment_shortfall is None
    assert statement.event_count == 3
    assert statement.digest == events_digest(reversed(BASE_IDS))
    assert statement.calculated_at == CLOSED_AT
    assert statement.calculated_by == "admin@vendor"
    assert statement.status == "calculated"
    assert statement.adjustments == ()
    assert statement.outstanding is None
    assert [type(e).__name__ for e in statement.collect_events()] == ["RebateCalculated"]


def test_calculated_at_is_normalized_to_utc_and_must_be_aware() -> None:
    inputs, result = period_with("1000", BASE_IDS)
    local = CLOSED_AT.astimezone(timezone(timedelta(hours=2)))
    statement = RebateStatement.calculate(
        program_id="P",
        distributor_id="D",
        period="2026",
        inputs=inputs,
        result=result,
        calculated_at=local,
        calculated_by="x",
    )
    assert statement.calculated_at.utcoffset() == timedelta(0)
    assert statement.calculated_at == CLOSED_AT
    with pytest.raises(ValueError, match="timezone-aware"):
        RebateStatement.calculate(
            program_id="P",
            distributor_id="D",
            period="2026",
            inputs=inputs,
            result=result,
            calculated_at=datetime(2026, 10, 2),  # noqa: DTZ001
            calculated_by="x",
        )


def test_an_open_result_cannot_be_recorded() -> None:
    inputs, _ = period_with("1000", BASE_IDS)
    open_result = compute_rebate(TERMS, inputs, closed=False)
    with pytest.raises(ValueError, match="closed"):
        RebateStatement.calculate(
            program_id="P",
            distributor_id="D",
            period="2026",
            inputs=inputs,
            result=open_result,
            calculated_at=CLOSED_AT,
            calculated_by="x",
        )
    statement = closed_statement()
    with pytest.raises(ValueError, match="closed"):
        statement.adjust(
            event_id=RETURN_ID,
            reason="late_return",
            inputs=inputs,
            result=open_result,
            at=CLOSED_AT,
        )


def adjusted_twice() -> RebateStatement:
    statement = closed_statement()
    after_return = period_with("247500.00", [*BASE_IDS, RETURN_ID])
    assert statement.adjust(
        event_id=RETURN_ID,
        reason="late_return",
        inputs=after_return[0],
        result=after_return[1],
        at=CLOSED_AT + timedelta(days=3),
    )
    after_sale = period_with("252500.00", [*BASE_IDS, RETURN_ID, LATE_SALE_ID])
    assert statement.adjust(
        event_id=UUID(LATE_SALE_ID),
        reason="late_sale",
        inputs=after_sale[0],
        result=after_sale[1],
        at=CLOSED_AT + timedelta(days=4),
    )
    return statement


def test_adjustments_claw_back_and_top_up_without_rewriting_the_statement() -> None:
    statement = adjusted_twice()
    clawback, top_up = statement.adjustments
    assert (clawback.reason, clawback.amount, clawback.rebate) == (
        "late_return",
        Decimal("-4237.50"),
        Decimal("4950.00"),
    )
    assert clawback.event_id == RETURN_ID and clawback.event_count == 4
    # 252,500 × 3.5 % = 8,837.50, booked so far 4,950.00
    assert (top_up.reason, top_up.amount, top_up.rebate) == (
        "late_sale",
        Decimal("3887.50"),
        Decimal("8837.50"),
    )
    assert top_up.event_id == LATE_SALE_ID
    assert top_up.digest == events_digest([LATE_SALE_ID, RETURN_ID, *BASE_IDS])
    assert statement.total == Decimal("8837.50")
    # the closed statement's values are untouched
    assert statement.rebate == Decimal("9187.50")
    assert statement.volume == Decimal("262500.00")
    assert statement.event_count == 3


def test_the_same_triggering_event_twice_is_a_no_op() -> None:
    statement = adjusted_twice()
    statement.collect_events()
    again = period_with("1.00", [RETURN_ID])  # whatever it says: already recorded
    assert not statement.adjust(
        event_id=RETURN_ID,
        reason="late_return",
        inputs=again[0],
        result=again[1],
        at=CLOSED_AT + timedelta(days=9),
    )
    assert statement.collect_events() == []
    assert len(statement.adjustments) == 2
    assert statement.total == Decimal("8837.50")
    assert statement.was_adjusted_for(UUID(RETURN_ID))


def test_a_late_event_that_does_not_move_the_rebate_is_still_recorded() -> None:
    statement = closed_statement()
    inputs, result = period_with("262500.00", [*BASE_IDS, LATE_SALE_ID])
    assert statement.adjust(
        event_id=LATE_SALE_ID,
        reason=reason_for(0),
        inputs=inputs,
        result=result,
        at=CLOSED_AT,
    )
    (recorded,) = statement.adjustments
    assert recorded.amount == Decimal("0.00") and recorded.reason == "late_event"
    assert recorded.event_count == 4


def test_unknown_reason_is_rejected() -> None:
    statement = closed_statement()
    inputs, result = period_with("1000", BASE_IDS)
    with pytest.raises(ValueError, match="reason"):
        statement.adjust(
            event_id=RETURN_ID,
            reason="oops",  # type: ignore[arg-type]
            inputs=inputs,
            result=result,
            at=CLOSED_AT,
        )


def test_reason_for_quantity() -> None:
    assert (reason_for(-1), reason_for(3), reason_for(0)) == (
        "late_return",
        "late_sale",
        "late_event",
    )
    # a replaced report's line reversed: whatever its sign
    assert reason_for(-1, reversal=True) == reason_for(3, reversal=True) == "report_replaced"


def test_approval_flow() -> None:
    statement = adjusted_twice()
    statement.approve("finance@vendor", CLOSED_AT + timedelta(days=5))
    assert statement.status == "approved"
    assert statement.approved_by == "finance@vendor"
    assert statement.approved_total == Decimal("8837.50")
    statement.mark_paid("ap@vendor", CLOSED_AT + timedelta(days=6), "CN-2026-0042")
    assert statement.status == "paid"
    assert (statement.paid_by, statement.payment_reference) == ("ap@vendor", "CN-2026-0042")
    assert statement.paid_total == Decimal("8837.50")
    assert statement.outstanding == Decimal("0.00")

    # a return after payment is still clawed back and shows as outstanding (to recover)
    late = str(UUID(int=103, version=4))
    inputs, result = period_with("242500.00", [*BASE_IDS, RETURN_ID, LATE_SALE_ID, late])
    assert statement.adjust(
        event_id=late, reason="late_return", inputs=inputs, result=result, at=CLOSED_AT
    )
    assert statement.total == Decimal("4850.00")
    assert statement.outstanding == Decimal("-3987.50")
    assert statement.status == "paid"


def test_illegal_transitions_raise_with_a_clear_message() -> None:
    statement = closed_statement()
    with pytest.raises(IllegalTransition, match=r"paid: it is only calculated.*approve it first"):
        statement.mark_paid("ap", CLOSED_AT, "REF")
    statement.approve("finance", CLOSED_AT)
    with pytest.raises(IllegalTransition, match=r"cannot approve .*already approved \(by finance"):
        statement.approve("finance", CLOSED_AT)
    statement.mark_paid("ap", CLOSED_AT, "REF")
    with pytest.raises(IllegalTransition, match="already paid"):
        statement.mark_paid("ap", CLOSED_AT, "REF")
    with pytest.raises(IllegalTransition, match="VPA-1/D1/2026-Q3"):
        statement.approve("finance", CLOSED_AT)
    assert issubclass(IllegalTransition, ValueError)


def test_approval_needs_who_aware_time_and_a_payment_reference() -> None:
    statement = closed_statement()
    with pytest.raises(ValueError, match="who"):
        statement.approve("  ", CLOSED_AT)
    with pytest.raises(ValueError, match="timezone-aware"):
        statement.approve("finance", datetime(2026, 10, 3))  # noqa: DTZ001
    assert statement.status == "calculated"
    statement.approve("finance", CLOSED_AT)
    with pytest.raises(ValueError, match="reference"):
        statement.mark_paid("ap", CLOSED_AT, "")
    assert statement.status == "approved"


def test_round_trip_through_the_audit_event_store() -> None:
    audit = open_audit_log("sqlite:///:memory:")
    statement = adjusted_twice()
    statement.adjust(
        event_id=RETURN_ID,
        reason="late_return",
        inputs=period_with("1", [])[0],
        result=period_with("1", [])[1],
        at=CLOSED_AT,
    )  # no-op
    statement.approve("finance", CLOSED_AT + timedelta(days=5))
    statement.mark_paid("ap", CLOSED_AT + timedelta(days=6), "CN-1")
    audit.save(statement)

    stored: RebateStatement = audit.repository.get(statement.id)
    assert stored.version == 5  # calculated, 2 adjustments, approved, paid
    assert stored.total == Decimal("8837.50")
    assert stored.adjustments == statement.adjustments
    assert stored.rebate == Decimal("9187.50") and isinstance(stored.rebate, Decimal)
    assert stored.calculated_at == CLOSED_AT
    assert stored.digest == statement.digest
    assert (stored.status, stored.paid_by, stored.payment_reference) == ("paid", "ap", "CN-1")
    assert stored.paid_at == CLOSED_AT + timedelta(days=6)
    names = [type(e).__name__ for e in audit.repository.event_store.get(statement.id)]
    assert names == [
        "RebateCalculated",
        "RebateAdjusted",
        "RebateAdjusted",
        "RebateApproved",
        "RebatePaid",
    ]

    # later, from the store: the repeated late event stays a no-op; a new one is recorded
    again: RebateStatement = audit.repository.get(statement.id)
    assert not again.adjust(
        event_id=LATE_SALE_ID,
        reason="late_sale",
        inputs=period_with("1", [])[0],
        result=period_with("1", [])[1],
        at=CLOSED_AT,
    )
    assert again.collect_events() == []


def test_a_shortfall_is_recorded_on_the_statement() -> None:
    committed = ProgramTerms(
        program_id="VPA-2",
        distributor_ids=("D1",),
        basis="sell_in",
        measure="revenue",
        period="year",
        tiers=(TierTerm(Decimal(0), Decimal("0.01")),),
        tier_mode="retroactive",
        currency="USD",
        minimum_commitment=Decimal("500000"),
    )
    inputs = RebateInputs(Decimal("400000"), Decimal("400000"), 40, 2, events_digest(["a", "b"]))
    result = compute_rebate(committed, inputs, closed=True)
    statement = RebateStatement.calculate(
        program_id="VPA-2",
        distributor_id="D1",
        period="2026",
        inputs=inputs,
        result=result,
        calculated_at=CLOSED_AT,
        calculated_by="admin",
    )
    assert statement.rebate == Decimal("0.00")
    assert statement.commitment_shortfall == Decimal("100000")
    audit = open_audit_log("sqlite:///:memory:")
    audit.save(statement)
    assert audit.repository.get(statement.id).commitment_shortfall == Decimal("100000")
