"""The rows the projections answer: one pydantic model per row kind, the single declaration.

A row is the JSON the API and the snapshot answer (money as decimal strings, times as ISO
8601 UTC with a `Z`, dates as ISO dates) and what a read-model table holds. From each model
are derived: the OpenAPI component schema (`streams/api/openapi.py`), the read-model
columns with their SQL types, keys and comments (`infra/readmodels.py`), and which fields a
row carries (tests compare every row answered with its model).

The row builders (`projections/`) still build plain dicts: rows are never validated through
these models on the hot paths; a model only declares.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema


class Sql:
    """The PostgreSQL type of a field whose Python type alone does not say it."""

    def __init__(self, type_: str) -> None:
        self.type = type_


#: the JSON Schemas of the text forms (the OpenAPI document uses them for parameters too)
DECIMAL_SCHEMA: Final = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["125.00"]}
TIME_SCHEMA: Final = {
    "type": "string",
    "format": "date-time",
    "examples": ["2026-07-06T14:00:00Z"],
}
DATE_SCHEMA: Final = {"type": "string", "format": "date"}
UUID_SCHEMA: Final = {"type": "string", "format": "uuid"}

#: a decimal string: money, rates, weeks of supply (never a float)
DecimalText = Annotated[str, Sql("numeric"), WithJsonSchema(DECIMAL_SCHEMA)]
#: an ISO 8601 UTC time with a `Z`
Time = Annotated[str, Sql("timestamptz"), WithJsonSchema(TIME_SCHEMA)]
#: an ISO date
Day = Annotated[str, Sql("date"), WithJsonSchema(DATE_SCHEMA)]
Uuid = Annotated[str, Sql("uuid"), WithJsonSchema(UUID_SCHEMA)]
Counts = Annotated[dict[str, int], Sql("jsonb")]

Severity = Literal["minor", "major", "critical"]

DistributorId = Annotated[str, Field(description="The distributor.")]
Sku = Annotated[str, Field(description="The vendor's SKU.")]
TransactionId = Annotated[str, Field(description="The sale's transaction id.")]
ResellerId = Annotated[str, Field(description="The reseller it was sold to.")]
SoldAt = Annotated[Time, Field(description="When it was sold.")]
UnitPrice = Annotated[DecimalText, Field(description="The reported unit price.")]


class RowModel(BaseModel):
    """A row kind; `identified_by`: the fields that identify a row (a table's primary key)."""

    model_config = ConfigDict(frozen=True)

    identified_by: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)


# --- the snapshot's sections (and the read models) -----------------------------------------


class InventoryRow(RowModel):
    """Channel inventory per distributor and SKU, in base units, in business time."""

    identified_by = ("distributor_id", "sku")

    distributor_id: DistributorId
    sku: Sku
    sell_in: int = Field(description="Σ shipment quantities (returns to vendor negative).")
    sell_through: int = Field(
        description="Σ reported sale quantities (returns from resellers negative)."
    )
    expected_on_hand: int = Field(
        description="Last count's on-hand + sell-in − sell-through after it; without a count, "
        "sell-in − sell-through."
    )
    last_count_on_hand: int | None = Field(description="On-hand of the latest inventory count.")
    last_counted_at: Time | None = Field(description="When the latest count was taken.")
    last_variance: int | None = Field(
        description="Latest count's on-hand − the expected on-hand at its time."
    )
    late_after_count: int = Field(
        description="Movements dated at or before the latest count that arrived after it (the "
        "count already holds them)."
    )
    weeks_of_supply: DecimalText | None = Field(
        description="Expected on-hand ÷ average weekly sell-through of the 4 weeks up to now "
        "(the read's as-of time; in the read models the writer's latest business time, "
        "`partition_writes.as_of`); null without sales."
    )
    value: DecimalText | None = Field(
        description="Expected on-hand × the distributor cost in effect; null without a price."
    )
    currency: str | None = Field(
        description="The distributor cost's currency; null without a price."
    )


class SellThroughRow(RowModel):
    """Sell-in and sell-through per distributor and period (all SKUs, or one), in base units."""

    identified_by: ClassVar[tuple[str, ...]] = ("distributor_id", "period")

    distributor_id: DistributorId = Field(
        None,  # type: ignore[assignment]  # absent from some rows, never null
        description="The distributor (absent from the channel-wide totals, scope=channel).",
    )
    period: str = Field(
        description="ISO week `2026-W28` (Monday to Sunday, UTC), month `2026-07` or quarter "
        "`2026-Q3`.",
        examples=["2026-W28", "2026-07", "2026-Q3"],
    )
    sell_in: int = Field(description="Σ shipment quantities of the period.")
    sell_through: int = Field(description="Σ sale quantities of the period.")


