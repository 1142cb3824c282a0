"""The decision documents published on `<prefix>.decisions`: one pydantic model per kind of
decision, the single declaration of their JSON Schema (`schemas/json/Decision.v1.json`) and
of the AsyncAPI document's messages (docs/DECISIONS.md).

Every document carries the same head (`DecisionHead`): a deterministic `decision_id`, the
record it belongs to (kind, id, version), its position in the event store and the
distributor it concerns (the message key); the rest is the decision's own fields. Money is
a decimal string, times are ISO 8601 UTC.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, RootModel

from schemas.types import UtcDatetime

DECISIONS_TOPIC: Final = "decisions"
DECISION_SCHEMA_VERSION: Final = 1

RecordKind = Literal["violation", "reconciliation", "claim", "statement", "erasure"]


class DecisionHead(BaseModel):
    """What every decision document carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_id: UUID = Field(
        description="uuid5 of the record id and version: the same stored event always has "
        "the same id, so a redelivered document is recognised by it"
    )
    decision_type: str = Field(description="what was decided: `<record kind>.<step>`")
    schema_version: Literal[1] = 1
    record_kind: RecordKind = Field(description="the audit record (docs/AUDIT.md)")
    record_id: UUID = Field(description="the audit record's id (derived from its business key)")
    record_version: int = Field(ge=1, description="the event's version within its record")
    position: int = Field(ge=1, description="the event's position in the event store")
    recorded_at: UtcDatetime = Field(description="when the event store recorded it")
    distributor_id: str = Field(description="the distributor concerned: the message key")


class _SaleJudged(DecisionHead):
    transaction_id: str
    reseller_id: str
    sku: str
    sold_at: UtcDatetime
    quantity: int
    unit_price: Decimal
    floor_price: Decimal
    currency: str
    severity: str
    scope: str = Field(description="the price the floor came from: list, distributor, reseller")
    sale_event_id: UUID
    price_event_id: UUID
    rate_event_id: UUID | None = Field(
        default=None, description="the rate that converted a floor in another currency"
    )
    alias_event_id: UUID | None = Field(
        default=None,
        description="the alias mapping that made a price or authorization for the reseller's "
        "master apply",
    )


class ViolationDetected(_SaleJudged):
    """A sale line below the floor price in effect: a new pricing violation."""

    decision_type: Literal["violation.detected"] = "violation.detected"
    record_kind: Literal["violation"] = "violation"


class ViolationRevised(_SaleJudged):
    """The violation's sale line as a replacement report corrected it, judged again."""

    decision_type: Literal["violation.revised"] = "violation.revised"
    record_kind: Literal["violation"] = "violation"


class _ViolationStep(DecisionHead):
    record_kind: Literal["violation"] = "violation"
    transaction_id: str
    actor_id: str
    role: str
    actor_distributor_id: str | None
    at: UtcDatetime
    reason: str


class ViolationAcknowledged(_ViolationStep):
    """The finding was accepted."""

    decision_type: Literal["violation.acknowledged"] = "violation.acknowledged"


class ViolationDisputed(_ViolationStep):
    """The finding was contested."""

    decision_type: Literal["violation.disputed"] = "violation.disputed"


class ViolationResolved(_ViolationStep):
    """The violation was closed for good: waived, credited or penalized."""

    decision_type: Literal["violation.resolved"] = "violation.resolved"
    resolution: str
    amount: Decimal | None


class ReconciliationRecorded(DecisionHead):
    """A physical count compared with the expected on-hand as of the count's time."""

    decision_type: Literal["reconciliation.recorded"] = "reconciliation.recorded"
    record_kind: Literal["reconciliation"] = "reconciliation"
    sku: str
    counted_at: UtcDatetime
    on_hand: int
    expected: int
    variance: int
    stale: bool


class ClaimRecorded(DecisionHead):
    """A price-protection claim: (old − new cost) × units on hand at the drop."""

    decision_type: Literal["claim.recorded"] = "claim.recorded"
    record_kind: Literal["claim"] = "claim"
    sku: str
    effective_from: UtcDatetime
    units: int
    old_cost: Decimal
    new_cost: Decimal
    amount: Decimal
    currency: str
    price_event_id: UUID


