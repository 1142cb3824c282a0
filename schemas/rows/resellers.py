"""Reseller rows: the network per distributor, its growth per month, the top resellers."""

from __future__ import annotations

from pydantic import Field

from schemas.rows.base import Day, DecimalText, DistributorId, RowModel, Time


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
    reseller_id: str = Field(
        description="The reseller: the distributor's id for it, or the master id its aliases "
        'mean (then `distributor_id` is "*" channel-wide).'
    )
    name: str | None = Field(description="Its name as onboarded.")
    currency: str = Field(description="The revenue's currency.")
    revenue: DecimalText = Field(description="Σ quantity × unit price (returns negative).")
    lines: int = Field(description="Sale lines of the period (net of reversed ones).")
    first_sale: Day | None = Field(description="The day of its first sale.")
    last_sale: Day | None = Field(description="The day of its latest sale.")
    onboarded_at: Time | None = Field(description="When it was onboarded.")
    aliases: list[str] = Field(
        description='The aliases behind the row, "distributor|reseller" (one: an unmapped alias).'
    )