class SellThroughTableRow(SellThroughRow):
    """Sell-in and sell-through per distributor and period (all SKUs), in base units, at
    every granularity."""

    identified_by: ClassVar[tuple[str, ...]] = ("distributor_id", "period", "granularity")

    distributor_id: DistributorId  # always there: the channel's totals are not stored

    granularity: Literal["week", "month", "quarter"] = Field(
        description="`week`, `month` or `quarter`."
    )


class ViolationRow(RowModel):
    """Sales below the authorized floor price, with their lifecycle status."""

    identified_by = ("violation_id",)

    violation_id: Uuid = Field(description="Derived from (distributor_id, transaction_id).")
    distributor_id: str = Field(description="The distributor that reported the sale.")
    transaction_id: TransactionId
    reseller_id: ResellerId
    sku: str = Field(description="The SKU sold.")
    sold_at: SoldAt
    unit_price: UnitPrice
    floor_price: DecimalText = Field(description="The minimum authorized resale price in effect.")
    currency: str = Field(description="The sale's currency (the floor's is the same).")
    severity: Severity = Field(
        description="`minor` (under 5 % below the floor), `major` (up to 20 %) or `critical`."
    )
    status: str = Field(description="`detected`, `acknowledged`, `disputed` or `resolved`.")
    resolution: str | None = Field(description="`waived`, `credited` or `penalized` once resolved.")


class UnpricedRow(RowModel):
    """Sale lines with no price in effect for their SKU and date (pricing cannot judge them)."""

    identified_by = ("distributor_id", "transaction_id")

    distributor_id: DistributorId
    transaction_id: TransactionId
    reseller_id: ResellerId
    sku: str = Field(description="The SKU sold.")
    sold_at: SoldAt
    quantity: int = Field(description="Quantity in base units.")
    unit_price: UnitPrice


class PriceProtectionRow(RowModel):
    """Price-protection claims: stock held when a distributor cost dropped, times the drop."""

    identified_by = ("distributor_id", "sku", "effective_from")

    distributor_id: DistributorId
    sku: Sku
    effective_from: Time = Field(description="When the lower cost took effect.")
    units: int = Field(description="Units the distributor held then.")
    old_cost: DecimalText = Field(description="Distributor cost before the drop.")
    new_cost: DecimalText = Field(description="Distributor cost after the drop.")
    amount: DecimalText = Field(description="units × (old_cost − new_cost).")


class RebateRow(RowModel):
    """Rebate accruals per program, distributor and period; closed periods are final."""

    identified_by = ("program_id", "distributor_id", "period")

    program_id: str = Field(description="The rebate program.")
    distributor_id: DistributorId
    period: str = Field(description="`2026-Q3` or `2026`.", examples=["2026-Q3", "2026"])
    currency: str = Field(description="The program's currency: revenue and rebate are in it.")
    measure: Literal["units", "revenue"] = Field(
        description="`units` or `revenue`: what volume, thresholds and the gap count (revenue: "
        "in `currency`)."
    )
    volume: DecimalText = Field(description="Qualifying units or revenue (the program's measure).")
    revenue: DecimalText = Field(description="Qualifying revenue (Σ quantity × unit price).")
    tier_rate: DecimalText = Field(description="Rate of the tier reached (0 below the first).")
    rebate: DecimalText = Field(description="The rebate earned so far, in the program's currency.")
    next_threshold: DecimalText | None = Field(description="Volume of the next tier.")
    gap_to_next: DecimalText | None = Field(description="Volume still missing to the next tier.")
    commitment_progress: DecimalText | None = Field(
        description="Volume ÷ minimum commitment (< 1 is at risk)."
    )
    commitment_shortfall: DecimalText | None = Field(
        description="Commitment − volume of a closed period that missed it."
    )
    events: int = Field(description="Qualifying events counted.")
    other_currency_lines: int = Field(description="Lines in another currency, left out.")
    status: Literal["open", "closed"] = Field(description="`open` or `closed`.")


class ResellerNetworkRow(RowModel):
    """The reseller network per distributor, as of now (the read models: the writer's latest
    business time)."""

    identified_by = ("distributor_id",)

    distributor_id: DistributorId
    onboarded: int = Field(description="Resellers onboarded (`ResellerOnboarded`).")
    active_90d: int = Field(description="Resellers with a sale in the 90 days up to `as_of`.")
    new_this_quarter: int = Field(
        description="Resellers whose first sale is in the quarter of `as_of`."
    )
    not_onboarded: int = Field(description="Resellers with sales that were never onboarded.")


