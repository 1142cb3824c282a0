"""What each audit fact becomes in the event store: which aggregate, under which id, and
what a fact already recorded under that id changes. Pure (aggregates in memory); the event
store (infra/eventstore.py) only loads and saves what this module decides.

- `Reconciliation` -> `InventoryReconciliation`: recorded once (a count is reconciled once);
- `ViolationDetected` -> `PricingViolation`: revised when another accepted line now holds
  its sale key (a replacement report's);
- `PriceProtectionClaim` -> `PriceProtection`: revised when its units changed (to zero once
  withdrawn; `Withdrawn`, naming the agreement version, when a later-recorded agreement
  moved the distributor to another list); a withdrawn claim that was never recorded is
  not recorded at all;
- `RotationDecided` -> `StockRotation`: requested and decided once (a different decision
  later is not recorded: the first stands); `RotationReturned` takes the units of one
  return shipment event once (never recorded before its decision), `RotationExchanged`
  the units of one exchange shipment event once; `RotationCancelled`
  cancels it once (a second cancellation, or one after a return, is not recorded);
- `AliasStepTaken` -> `PartyAlias`: opened by the alias's first step, then each step
  taken once (by its event id);
- `ClaimSubmitted` -> `DebitClaim`: submitted once; `ClaimLinesDecided` records each
  decision it does not hold yet, `ClaimLinesReopened` reopens the lines still holding
  units (neither is recorded before its claim's submission);
- `StatementPlan` -> `RebateStatement`: calculated at the close, then adjusted by each
  planned adjustment it has not taken yet.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from domain.alias_mapping import PartyAlias
from domain.claim_lifecycle import DebitClaim
from domain.claim_steps import IllegalTransition, NotAllowed
from domain.price_protection import PriceProtection
from domain.rebate_statement import RebateStatement
from domain.reconciliation import InventoryReconciliation
from domain.rotation_lifecycle import StockRotation
from domain.violation import PricingViolation
from projections.alias_facts import AliasStepTaken
from projections.claim_facts import ClaimLinesDecided, ClaimLinesReopened, ClaimSubmitted
from projections.inventory import Reconciliation
from projections.outcome import AuditFact
from projections.price_protection_claims import PriceProtectionClaim
from projections.price_rules import ViolationDetected
from projections.rebate_accruals import PlannedAdjustment, StatementPlan
from projections.rotation_facts import (
    RotationCancelled,
    RotationDecided,
    RotationExchanged,
    RotationReturned,
    RotationShipment,
)

FACT_AGGREGATES: Final[dict[type, Any]] = {
    Reconciliation: InventoryReconciliation,
    ViolationDetected: PricingViolation,
    PriceProtectionClaim: PriceProtection,
    RotationDecided: StockRotation,
    RotationReturned: StockRotation,
    AliasStepTaken: PartyAlias,
    RotationExchanged: StockRotation,
    RotationCancelled: StockRotation,
    ClaimSubmitted: DebitClaim,
    ClaimLinesDecided: DebitClaim,
    ClaimLinesReopened: DebitClaim,
}


def aggregate_id(fact: AuditFact) -> UUID:
    """The id of the aggregate a fact is recorded in, derived from its business key."""
    return FACT_AGGREGATES[type(fact)].create_id(**_fields(fact))


def new_aggregate(fact: AuditFact) -> Any | None:
    """The aggregate that records a fact for the first time; None for a withdrawn claim
    (zero units) that was never recorded: there is nothing to withdraw."""
    if isinstance(fact, PriceProtectionClaim):
        return None if fact.units == 0 else PriceProtection(**_claim_fields(fact))
    if isinstance(
        fact,
        RotationReturned
        | RotationExchanged
        | RotationCancelled
        | ClaimLinesDecided
        | ClaimLinesReopened,
    ):
        return None
    if isinstance(fact, ClaimSubmitted):
        return DebitClaim.submit(fact.claim, fact.recorded_at)
    if isinstance(fact, RotationDecided):
        rotation = StockRotation.request(fact.request, fact.recorded_at)
        rotation.record_decision(fact.decision)
        return rotation
    if isinstance(fact, AliasStepTaken):
        alias = PartyAlias(fact.alias_key, fact.distributor_id)
        _take(alias, fact)
        return alias
    return FACT_AGGREGATES[type(fact)](**_fields(fact))


def revised(aggregate: Any, fact: AuditFact) -> Any | None:
    """The recorded aggregate revised by a fact under its key; None when nothing changes."""
    if isinstance(fact, ViolationDetected):
        return _revised_violation(aggregate, fact)
    if isinstance(fact, PriceProtectionClaim):
        return _revised_claim(aggregate, fact)
    if isinstance(fact, RotationReturned):
        return _received(aggregate, fact)
    if isinstance(fact, AliasStepTaken):
        return aggregate if _take(aggregate, fact) else None
    if isinstance(fact, RotationExchanged):
        return _exchanged(aggregate, fact)
    if isinstance(fact, RotationCancelled):
        return _cancelled(aggregate, fact)
    if isinstance(fact, ClaimLinesDecided):
        return _claim_decided(aggregate, fact)
    if isinstance(fact, ClaimLinesReopened):
        return _claim_reopened(aggregate, fact)
    return None  # a reconciliation, a rotation's decision: recorded once


def statement_id(plan: StatementPlan) -> UUID:
    return RebateStatement.create_id(plan.program_id, plan.distributor_id, plan.period)


def new_statement(plan: StatementPlan) -> RebateStatement:
    """A closed period's statement as calculated at its close, by whoever closed it."""
    return RebateStatement.calculate(
        program_id=plan.program_id,
        distributor_id=plan.distributor_id,
        period=plan.period,
        inputs=plan.inputs,
        result=plan.result,
        calculated_at=plan.closed.closed_at,
        calculated_by=plan.closed.closed_by,
        rate_event_ids=plan.rate_event_ids,
        unconverted=plan.unconverted,
    )


