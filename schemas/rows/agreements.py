"""Agreement and exchange-rate rows: every version of the distributors' agreements, and
every rate publication (docs/AGREEMENTS.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from schemas.rows.base import Day, DecimalText, DistributorId, RowModel, Sql, Time, Uuid


class AgreementRow(RowModel):
    """One version of a distributor's agreement: its signing or an amendment."""

    identified_by = ("distributor_id", "agreement_id", "version_id")

    distributor_id: DistributorId
    agreement_id: str = Field(description="The agreement.")
    version_id: str = Field(description="The agreement_id for the signing, else the amendment_id.")
    currency: str = Field(description="The currency of the agreement's terms.")
    term_start: Day = Field(description="The agreement's first day.")
    effective_from: Day = Field(description="The first day this version governs.")
    last_day: Day = Field(description="The agreement's last day: term_end, or a termination's.")
    terminated: bool = Field(description="A termination of the agreement was recorded.")
    in_effect: bool = Field(description="This version governs today (the as-of day).")
    recorded_at: Time = Field(description="When the system recorded the version.")
    event_id: Uuid = Field(description="The event that made the version (lineage).")
    terms: Annotated[dict[str, Any], Sql("jsonb")] = Field(
        description="The version's terms, as DistributorAgreementSigned carries them."
    )


class ExchangeRateRow(RowModel):
    """One publication of a currency pair's rate."""

    identified_by = ("event_id",)

    from_currency: str = Field(description="One unit of this currency ...")
    to_currency: str = Field(description="... is worth `rate` units of this one.")
    rate: DecimalText
    effective_date: Day = Field(description="The first day it converts (for at most 31 days).")
    recorded_at: Time = Field(description="When the system recorded it.")
    event_id: Uuid = Field(description="The publication (the lineage of a conversion).")


class ObligationRow(RowModel):
    """An obligation of the agreement in effect that the distributor's stock breaks today:
    a stocking target exceeded (`over_stock`) or units over the maximum age (`over_age`)."""

    identified_by = ("distributor_id", "kind", "scope", "ref")

    distributor_id: DistributorId
    agreement_id: str = Field(description="The agreement in effect.")
    version_id: str = Field(description="Its version that governs today (lineage).")
    as_of: Day = Field(description="The day judged: today, or the as-of day.")
    kind: Literal["over_stock", "over_age"]
    scope: Literal["sku", "group"] = Field(description="Over-age is always per sku.")
    ref: str = Field(description="The sku, or the product group of a group target.")
    on_hand: int | None = Field(description="over_stock: the stock of the sku or group.")
    target_weeks: DecimalText | None = Field(description="over_stock: the most weeks allowed.")
    weeks_of_supply: DecimalText | None = Field(
        description="over_stock: stock ÷ weekly sell-through of the last 28 days; null when "
        "nothing sold (unbounded)."
    )
    excess_units: int | None = Field(
        description="over_stock: the stock above target × weekly sell-through."
    )
    max_age_days: int | None = Field(description="over_age: the maximum age, in days.")
    units: int | None = Field(description="over_age: units held longer than that.")
    value: DecimalText | None = Field(
        description="over_age: their value at the distributor cost in effect (null: no price)."
    )
    currency: str | None = Field(description="over_age: the currency of `value`.")


class AuthorizationRow(RowModel):
    """A special price authorization, for one distributor it names, with its terms as they
    stand after amendments and an early expiry (docs/CLAIMS.md)."""

    identified_by = ("authorization_id", "distributor_id")

    authorization_id: str = Field(description="The authorization (the deal).")
    distributor_id: DistributorId
    skus: Annotated[list[str], Sql("jsonb")] = Field(description="The skus it covers.")
    reseller_id: str | None = Field(description="The reseller the deal is for, if it names one.")
    end_customer: str | None = Field(description="The end customer, if it names one.")
    authorized_cost: DecimalText = Field(description="What the distributor may buy at.")
    floor_price: DecimalText | None = Field(
        description="The lowest resale price under the deal (none: any price)."
    )
    currency: str
    valid_from: Day = Field(description="The first sale day it covers.")
    valid_to: Day = Field(description="The last sale day it covers (after an early expiry).")
    quantity_cap: int | None = Field(description="Units it allows across every claim.")
    amendments: Annotated[list[str], Sql("jsonb")] = Field(description="Amendments applied.")
    expired_early: bool = Field(description="An expiry ended it before its valid_to.")
    in_effect: bool = Field(description="Today (the as-of day) is within its validity.")
    event_id: Uuid = Field(description="The event that set its current terms (lineage).")


