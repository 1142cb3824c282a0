"""A pricing violation as an event-sourced audit aggregate, and who may move it along.

The id derives from the sale key (distributor_id, transaction_id), so a redelivered,
resent or replayed sale never opens a second violation for the same line.

Every step records who (actor id, and for a distributor its distributor id), the role, when
(an explicit `at`: the aggregate never reads a clock) and why (a non-empty reason).
An illegal step raises `IllegalTransition` (HTTP 409); a step the actor's role does not
permit raises `NotAllowed` (HTTP 403). Permission is checked before the transition, so a
caller without the right learns nothing about the violation's state.

The lifecycle, and who may take each step: domain/violation_lifecycle.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.identity import derived_id
from domain.lifecycle_steps import check_who_when_why
from domain.timeutil import utc
from domain.violation_lifecycle import (
    TRANSITIONS,
    Action,
    Resolution,
    Step,
    ViolationStatus,
    check_allowed,
    next_status,
)


class PricingViolation(Aggregate):
    """A sale line below the floor in effect, and its handling.

    Create it with the fields of `projections.price_rules.ViolationDetected`
    (`PricingViolation(**dataclasses.asdict(fact))`); `violation_id` must be the id derived
    from the sale key.
    """

    @staticmethod
    def create_id(distributor_id: str, transaction_id: str, **_: Any) -> UUID:
        return derived_id("violation", distributor_id, transaction_id)

    @event("Detected")
    def __init__(
        self,
        violation_id: UUID,
        distributor_id: str,
        transaction_id: str,
        reseller_id: str,
        sku: str,
        sold_at: datetime,
        quantity: int,
        unit_price: Decimal,
        floor_price: Decimal,
        currency: str,
        severity: str,
        event_id: UUID,
        scope: str,
        price_event_id: UUID,
        rate_event_id: UUID | None = None,
        alias_event_id: UUID | None = None,
    ) -> None:
        if violation_id != self.id:
            raise ValueError(
                f"violation id {violation_id} is not the one derived from the sale key "
                f"({distributor_id}, {transaction_id}): {self.id}"
            )
        self.distributor_id = distributor_id
        self.transaction_id = transaction_id
        self._judged(
            reseller_id, sku, sold_at, quantity, unit_price, floor_price, currency, severity,
            event_id, scope, price_event_id, rate_event_id, alias_event_id,
        )  # fmt: skip
        self.status = ViolationStatus.DETECTED
        self.resolution: Resolution | None = None
        self.resolution_amount: Decimal | None = None
        self.steps: tuple[Step, ...] = ()

    @event("Revised")
    def revise(
        self,
        reseller_id: str,
        sku: str,
        sold_at: datetime,
        quantity: int,
        unit_price: Decimal,
        floor_price: Decimal,
        currency: str,
        severity: str,
        event_id: UUID,
        scope: str,
        price_event_id: UUID,
        rate_event_id: UUID | None = None,
        alias_event_id: UUID | None = None,
    ) -> None:
        """The sale key's line as a replacement report corrected it, judged again: its
        facts replace the replaced line's (kept in this aggregate's history); the
        lifecycle (status, steps) carries on."""
        self._judged(
            reseller_id, sku, sold_at, quantity, unit_price, floor_price, currency, severity,
            event_id, scope, price_event_id, rate_event_id, alias_event_id,
        )  # fmt: skip

    def _judged(
        self,
        reseller_id: str,
        sku: str,
        sold_at: datetime,
        quantity: int,
        unit_price: Decimal,
        floor_price: Decimal,
        currency: str,
        severity: str,
        event_id: UUID,
        scope: str,
        price_event_id: UUID,
        rate_event_id: UUID | None = None,
        alias_event_id: UUID | None = None,
    ) -> None:
        """The judged sale line's facts, as detected or revised."""
        self.reseller_id = reseller_id
        self.sku = sku
        self.sold_at = sold_at
        self.quantity = quantity
        self.unit_price = unit_price
        self.floor_price = floor_price
        self.currency = currency
        self.severity = str(severity)
        self.event_id = event_id
        self.scope = str(scope)
        self.price_event_id = price_event_id
        #: the rate that converted a floor in another currency (None: the sale's own)
        self.rate_event_id = rate_event_id
        #: the mapping step that made a price or deal for the reseller's master apply
        #: (None: it named the reseller itself, or none)
        self.alias_event_id = alias_event_id

    @property
    def violation_id(self) -> UUID:
        return self.id

    @property
    def last_step_at(self) -> datetime | None:
        return self.steps[-1].at if self.steps else None

    # --- commands: check, then record ----------------------------------------------------

    def acknowledge(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        actor_distributor_id: str | None = None,
    ) -> None:
        """The finding is accepted (detected or disputed → acknowledged)."""
        self._check(Action.ACKNOWLEDGE, actor_id, role, actor_distributor_id, at, reason)
        self._acknowledged(actor_id, str(role), actor_distributor_id, utc(at), reason.strip())

    def dispute(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        actor_distributor_id: str | None = None,
    ) -> None:
        """The finding is contested (detected → disputed)."""
        self._check(Action.DISPUTE, actor_id, role, actor_distributor_id, at, reason)
        self._disputed(actor_id, str(role), actor_distributor_id, utc(at), reason.strip())

    def resolve(
        self,
        *,
        actor_id: str,
        role: str,
        at: datetime,
        reason: str,
        resolution: str,
        amount: Decimal | None = None,
        actor_distributor_id: str | None = None,
    ) -> None:
        """Closed for good as waived, credited or penalized (`amount`: the money involved)."""
        self._check(Action.RESOLVE, actor_id, role, actor_distributor_id, at, reason)
        try:
            outcome = Resolution(resolution)
        except ValueError:
            choices = ", ".join(str(r) for r in Resolution)
            raise ValueError(f"unknown resolution {resolution!r} (use {choices})") from None
        if amount is not None:
            if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
                raise ValueError(f"resolution amount must be a non-negative Decimal: {amount!r}")
            if outcome is Resolution.WAIVED:
                raise ValueError("a waived violation carries no amount")
        self._resolved(
            actor_id,
            str(role),
            actor_distributor_id,
            utc(at),
            reason.strip(),
            str(outcome),
            amount,
        )

    def _check(
        self,
        action: Action,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
    ) -> None:
        check_allowed(role, actor_distributor_id, self.distributor_id, action)
        next_status(self.status, action)
        check_who_when_why(action, actor_id, reason, at, self.last_step_at)

    # --- events: what happened (they also run on replay, so they never validate) ---------

    @event("Acknowledged")
    def _acknowledged(
        self,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
    ) -> None:
        self._step(Action.ACKNOWLEDGE, actor_id, role, actor_distributor_id, at, reason)

    @event("Disputed")
    def _disputed(
        self,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
    ) -> None:
        self._step(Action.DISPUTE, actor_id, role, actor_distributor_id, at, reason)

    @event("Resolved")
    def _resolved(
        self,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
        resolution: str,
        amount: Decimal | None,
    ) -> None:
        outcome = Resolution(resolution)
        self._step(
            Action.RESOLVE, actor_id, role, actor_distributor_id, at, reason, outcome, amount
        )
        self.resolution = outcome
        self.resolution_amount = amount

    def _step(
        self,
        action: Action,
        actor_id: str,
        role: str,
        actor_distributor_id: str | None,
        at: datetime,
        reason: str,
        resolution: Resolution | None = None,
        amount: Decimal | None = None,
    ) -> None:
        target = TRANSITIONS[(self.status, action)]
        step = Step(
            action=action,
            from_status=self.status,
            to_status=target,
            actor_id=actor_id,
            role=role,
            actor_distributor_id=actor_distributor_id,
            at=at,
            reason=reason,
            resolution=resolution,
            amount=amount,
        )
        self.steps = (*self.steps, step)
        self.status = target
