"""Debit claim rows: each line of a ship-and-debit claim as decided so far
(docs/CLAIMS.md, "Claims, wired in")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from schemas.rows.base import Counts, DecimalText, DistributorId, RowModel, Sql, Time, Uuid

JsonList = Annotated[list[Any], Sql("jsonb")]


class ClaimLineRow(RowModel):
    """One claim line and its decision; a `waiting` line has none yet (it waits for its
    cap's grant, or a reversal reopened it), so its other fields are null."""

    identified_by = ("distributor_id", "claim_id", "line_no")

    claim_uuid: Uuid = Field(description="The claim's audit aggregate (DebitClaim).")
    distributor_id: DistributorId
    claim_id: str = Field(description="The distributor's claim number.")
    recorded_at: Time = Field(description="When the system recorded the claim.")
    line_no: int = Field(description="The line's number in the claim.")
    status: Literal["accepted", "adjusted", "rejected", "pending_pos", "waiting"] = Field(
        description="As decided; `pending_pos` waits for its POS line; `waiting`: no decision."
    )
    reasons: JsonList | None = Field(
        description="The rejection reason, or the adjustments made (none: as claimed)."
    )
    transaction_id: str | None = Field(description="The POS line's transaction id.")
    sku: str | None = Field(description="The sku claimed.")
    authorization_id: str | None = Field(description="The authorization claimed against.")
    quantity_claimed: int | None = Field(description="Units claimed.")
    quantity_accepted: int | None = Field(description="Units accepted.")
    amount_claimed: DecimalText | None = Field(description="The amount claimed.")
    amount_accepted: DecimalText | None = Field(description="The amount accepted.")
    currency: str | None = Field(description="The currency of the amounts.")
    book_cost: DecimalText | None = Field(description="The distributor's cost at the sale.")
    authorized_cost: DecimalText | None = Field(description="The authorization's cost.")
    pos_event_id: Uuid | None = Field(description="The POS line that decided it (lineage).")
    price_event_id: Uuid | None = Field(description="The price entry of the book cost.")
    authorization_event_id: Uuid | None = Field(
        description="The authorization event whose terms decided it."
    )
    agreement_event_id: Uuid | None = Field(
        description="The agreement version whose terms priced the book cost (a named list it "
        "binds, or its group discount); null: none did."
    )


class ClaimRow(RowModel):
    """One debit claim with its lines counted by status, its totals and the reasons of its
    rejected and adjusted lines (`GET /api/claims`); its lifecycle (approved, paid …) is
    on the claim's own read, from its DebitClaim aggregate."""

    identified_by = ("distributor_id", "claim_id")

    claim_uuid: Uuid = Field(description="The claim's audit aggregate (DebitClaim).")
    distributor_id: DistributorId
    claim_id: str = Field(description="The distributor's claim number.")
    recorded_at: Time = Field(description="When the system recorded the claim.")
    status: Literal["decided", "pending"] = Field(
        description="`pending` while a line waits for its POS line or a decision."
    )
    lines: int = Field(description="How many lines the claim has.")
    lines_by_status: Counts = Field(
        description="Its lines by status: accepted, adjusted, rejected, pending_pos, waiting."
    )
    currency: str | None = Field(description="The lines' currency (null: none decided, or mixed).")
    quantity_claimed: int = Field(description="Units claimed on the lines decided.")
    quantity_accepted: int = Field(description="Units accepted.")
    total_claimed: DecimalText = Field(description="The amount claimed on the lines decided.")
    total_accepted: DecimalText = Field(description="The amount accepted.")
    reasons: Counts = Field(
        description="The rejection reasons and adjustments of its lines, with how many lines."
    )
