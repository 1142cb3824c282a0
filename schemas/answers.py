"""The HTTP API's answers and bodies other than rows: one pydantic model each, the single
declaration the OpenAPI document's component schemas are derived from
(`streams/api/openapi.py`; tests compare the answers with them).

Like the rows (schemas/rows/), the handlers build plain dicts: a model only declares.
A field with a default may be absent from an answer; it is never filled in.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from schemas.rows.base import DecimalText, ResellerId, Sku, SoldAt, Time, TransactionId, Uuid
from schemas.rows.inventory import ChannelInventory


def may_be_absent(description: str | None = None) -> Any:
    """A field an answer may leave out (never null): its default only makes it optional in
    the schema; nothing fills it in."""
    return Field(None, description=description)


class ApiAnswer(BaseModel):
    """An answer or request body the API documents."""

    model_config = ConfigDict(frozen=True)


class ApiBody(ApiAnswer):
    """A command's JSON body: a field it does not have is refused (streams/api/http_body.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- envelopes ------------------------------------------------------------------------------


class ErrorDetail(ApiAnswer):
    """What went wrong; an upload's error may name more (the line, the segment, ...)."""

    status: int = Field(description="The HTTP status.")
    code: str = Field(
        description="What kind of error.", examples=["bad_request", "unauthorized", "forbidden"]
    )
    message: str = Field(description="What went wrong, for a person.")
    unknown: list[str] = may_be_absent("The query parameters the operation does not take.")
    parameters: list[str] = may_be_absent("The query parameters the operation takes.")
    field: str = may_be_absent('The body field in question, as a path ("lines.0").')


class Error(ApiAnswer):
    """Every error answer."""

    error: ErrorDetail


class Page(ApiAnswer):
    """A page of a list endpoint: rows, the total before paging, and the page's bounds."""

    rows: list[dict[str, Any]] = Field(description="The page's rows.")
    total: int = Field(description="rows matching the filters, before paging")
    limit: int = Field(description="Rows per page asked for.")
    offset: int = Field(description="Rows skipped.")


class InventorySummaryTotals(ApiAnswer):
    """What the inventory summary's page adds: the channel-wide totals of its rows."""

    channel: ChannelInventory


class SellThroughPeriods(ApiAnswer):
    """What the sell-through page adds: its periods, and the one still running."""

    granularity: Literal["week", "month", "quarter"] = Field(description="The period length.")
    partial_period: str | None = Field(
        description="the period the latest recorded time falls in: not over, its totals are "
        "partial (null: no data yet)"
    )


class WatchlistShare(ApiAnswer):
    """What the rebate watchlist's page adds: the share of the next tier it looked within."""

    share: DecimalText = Field(description="Within this share of the next threshold.")


# --- operations -----------------------------------------------------------------------------


class Health(ApiAnswer):
    """Liveness, the running mode and what the health checks found."""

    status: Literal["ok", "degraded"] = Field(description="`degraded` when a check fails.")
    mode: str = Field(description="How the server runs.", examples=["embedded demo", "kafka"])
    dependencies: dict[str, str] = may_be_absent('Each dependency checked: "up" or "down: why".')
    failing: dict[str, str] = may_be_absent("What is failing, and why.")
    partitions: dict[str, Any] = may_be_absent(
        "The state partitions a worker holds, and whether they cover the channel."
    )
    reference: dict[str, Any] = may_be_absent(
        "A worker's reference replica: whether its initial load is done, and how many "
        "reference records it had yet to read at the latest end offsets it asked for."
    )


class SchemaFile(ApiAnswer):
    """One JSON Schema file."""

    name: str = Field(examples=["SaleReported.v1.json"])
    type: str = Field(examples=["SaleReported"])
    version: int
    url: str


class SchemaList(ApiAnswer):
    """Every JSON Schema the server serves."""

    schemas: list[SchemaFile]


# --- pricing --------------------------------------------------------------------------------


class ViolationSale(ApiAnswer):
    """The sale a violation judged."""

    event_id: Uuid
    transaction_id: TransactionId
    reseller_id: ResellerId
    sku: Sku
    sold_at: SoldAt
    quantity: int
    unit_price: DecimalText
    currency: str


class ViolationPrice(ApiAnswer):
    """The price a violation broke."""

    event_id: Uuid = Field(description="The price change that set it.")
    scope: str = Field(description="Whom it applies to: the list, a distributor, a reseller.")
    floor_price: DecimalText = Field(description="In the sale's currency.")
    rate_event_id: Uuid | None = Field(
        description="The exchange rate that converted the floor into the sale's currency "
        "(null: the floor was in the sale's currency)."
    )
    alias_event_id: Uuid | None = Field(
        description="The mapping step that made the sale's reseller an alias of the master "
        "the price or authorization names (null: it named the reseller as sent, or none)."
    )