class ReportRow(RowModel):
    """Sell-through reports submitted, one row each."""

    identified_by = ("distributor_id", "report_id")

    distributor_id: DistributorId
    report_id: str = Field(description="The report.")
    period_start: Day = Field(description="First day the report covers.")
    period_end: Day = Field(description="Last day the report covers.")
    submitted_at: Time = Field(description="When it was submitted.")
    due: Time = Field(
        description="Due date of the last week it covers (the following Wednesday 23:59 UTC)."
    )
    status: Literal["on_time", "late"] = Field(description="`on_time` or `late`.")
    line_count: int = Field(description="Lines the report declared.")
    replaces: str | None = Field(description="The report this one replaces, as named by it.")
    reversed_report: str | None = Field(
        description="The report whose lines this one reversed: the named one, or its replacement."
    )
    lines_reversed: int = Field(description="Lines of the replaced report this one reversed.")
    replaces_unknown: bool = Field(
        description="The replaced report's header was never received (`lines_reversed` counts "
        "its lines)."
    )
    replaced_by: str | None = Field(description="The report that replaced this one.")


class QualityRow(RowModel):
    """Data quality per distributor: what happened to every line it sent, and report
    compliance per reporting week (Monday to Sunday, UTC)."""

    identified_by = ("distributor_id",)

    distributor_id: DistributorId
    accepted: int = Field(description="Lines applied.")
    duplicates: int = Field(description="Resent lines with identical content (not applied again).")
    conflicts: int = Field(
        description="Same key as an accepted line, different content (dead-lettered)."
    )
    rejected: int = Field(description="Lines rejected (all reasons).")
    rejected_by_reason: Counts = Field(
        description='Rejected lines by reason, e.g. `{"unknown_sku": 2}`.'
    )
    reports_on_time: int = Field(
        description="Weeks whose report came by the due date (the following Wednesday 23:59 UTC)."
    )
    reports_late: int = Field(description="Weeks whose report came after the due date.")
    weeks_missing: int = Field(
        description="Weeks without a report whose due date had passed at `as_of`."
    )


class DeadLetterRow(RowModel):
    """Dead letters by reason (the read models: per partition of the input; sum over
    partitions for the channel)."""

    identified_by = ("reason",)

    reason: str = Field(description="Why the input could not be applied.")
    count: int = Field(description="Inputs dead-lettered for that reason.")


# --- rows of the API alone -----------------------------------------------------------------


class SkuBrief(RowModel):
    """One SKU of a distributor's top list."""

    sku: Sku
    expected_on_hand: int = Field(description="Expected on-hand, in base units.")
    value: DecimalText | None = Field(description="Its value; null without a price.")
    weeks_of_supply: DecimalText | None = Field(
        description="Its weeks of supply; null without sales."
    )


class StockTotals(RowModel):
    """Stock, its value and its weeks of supply, summed over SKUs."""

    expected_on_hand: int = Field(description="Σ expected on-hand, in base units.")
    value: DecimalText | None = Field(description="Σ value of the SKUs with a price; null: none.")
    currency: str | None = Field(
        description="The value's currency; null: no value, or costs in several currencies."
    )
    unvalued_skus: int = Field(description="SKUs without a price (a partial value).")
    sold_last_4_weeks: int = Field(description="Σ sell-through of the 4 weeks up to now.")
    weeks_of_supply: DecimalText | None = Field(
        description="Expected on-hand ÷ average weekly sell-through; null without sales."
    )


class ChannelInventory(StockTotals):
    """Channel-wide totals of the inventory summary's rows."""

    distributors: int = Field(description="Distributors summed.")


class InventorySummaryRow(StockTotals):
    """Per distributor: stock, value, weeks of supply and the top SKUs."""

    identified_by = ("distributor_id",)

    distributor_id: DistributorId
    skus: int = Field(description="SKUs with inventory rows.")
    top_by_value: list[SkuBrief] = Field(description="The SKUs of the highest value.")
    top_by_weeks_of_supply: list[SkuBrief] = Field(
        description="The SKUs of the most weeks of supply."
    )


class DeadLetterLine(RowModel):
    """A rejected line as stored on the dead-letter topic."""

    partition: int = Field(description="Where the dead letter is on the dead-letter topic.")
    offset: int = Field(description="Its offset there.")
    reason: str = Field(
        description="Why it was rejected.",
        examples=["unknown_sku", "bad_quantity", "conflicting_duplicate"],
    )
    detail: str = Field(description="Which line, which field, why.")
    key: str | None = Field(description="The message key: the distributor's id on its topics.")
    source: str = Field(description="Topic, file or endpoint it came from.")
    source_partition: int | None = Field(description="Kafka partition it came from.")
    source_offset: int | None = Field(description="Kafka offset, or line number in a file.")
    source_index: int | None = Field(
        description="The event's place in its bundle (null: the message is one event)."
    )
    recorded_at: Time = Field(description="When it was dead-lettered.")
    original: str | None = Field(description="The bytes as received, if UTF-8 text.")
    original_b64: str = Field(description="The bytes as received, base64.")
    personal: dict[str, str] = Field(
        description="What each sealed personal field in the original shows the caller: "
        "token → the clear text, or `erased` (docs/PRIVACY.md).",
    )


