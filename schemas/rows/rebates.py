"""Rebate rows: accruals per program, distributor and period."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.rows.base import DecimalText, DistributorId, RowModel, Sql


class UnconvertedRevenue(RowModel):
    """Revenue in another currency than the program's that had no rate for its day."""

    currency: str = Field(description="The lines' currency.")
    day: str = Field(description="Their business day (ISO): its rate would convert them.")
    amount: DecimalText = Field(description="Their revenue, in `currency`.")


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
    other_currency_lines: int = Field(
        description="Lines in another currency than the program's: counted, their revenue "
        "converted at their day's rate or listed in `unconverted`."
    )
    rate_event_ids: Annotated[list[str], Sql("jsonb")] = Field(
        description="The exchange-rate events whose rates converted revenue, sorted."
    )
    unconverted: Annotated[list[UnconvertedRevenue], Sql("jsonb")] = Field(
        description="Revenue without a rate for its day, per currency and day: left out of "
        "revenue, volume and rebate until its rate arrives (empty: everything converted)."
    )
    bound_by: Annotated[list[str], Sql("jsonb")] = Field(
        description="The agreement versions (`AG-1`, `AG-1/M1`) that bound the program for "
        "the distributor on the days counted; empty: no agreement governed them, the "
        "program's own distributor list decided.",
    )
    status: Literal["open", "closed"] = Field(description="`open` or `closed`.")
