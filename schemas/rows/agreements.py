"""Agreement and exchange-rate rows: every version of the distributors' agreements, and
every rate publication (docs/AGREEMENTS.md)."""

from __future__ import annotations

from typing import Annotated, Any

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