class ViolationHistoryStep(ApiAnswer):
    """One step of a violation's lifecycle: who did what, when and why."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    action: str
    from_status: str = Field(alias="from")
    to: str
    actor: str
    role: str
    at: Time
    reason: str | None
    resolution: str | None


class Violation(ApiAnswer):
    """One violation with its sale, the price it broke and its lifecycle."""

    violation_id: Uuid
    distributor_id: str
    transaction_id: TransactionId
    reseller_id: ResellerId
    sku: Sku
    sold_at: SoldAt
    unit_price: DecimalText
    floor_price: DecimalText
    severity: Literal["minor", "major", "critical"]
    status: str
    resolution: str | None
    sale: ViolationSale
    price: ViolationPrice
    steps: list[ViolationHistoryStep]


class ViolationStep(ApiBody):
    """The body of a step: why, and for `resolve` how it was resolved."""

    reason: str
    resolution: str = may_be_absent("resolve: waived, credited or penalized")
    amount: DecimalText = may_be_absent()


# --- rebates --------------------------------------------------------------------------------


class PeriodClose(ApiAnswer):
    """A period close, accepted: applied asynchronously."""

    program_id: str
    period: str
    closed_by: str
    closed_at: Time


class UnconvertedAmount(ApiAnswer):
    """Revenue in another currency than the program's without a rate for its day."""

    currency: str
    day: str
    amount: DecimalText


class StatementAdjustment(ApiAnswer):
    """A late event, or a rate that arrived late (`rate_arrived`), that changed a closed
    period's rebate."""

    event_id: str
    reason: str
    amount: DecimalText | None
    rebate: DecimalText | None
    at: Time | None
    rate_event_ids: list[str] = Field(description="The rate events that converted revenue.")
    unconverted: list[UnconvertedAmount] = Field(description="Revenue still without a rate.")


class Statement(ApiAnswer):
    """A closed period's statement, its adjustments and its approval state."""

    program_id: str
    distributor_id: str
    period: str
    volume: DecimalText | None
    revenue: DecimalText | None
    tier_rate: DecimalText | None
    rebate: DecimalText | None
    commitment_shortfall: DecimalText | None
    event_count: int
    digest: str
    rate_event_ids: list[str] = Field(description="The rate events that converted revenue.")
    unconverted: list[UnconvertedAmount] = Field(description="Revenue without a rate at the close.")
    calculated_at: Time | None
    calculated_by: str
    adjustments: list[StatementAdjustment]
    total: DecimalText | None
    status: str
    approved_by: str | None
    payment_reference: str | None
    paid_by: str | None


class Payment(ApiBody):
    """The body of a statement's step: `pay` gives the payment's reference."""

    reference: str = may_be_absent("pay: the payment's reference")


# --- stock rotations ----------------------------------------------------------------------


class RotationCancel(ApiBody):
    """The body of a rotation's cancellation: why."""

    reason: str


class RotationCancelled(ApiAnswer):
    """A rotation's cancellation, accepted: applied asynchronously."""

    distributor_id: str
    request_id: str
    cancelled_by: str
    cancelled_at: Time


# --- debit claims ---------------------------------------------------------------------------


class ClaimLineDecision(ApiAnswer):
    """A claim line's latest decision, its figures and what decided it (docs/CLAIMS.md)."""

    status: Literal["accepted", "adjusted", "rejected", "pending_pos"]
    reasons: list[str] = Field(description="The rejection reason, or the adjustments made.")
    quantity_claimed: int
    quantity_accepted: int
    amount_claimed: DecimalText
    amount_accepted: DecimalText
    book_cost: DecimalText | None
    authorized_cost: DecimalText | None
    pos_event_id: Uuid | None
    price_event_id: Uuid | None
    authorization_event_id: Uuid | None
    agreement_event_id: Uuid | None = Field(
        description="The agreement version whose terms priced the book cost (a named list "
        "it binds, or its group discount); null: none did."
    )


class ClaimLineAnswer(ApiAnswer):
    """A claim line as claimed, with its latest decision (null: not decided yet)."""

    line_no: int
    transaction_id: TransactionId
    sku: Sku
    quantity: int
    authorization_id: str
    amount_claimed: DecimalText
    currency: str
    decision: ClaimLineDecision | None