def adjust(statement: RebateStatement, adjustment: PlannedAdjustment) -> bool:
    """Take one planned adjustment; False when the statement has taken it already."""
    return statement.adjust(
        event_id=adjustment.event_id,
        reason=adjustment.reason,
        inputs=adjustment.inputs,
        result=adjustment.result,
        at=adjustment.recorded,
        rate_event_ids=adjustment.rate_event_ids,
        unconverted=adjustment.unconverted,
    )


def _fields(fact: AuditFact) -> dict[str, Any]:
    """The fact's fields, shallow (they are flat values; `asdict` would deep-copy them)."""
    return {name: getattr(fact, name) for name in fact.__dataclass_fields__}


def _take(alias: PartyAlias, fact: AliasStepTaken) -> bool:
    step = fact.step
    score = None if step.score is None else str(step.score)
    return alias.take(
        step.action, step.master_id, step.changed_by, step.reason, step.changed_at,
        step.event_id, step.automatic, score,
    )  # fmt: skip


def _revised_claim(claim: PriceProtection, fact: PriceProtectionClaim) -> PriceProtection | None:
    """Revised to the fact's units and amount; withdrawn, naming the agreement version,
    when the drop no longer governs the distributor (`off_list`)."""
    if (claim.units, claim.amount) == (fact.units, fact.amount):
        return None
    if fact.off_list:
        claim.withdraw(fact.agreement_version, fact.agreement_event_id)
    else:
        claim.revise(fact.units, fact.amount)
    return claim


#: what names the version that withdrew a claim: not the aggregate's
_WITHDRAWAL_FIELDS: Final = ("off_list", "agreement_version", "agreement_event_id")


def _claim_fields(fact: PriceProtectionClaim) -> dict[str, Any]:
    return {k: v for k, v in _fields(fact).items() if k not in _WITHDRAWAL_FIELDS}


def _received(rotation: StockRotation, fact: RotationReturned) -> StockRotation | None:
    return _shipped(rotation, fact, rotation.return_events, rotation.receive)


def _exchanged(rotation: StockRotation, fact: RotationExchanged) -> StockRotation | None:
    return _shipped(rotation, fact, rotation.exchange_events, rotation.ship_exchange)


def _shipped(
    rotation: StockRotation,
    fact: RotationShipment,
    taken: Container[UUID],
    take: Callable[[UUID, dict[str, int], datetime], object],
) -> StockRotation | None:
    """The units of a return or exchange shipment event not taken yet; None when taken, or
    refused (the projection only passes units still due, so a refusal means the store holds
    a different history: the first one stands)."""
    if fact.shipment_event_id in taken:
        return None
    try:
        take(fact.shipment_event_id, fact.lines, fact.at)
    except (IllegalTransition, ValueError):
        return None
    return rotation


def _cancelled(rotation: StockRotation, fact: RotationCancelled) -> StockRotation | None:
    """The rotation cancelled; None when it is cancelled already or cannot be (the
    projection refuses those first, so the store holds another history: it stands)."""
    own = fact.distributor_id if fact.role == "distributor" else None
    try:
        rotation.cancel(
            actor_id=fact.actor_id, role=fact.role, at=fact.at, reason=fact.reason,
            actor_distributor_id=own, event_id=fact.event_id,
        )  # fmt: skip
    except (IllegalTransition, NotAllowed, ValueError):
        return None
    return rotation


def _claim_decided(claim: DebitClaim, fact: ClaimLinesDecided) -> DebitClaim | None:
    """The decisions of lines without one or waiting for their POS line: a decision given
    stands until a reversal reopens it, so facts recorded again (a replay) change nothing."""
    changed = False
    for decision in fact.decisions:
        current = claim.decisions.get(decision.line_no)
        if current is None or current.status == "pending_pos":
            changed = claim.record_decision(decision) or changed
    return claim if changed else None


def _claim_reopened(claim: DebitClaim, fact: ClaimLinesReopened) -> DebitClaim | None:
    """Reopen the lines decided against the reversed POS line (none again: a replay)."""
    changed = False
    for number in fact.line_nos:
        current = claim.decisions.get(number)
        if current is not None and current.pos_event_id == fact.pos_event_id:
            by, at = fact.replacement_event_id, fact.at
            changed = claim.reopen_line(number, replacement_event_id=by, at=at) or changed
    return claim if changed else None


def _revised_violation(
    violation: PricingViolation, fact: ViolationDetected
) -> PricingViolation | None:
    """Another accepted line under the sale key (a replacement report's): revise."""
    if violation.event_id == fact.event_id:
        return None
    fields = _fields(fact)
    for key in ("violation_id", "distributor_id", "transaction_id"):
        del fields[key]
    violation.revise(**fields)
    return violation
