"""Scorecard rows: a distributor's card for a period, and its place in the period's ranking
(docs/SCORECARD.md)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from schemas.rows.base import DecimalText, DistributorId, RowModel, Sql

Rate = Annotated[DecimalText | None, Field(description="A share of the lines sent (4 places).")]
Per1000 = Annotated[
    DecimalText | None, Field(description="Pricing violations × 1,000 ÷ accepted lines.")
]


class ScorecardRebate(RowModel):
    """One rebate program's standing for the distributor."""

    program_id: str = Field(description="The rebate program.")
    tiers_reached: int = Field(description="Tiers reached (0: none).")
    tiers: int = Field(description="The program's tiers.")
    next_threshold: DecimalText | None = Field(description="The next tier's threshold.")
    gap_to_next: DecimalText | None = Field(description="What is missing to the next tier.")


class ScorecardCard(RowModel):
    """A distributor's scorecard for one period (a month or a quarter): its figures, each
    part of its score and the score. Money in `currency`: lines in another are converted at
    their day's rate as known when read; those whose day has no rate yet are counted in
    `other_currency_lines`, never guessed."""

    identified_by: ClassVar[tuple[str, ...]] = ("distributor_id", "period")

    distributor_id: DistributorId
    period: str = Field(description="`2026-07` or `2026-Q3`.", examples=["2026-Q3"])
    currency: str = Field(description="The scorecard's currency.")
    sell_in_units: int = Field(description="Σ units shipped to the distributor in the period.")
    sell_in_revenue: DecimalText = Field(description="Σ units × unit price of those shipments.")
    sell_through_units: int = Field(description="Σ units the distributor sold in the period.")
    sell_through_revenue: DecimalText = Field(description="Σ units × unit price of those sales.")
    share_of_channel_revenue: DecimalText | None = Field(
        description="Sell-through revenue ÷ the ranking's (null outside a ranking: a "
        "distributor's own card, the read model)."
    )
    gross_margin: DecimalText | None = Field(
        description="Revenue − distributor cost of the sale lines whose cost is known."
    )
    gross_margin_rate: DecimalText | None = Field(description="Gross margin ÷ that revenue.")
    unknown_cost_lines: int = Field(description="Sale lines without a known cost.")
    weeks_of_supply: DecimalText | None = Field(
        description="At the standing of the period: now for the period holding now, its "
        "last day once it has ended."
    )
    weeks_on_time: int = Field(description="Reporting weeks of the period reported on time.")
    weeks_late: int = Field(description="Reporting weeks reported late.")
    weeks_missing: int = Field(description="Reporting weeks due and not reported.")
    accepted_lines: int = Field(description="Lines accepted.")
    duplicate_lines: int = Field(description="Lines that repeated an accepted one.")
    conflict_lines: int = Field(description="Lines that conflicted with an accepted one.")
    rejected_lines: int = Field(description="Lines rejected (dead-lettered).")
    accepted_rate: Rate
    duplicate_rate: Rate
    conflict_rate: Rate
    rejected_rate: Rate
    minor_per_1000: Per1000
    major_per_1000: Per1000
    critical_per_1000: Per1000
    active_resellers: int | None = Field(
        description="Resellers with a sale in the 90 days to the standing."
    )
    reseller_target: int | None = Field(description="The reseller population target.")
    revenue_target: DecimalText | None = Field(description="The sell-through revenue target.")
    rebates: Annotated[list[ScorecardRebate], Sql("jsonb")] = Field(
        description="Each rebate program's standing."
    )
    other_currency_lines: int = Field(
        description="Lines in another currency than `currency` whose day has no rate yet."
    )
    parts: dict[str, DecimalText] = Field(
        description="Each part of the score present (0 to 1): sell_through, inventory, "
        "timeliness, data_quality, pricing, resellers, rebates."
    )
    score: DecimalText | None = Field(
        description="100 × the weighted mean of the parts present, to one place."
    )


class ScorecardRow(ScorecardCard):
    """A distributor's place in a period's ranking: by score, descending (none last)."""

    rank: int | None = Field(description="From 1, equal scores sharing one (null: own card).")