class ProductRow(RowModel):
    """A product of the catalog."""

    identified_by = ("sku",)

    sku: Sku
    base_unit: str = Field(description="The unit quantities are counted in.")
    unit_conversions: dict[str, int] = Field(description="Base units per other unit.")
    identifiers: dict[str, str] = Field(description="Other identifiers (GTIN, UPC, ...).")


class PriceRow(RowModel):
    """A price of a SKU's history; `arrived_late` ones govern from their arrival."""

    sku: Sku
    effective_from: Time = Field(description="When it governs from.")
    declared_from: Time | None = Field(description="When it was declared to take effect.")
    arrived_late: bool = Field(description="Recorded after the time it declared.")
    distributor_id: str | None = Field(description="Special price for this distributor.")
    reseller_id: str | None = Field(description="Special price for this reseller.")
    distributor_cost: DecimalText | None = Field(description="The distributor's cost.")
    floor_price: DecimalText | None = Field(description="The minimum authorized resale price.")
    currency: str = Field(description="The prices' currency.")


class SeverityCount(RowModel):
    """Violations of one severity, and per status within it."""

    identified_by = ("severity",)

    severity: Severity
    count: int = Field(description="Violations of the severity.")
    by_status: dict[str, int] = Field(description="Violations per lifecycle status.")


class ResellerGrowthRow(RowModel):
    """One month of the reseller network's growth."""

    identified_by = ("month",)

    month: str = Field(description="The calendar month.", examples=["2026-07"])
    onboarded: int = Field(description="Resellers onboarded in the month.")
    first_sales: int = Field(description="Resellers with their first sale in the month.")
    onboarded_total: int = Field(description="Resellers onboarded up to the month's end.")
    selling_total: int = Field(description="Resellers selling up to the month's end.")


class TopResellerRow(RowModel):
    """A reseller's revenue in one currency."""

    distributor_id: DistributorId
    reseller_id: str = Field(description="The reseller.")
    name: str | None = Field(description="Its name as onboarded.")
    currency: str = Field(description="The revenue's currency.")
    revenue: DecimalText = Field(description="Σ quantity × unit price (returns negative).")
    lines: int = Field(description="Sale lines of the period (net of reversed ones).")
    first_sale: Day | None = Field(description="The day of its first sale.")
    last_sale: Day | None = Field(description="The day of its latest sale.")
    onboarded_at: Time | None = Field(description="When it was onboarded.")


class ComplianceWeek(RowModel):
    """A distributor's reporting week and its status."""

    identified_by = ("distributor_id", "week")

    distributor_id: DistributorId
    week: Day = Field(description="The Monday the reporting week starts.")
    due: Time = Field(description="When its report is due (the Wednesday after, 23:59:59 UTC).")
    status: Literal["on_time", "late", "missing"] = Field(
        description="`on_time`, `late` or `missing`."
    )
    report_id: str | None = Field(description="The report that decided the week.")
    submitted_at: Time | None = Field(description="When that report was submitted.")


#: the snapshot's sections, in order, and the model of their rows
SNAPSHOT_SECTIONS: dict[str, type[RowModel]] = {
    "inventory": InventoryRow,
    "sell_in_vs_through": SellThroughRow,
    "violations": ViolationRow,
    "unpriced": UnpricedRow,
    "price_protection": PriceProtectionRow,
    "rebates": RebateRow,
    "resellers": ResellerNetworkRow,
    "reports": ReportRow,
    "quality": QualityRow,
    "dead_letters": DeadLetterRow,
}

#: every row model the API documents, by component name
ROW_MODELS: tuple[type[RowModel], ...] = (
    InventoryRow,
    InventorySummaryRow,
    ChannelInventory,
    SkuBrief,
    SellThroughRow,
    QualityRow,
    DeadLetterRow,
    DeadLetterLine,
    ProductRow,
    ViolationRow,
    SeverityCount,
    RebateRow,
    PriceRow,
    UnpricedRow,
    PriceProtectionRow,
    ResellerNetworkRow,
    ResellerGrowthRow,
    TopResellerRow,
    ReportRow,
    ComplianceWeek,
)
