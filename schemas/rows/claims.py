"""Debit claim rows: each line of a ship-and-debit claim as decided so far
(docs/CLAIMS.md, "Claims, wired in")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from schemas.rows.base import DecimalText, DistributorId, RowModel, Sql, Time, Uuid

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