class ClaimRevised(DecisionHead):
    """A price-protection claim whose units on hand changed: its new units and amount."""

    decision_type: Literal["claim.revised"] = "claim.revised"
    record_kind: Literal["claim"] = "claim"
    sku: str
    effective_from: UtcDatetime
    units: int
    amount: Decimal
    currency: str


class _StatementDecision(DecisionHead):
    record_kind: Literal["statement"] = "statement"
    program_id: str
    period: str


class _StatementFigures(_StatementDecision):
    volume: Decimal
    revenue: Decimal
    units: int
    rebate: Decimal
    commitment_shortfall: Decimal | None
    event_count: int
    digest: str
    #: the exchange-rate events that converted revenue in another currency (none: all of
    #: it was in the program's, or recorded before they were kept)
    rate_event_ids: list[str] = Field(default_factory=list)
    #: revenue in another currency without a rate for its day: [{currency, day, amount}]
    unconverted: list[dict[str, str]] = Field(default_factory=list)


class StatementCalculated(_StatementFigures):
    """A closed rebate period's statement."""

    decision_type: Literal["statement.calculated"] = "statement.calculated"
    tier_index: int | None
    tier_rate: Decimal
    calculated_at: UtcDatetime
    calculated_by: str


class StatementAdjusted(_StatementFigures):
    """An event dated in a closed period, recorded after it: the amount (negative: a
    clawback) and the period's new figures."""

    decision_type: Literal["statement.adjusted"] = "statement.adjusted"
    trigger_event_id: str
    reason: str
    amount: Decimal
    at: UtcDatetime


class StatementApproved(_StatementDecision):
    """The statement was approved, at its total then."""

    decision_type: Literal["statement.approved"] = "statement.approved"
    by: str
    at: UtcDatetime
    total: Decimal


class StatementPaid(_StatementDecision):
    """The statement was paid, at its total then, with the payment's reference."""

    decision_type: Literal["statement.paid"] = "statement.paid"
    by: str
    at: UtcDatetime
    total: Decimal
    reference: str


class SubjectErased(DecisionHead):
    """A data subject's personal data was erased (docs/PRIVACY.md): forget what you hold of
    this end customer of this distributor. One document per distributor concerned."""

    decision_type: Literal["erasure.recorded"] = "erasure.recorded"
    record_kind: Literal["erasure"] = "erasure"
    subject: str = Field(
        description="`id:<end customer id>`, or `name:<sha256 of the normalised name>` for a "
        "subject that had no id; never a name"
    )
    key_ids: list[str] = Field(
        description="the subject's keys deleted: tokens `pii1.<key id>.…` under them no "
        "longer open (none: nothing was held)"
    )
    actor_id: str
    at: UtcDatetime
    reason: str


#: every kind of decision document, in the order the docs list them
DECISION_TYPES: Final[tuple[type[DecisionHead], ...]] = (
    ViolationDetected,
    ViolationRevised,
    ViolationAcknowledged,
    ViolationDisputed,
    ViolationResolved,
    ReconciliationRecorded,
    ClaimRecorded,
    ClaimRevised,
    StatementCalculated,
    StatementAdjusted,
    StatementApproved,
    StatementPaid,
    SubjectErased,
)

AnyDecision = Annotated[
    ViolationDetected
    | ViolationRevised
    | ViolationAcknowledged
    | ViolationDisputed
    | ViolationResolved
    | ReconciliationRecorded
    | ClaimRecorded
    | ClaimRevised
    | StatementCalculated
    | StatementAdjusted
    | StatementApproved
    | StatementPaid
    | SubjectErased,
    Field(discriminator="decision_type"),
]


class Decision(RootModel[AnyDecision]):
    """One message value on the decisions topic: a decision document, told apart by its
    `decision_type`."""


def decision_type_of(model: type[DecisionHead]) -> str:
    """The `decision_type` a document model carries."""
    return str(model.model_fields["decision_type"].default)