class AuthorizationUsageRow(RowModel):
    """How much of a special price authorization's cap is given out and how long it has
    left, flagged when near either (docs/CLAIMS.md, "Cap use and expiry")."""

    identified_by = ("authorization_id", "distributor_id")

    authorization_id: str = Field(description="The authorization (the deal).")
    distributor_id: DistributorId
    shared_by: int = Field(description="How many distributors it names (they share its cap).")
    skus: Annotated[list[str], Sql("jsonb")] = Field(description="The skus it covers.")
    quantity_cap: int | None = Field(
        description="Units it allows across every claim (none: no cap)."
    )
    units_given: int = Field(description="Units accepted claim lines hold of it (its ledger).")
    units_left: int | None = Field(description="Units its cap still allows (none: no cap).")
    percent_used: float | None = Field(description="Share of the cap given out, in %, one decimal.")
    valid_to: Day = Field(description="The last sale day it covers (after an early expiry).")
    days_left: int | None = Field(
        description="Days from today (the as-of day) to valid_to; below zero once past it."
    )
    expired_early: bool = Field(description="An expiry ended it before its valid_to.")
    near: Annotated[list[Literal["cap", "expiry"]], Sql("jsonb")] = Field(
        description="What it is near: its cap (at least CHANNELFLOW_CAP_NEAR_PERCENT used), "
        "its expiry (CHANNELFLOW_EXPIRY_NEAR_DAYS or fewer days left); empty once past it."
    )


class UnconvertedAmount(RowModel):
    """Revenue in another currency than the agreement's, left unconverted."""

    currency: str = Field(description="Its currency.")
    amount: DecimalText = Field(description="The period's revenue in that currency.")


class CommitmentRow(RowModel):
    """A volume commitment of an agreement, judged over one period: the period holding
    today (open) or the one before it (closed), per period kind."""

    identified_by = ("distributor_id", "period", "basis", "measure")

    distributor_id: DistributorId
    agreement_id: str = Field(description="The agreement governing the period.")
    version_id: str = Field(
        description="Its version governing the period's last day, as known when the period "
        "closed (lineage)."
    )
    as_of: Day = Field(description="The day judged: today, or the as-of day.")
    period: str = Field(description='The period: "2026-07", "2026-Q3" or "2026".')
    period_start: Day = Field(description="Its first day.")
    period_end: Day = Field(description="Its last day.")
    closed: bool = Field(description="The period has ended (the midnight after its last day).")
    basis: Literal["sell_in", "sell_through"] = Field(
        description="Bought from the vendor (sell_in) or sold to resellers (sell_through)."
    )
    measure: Literal["units", "revenue"] = Field(description="Units, or revenue.")
    currency: str | None = Field(description="revenue: the agreement's currency.")
    minimum: DecimalText = Field(description="The least committed to.")
    volume: DecimalText = Field(
        description="The period's volume by business date (revenue: in the agreement's "
        "currency, other currencies converted at each day's rate)."
    )
    progress: DecimalText = Field(description="volume ÷ minimum, to 4 places.")
    status: Literal["met", "open", "short", "unconverted"] = Field(
        description="`met`; below the minimum, `open` while the period is open, `short` once "
        "closed; `unconverted`: revenue of days without a rate could decide it."
    )
    shortfall: DecimalText | None = Field(description="short: the minimum less the volume.")
    unconverted: Annotated[list[UnconvertedAmount], Sql("jsonb")] = Field(
        description="Revenue of days without a rate, per currency, never converted by a guess."
    )