class ClaimStepRecord(ApiAnswer):
    """One lifecycle step of a claim: what, from and to which status, who, when, why."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    action: Literal["approve", "pay", "credit", "dispute", "resolve"]
    from_status: str = Field(alias="from")
    to: str
    actor: str
    role: str
    actor_distributor_id: str | None
    at: Time
    reason: str
    reference: str | None = Field(description="pay, credit: its reference; resolve: outcome")
    amount: DecimalText | None
    lines: list[int] = Field(description="dispute: the lines contested")


class Claim(ApiAnswer):
    """A debit claim as its aggregate records it: status, totals, lines and steps."""

    distributor_id: str
    claim_id: str
    aggregate_id: Uuid
    event_id: Uuid = Field(description="The DebitClaimSubmitted the claim was recorded from.")
    recorded_at: Time
    status: Literal["submitted", "validated", "disputed", "approved", "paid", "credited"]
    total_claimed: DecimalText
    total_accepted: DecimalText = Field(description="Accepted amounts plus upheld grants.")
    granted: DecimalText
    settled: DecimalText | None = Field(description="What was paid or credited (null: not yet).")
    outstanding: DecimalText | None = Field(description="total_accepted - settled")
    pending_lines: list[int]
    lines: list[ClaimLineAnswer]
    steps: list[ClaimStepRecord]
    version: int


class ClaimStep(ApiBody):
    """The body of a claim step: approve, dispute and resolve say why (dispute names the
    lines; resolve its outcome, upheld optionally granting an amount); pay and credit give
    the payment's or credit note's reference."""

    reason: str = may_be_absent("approve, dispute, resolve")
    reference: str = may_be_absent("pay, credit")
    lines: list[int] = may_be_absent("dispute: the line numbers contested")
    outcome: Literal["upheld", "rejected"] = may_be_absent("resolve")
    granted: DecimalText = may_be_absent("resolve upheld: granted on top")


# --- reseller identity ----------------------------------------------------------------------


class MatchStep(ApiBody):
    """The body of confirming or rejecting a match proposal: why, and for `confirm` the
    master (default: the best candidate)."""

    reason: str
    master_id: str = may_be_absent("confirm: the master meant (default: the best candidate)")


class MatchStepAccepted(ApiAnswer):
    """A confirmation or rejection, accepted: the proposal closes when it is applied."""

    distributor_id: str
    alias_id: str
    action: Literal["confirm", "reject"]
    event_id: str
    changed_by: str
    master_id: str = may_be_absent("confirm: the master it is mapped to")


# --- ingest ---------------------------------------------------------------------------------


class LineAnswer(ApiAnswer):
    """One line's answer."""

    line: int = Field(description="The line number (an event's place in its batch).")
    ref: str = Field(description="How the line is referred to (its source_ref).")
    answer: Literal["accepted", "duplicate", "conflict", "rejected"]
    reason: str = may_be_absent()
    field: str = may_be_absent()
    detail: str = may_be_absent()


class InterchangeReceipt(ApiAnswer):
    """An X12 interchange as the register of interchanges received knows it (present only
    where one is configured: docs/INGEST.md, "A resent interchange")."""

    sender: str = Field(description="ISA06")
    receiver: str = Field(description="ISA08")
    control_number: str = Field(description="ISA13")
    resent: bool = Field(
        description="received before (the same ISA05/06, ISA07/08 and ISA13): acknowledged "
        "TA1 E / 025"
    )
    first_received_at: Time = may_be_absent("resent: when it was first received")
    same_content: bool = may_be_absent("resent: whether the bytes are those received first")
    note: str = may_be_absent("resent: what it means")


class IngestAnswer(ApiAnswer):
    """An upload's answer: its reports, a summary and each line's answer."""

    format: Literal["events", "csv", "867", "852", "claim-csv", "844"]
    file: str | None
    received_at: Time
    reports: list[dict[str, Any]] = Field(description="Each report the upload held.")
    summary: dict[str, Any] = Field(
        description="answers per kind, rejections per reason, messages published"
    )
    lines: list[LineAnswer] = Field(
        description="each line's answer (accepted, duplicate, conflict or rejected, why)"
    )
    note: str
    test: bool = may_be_absent(
        "an X12 test interchange (ISA15 T), true: checked and answered as a production one, "
        "nothing published or registered (the summary's `published` is 0)"
    )
    interchange: InterchangeReceipt = may_be_absent(
        "an X12 interchange, where the register of interchanges is configured"
    )


class ReportBatch(ApiAnswer):
    """A report's events with its header fields."""

    events: list[dict[str, Any]] = Field(description="The events (schemas/json/).")
    report: dict[str, Any] = may_be_absent(
        "report_id, replaces, period_start, period_end: as the query parameters"
    )


class EventBatch(RootModel[list[dict[str, Any]] | ReportBatch]):
    """Events (schemas/json/, served at /schemas), or a report's events with its header.
    Each event needs its `event_type`, `event_id` (the producer's: a retry sends the same)
    and `occurred_at` besides its type's own fields; `source`, `recorded_at` and
    `source_ref` are the gateway's: whatever is sent there is replaced."""


#: every model the document shows as a component, besides the rows
ANSWER_MODELS: tuple[type[BaseModel], ...] = (
    Error,
    Page,
    InventorySummaryTotals,
    SellThroughPeriods,
    WatchlistShare,
    Health,
    SchemaList,
    Violation,
    ViolationStep,
    PeriodClose,
    Statement,
    Payment,
    RotationCancel,
    RotationCancelled,
    Claim,
    ClaimStep,
    MatchStep,
    MatchStepAccepted,
    IngestAnswer,
    EventBatch,
)
