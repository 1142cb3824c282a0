"""Inventory and sell-through rows: stock per distributor and SKU, its summary, sell-in vs
sell-through per period."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from schemas.rows.base import Counts, Day, DecimalText, DistributorId, RowModel, Sku, Sql, Time


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


class AgingRow(RowModel):
    """Held stock per distributor and SKU by age band, first in first out, on "now"'s day."""

    identified_by = ("distributor_id", "sku")

    distributor_id: DistributorId
    sku: Sku
    on_hand: int = Field(description="The expected on-hand (as /api/inventory has it).")
    units: Counts = Field(
        description='Units held per age band in days: "0-30", "31-60", "61-90", ">90" (the '
        "newest units received are the ones held)."
    )
    values: Annotated[dict[str, DecimalText | None], Sql("jsonb")] = Field(
        description="Per band, its units × the distributor cost in effect; null without a price."
    )
    unknown_age: int = Field(
        description="Units held beyond those received (a count above the receipts): no age."
    )
    value: DecimalText | None = Field(
        description="The bands' values added up; null without a price."
    )
    currency: str | None = Field(description="The distributor cost's currency.")
    oldest_receipt: Day | None = Field(
        description="The receipt day of the oldest unit held; null when none is held or it "
        "was received more than a year before the latest receipt."
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
