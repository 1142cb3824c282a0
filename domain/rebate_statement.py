"""The audit trail of a closed rebate period: an event-sourced `RebateStatement`.

One statement per (program, distributor, period), its id derived from that key, so
closing the same period twice (a replay, a redelivery) hits the same aggregate.

- `RebateCalculated` (creation): every input an auditor needs to recompute the amount —
  volume, revenue, units, tier, rate, rebate, commitment shortfall, the number of
  contributing events and the digest of their ids (`domain.rebates.events_digest`).
  These values are never rewritten.
- `RebateAdjusted`: an event dated inside the closed period, recorded afterwards. It
  carries the triggering event id, why (`late_sale`, `late_return`, `late_event`, or
  `report_replaced` for the reversal of a line whose report a replacement report replaced), the
  amount (new rebate − the statement's total so far: negative is a clawback, positive a
  top-up, zero when the late event changes the totals but not the rebate) and the new
  totals. The same triggering event twice is a no-op.
- Approval: calculated → approved → paid, each with who and when (and the total at
  that moment); anything else raises `IllegalTransition`. Adjustments are accepted in
  every state: a return after payment is still clawed back, and `outstanding` shows
  what is owed (or to be recovered) beyond what was paid.

Business methods check and normalize first, then trigger the event; the event-applying
methods only assign, so replaying a statement from the store rebuilds it exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.currency import Unconverted, gap_rows
from domain.identity import derived_id
from domain.rebates import RebateInputs, RebateResult, adjustment
from domain.timeutil import utc

AdjustReason = Literal["late_sale", "late_return", "late_event", "report_replaced", "rate_arrived"]
StatementStatus = Literal["calculated", "approved", "paid"]


class IllegalTransition(ValueError):
    """An approval step that the statement's current state does not allow."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One recorded `RebateAdjusted`: the amount and the period's totals after it."""

    event_id: str
    reason: AdjustReason
    amount: Decimal
    rebate: Decimal
    volume: Decimal
    revenue: Decimal
    units: int
    event_count: int
    digest: str
    commitment_shortfall: Decimal | None
    at: datetime
    #: the rate events that converted revenue in another currency, and what had none
    rate_event_ids: tuple[str, ...] = ()
    unconverted: tuple[dict[str, str], ...] = ()


def reason_for(quantity: int, *, reversal: bool = False) -> AdjustReason:
    """The adjustment reason of a late line: the reversal of a replaced report's line, a
    return, a sale, or neither (quantity 0)."""
    if reversal:
        return "report_replaced"
    if quantity < 0:
        return "late_return"
    if quantity > 0:
        return "late_sale"
    return "late_event"


def _requireutc(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be a UTC time, got {moment.isoformat()}")


def _require_actor(by: str, name: str) -> None:
    if not by.strip():
        raise ValueError(f"{name} must name who did it")


class RebateStatement(Aggregate):
    """The closed rebate of one program, distributor and period, with its adjustments."""

    @staticmethod
    def create_id(program_id: str, distributor_id: str, period: str, **_: Any) -> UUID:
        return derived_id("rebate-statement", program_id, distributor_id, period)

    @classmethod
    def calculate(
        cls,
        *,
        program_id: str,
        distributor_id: str,
        period: str,
        inputs: RebateInputs,
        result: RebateResult,
        calculated_at: datetime,
        calculated_by: str,
        rate_event_ids: Sequence[UUID] = (),
        unconverted: Sequence[Unconverted] = (),
    ) -> RebateStatement:
        """A new statement from a closed period's inputs and result (`compute_rebate`), with
        the rates that converted its revenue in other currencies and what had none."""
        if result.status != "closed":
            raise ValueError("a rebate statement records a closed period's result")
        return cls(
            program_id=program_id,
            distributor_id=distributor_id,
            period=period,
            volume=result.volume,
            revenue=result.revenue,
            units=inputs.units,
            tier_index=result.tier_index,
            tier_rate=result.tier_rate,
            rebate=result.rebate,
            commitment_shortfall=result.commitment_shortfall,
            event_count=inputs.event_count,
            digest=inputs.digest,
            calculated_at=utc(calculated_at, "calculated_at"),
            calculated_by=calculated_by,
            rate_event_ids=[str(event_id) for event_id in rate_event_ids],
            unconverted=gap_rows(unconverted),
        )

    @event("RebateCalculated")
    def __init__(
        self,
        *,
        program_id: str,
        distributor_id: str,
        period: str,
        volume: Decimal,
        revenue: Decimal,
        units: int,
        tier_index: int | None,
        tier_rate: Decimal,
        rebate: Decimal,
        commitment_shortfall: Decimal | None,
        event_count: int,
        digest: str,
        calculated_at: datetime,
        calculated_by: str,
        rate_event_ids: Sequence[str] = (),
        unconverted: Sequence[dict[str, str]] = (),
    ) -> None:
        _requireutc(calculated_at, "calculated_at")
        _require_actor(calculated_by, "calculated_by")
        self.program_id = program_id
        self.distributor_id = distributor_id
        self.period = period
        self.volume = volume
        self.revenue = revenue
        self.units = units
        self.tier_index = tier_index
        self.tier_rate = tier_rate
        self.rebate = rebate
        self.commitment_shortfall = commitment_shortfall
        self.event_count = event_count
        self.digest = digest
        self.calculated_at = calculated_at
        self.calculated_by = calculated_by
        #: events recorded before these were kept read as none
        self.rate_event_ids = tuple(rate_event_ids)
        self.unconverted = tuple(unconverted)
        self.status: StatementStatus = "calculated"
        self.approved_by: str | None = None
        self.approved_at: datetime | None = None
        self.approved_total: Decimal | None = None
        self.paid_by: str | None = None
        self.paid_at: datetime | None = None
        self.paid_total: Decimal | None = None
        self.payment_reference: str | None = None
        self._adjustments: list[Adjustment] = []
        self._adjusted_ids: set[str] = set()
        self._adjusted_total = Decimal(0)

    # --- reads --------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        return f"{self.program_id}/{self.distributor_id}/{self.period}"

    @property
    def adjustments(self) -> tuple[Adjustment, ...]:
        return tuple(self._adjustments)

    @property
    def total(self) -> Decimal:
        """The closed rebate plus every adjustment: what the period is worth now."""
        return self.rebate + self._adjusted_total

    @property
    def outstanding(self) -> Decimal | None:
        """Total − what was paid (negative: to recover); None until paid."""
        return None if self.paid_total is None else self.total - self.paid_total

    def was_adjusted_for(self, event_id: str | UUID) -> bool:
        return str(event_id) in self._adjusted_ids

    # --- commands -----------------------------------------------------------------------------

    def adjust(
        self,
        *,
        event_id: str | UUID,
        reason: AdjustReason,
        inputs: RebateInputs,
        result: RebateResult,
        at: datetime,
        rate_event_ids: Sequence[UUID] = (),
        unconverted: Sequence[Unconverted] = (),
    ) -> bool:
        """Record the late event `event_id` (or the rate that arrived) and the period's new
        result; False if already done.

        `inputs` / `result` are the closed period's totals and rebate with the late event
        included (`compute_rebate(..., closed=True)`); the amount is result.rebate − total.
        """
        if reason not in get_args(AdjustReason):
            raise ValueError(f"reason must be one of {get_args(AdjustReason)}, got {reason!r}")
        if result.status != "closed":
            raise ValueError("an adjustment records a closed period's new result")
        if self.was_adjusted_for(event_id):
            return False
        self._adjusted(
            event_id=str(event_id),
            reason=reason,
            amount=adjustment(self.total, result),
            rebate=result.rebate,
            volume=result.volume,
            revenue=result.revenue,
            units=inputs.units,
            event_count=inputs.event_count,
            digest=inputs.digest,
            commitment_shortfall=result.commitment_shortfall,
            at=utc(at, "at"),
            rate_event_ids=[str(event_id) for event_id in rate_event_ids],
            unconverted=gap_rows(unconverted),
        )
        return True

    def approve(self, by: str, at: datetime) -> None:
        """calculated → approved."""
        if self.status != "calculated":
            raise IllegalTransition(f"cannot approve rebate statement {self.key}: {self._state()}")
        _require_actor(by, "approved by")
        self._approved(by=by, at=utc(at, "at"), total=self.total)

    def mark_paid(self, by: str, at: datetime, reference: str) -> None:
        """approved → paid, with the payment's reference (credit note, transfer, ...)."""
        if self.status != "approved":
            raise IllegalTransition(
                f"cannot mark rebate statement {self.key} paid: {self._state()}"
                + (" (approve it first)" if self.status == "calculated" else "")
            )
        _require_actor(by, "paid by")
        if not reference.strip():
            raise ValueError("a payment needs its reference")
        self._paid(by=by, at=utc(at, "at"), reference=reference, total=self.total)

    def _state(self) -> str:
        if self.status == "approved":
            when = self._iso(self.approved_at)
            return f"it is already approved (by {self.approved_by} at {when})"
        if self.status == "paid":
            return f"it is already paid (by {self.paid_by} at {self._iso(self.paid_at)})"
        return "it is only calculated"

    @staticmethod
    def _iso(moment: datetime | None) -> str:
        return "?" if moment is None else moment.isoformat()

    # --- events (apply only) ------------------------------------------------------------------

    @event("RebateAdjusted")
    def _adjusted(
        self,
        *,
        event_id: str,
        reason: AdjustReason,
        amount: Decimal,
        rebate: Decimal,
        volume: Decimal,
        revenue: Decimal,
        units: int,
        event_count: int,
        digest: str,
        commitment_shortfall: Decimal | None,
        at: datetime,
        rate_event_ids: Sequence[str] = (),
        unconverted: Sequence[dict[str, str]] = (),
    ) -> None:
        self._adjusted_ids.add(event_id)
        self._adjusted_total += amount
        self._adjustments.append(
            Adjustment(
                event_id=event_id,
                reason=reason,
                amount=amount,
                rebate=rebate,
                volume=volume,
                revenue=revenue,
                units=units,
                event_count=event_count,
                digest=digest,
                commitment_shortfall=commitment_shortfall,
                at=at,
                rate_event_ids=tuple(rate_event_ids),
                unconverted=tuple(unconverted),
            )
        )

    @event("RebateApproved")
    def _approved(self, *, by: str, at: datetime, total: Decimal) -> None:
        self.status = "approved"
        self.approved_by = by
        self.approved_at = at
        self.approved_total = total

    @event("RebatePaid")
    def _paid(self, *, by: str, at: datetime, reference: str, total: Decimal) -> None:
        self.status = "paid"
        self.paid_by = by
        self.paid_at = at
        self.payment_reference = reference
        self.paid_total = total


#: events stored while this module was domain/rebate_audit.py name the class by that topic
register_topic("domain.rebate_audit:RebateStatement", RebateStatement)
