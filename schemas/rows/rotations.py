"""Stock rotation rows: each request as decided, and what came back of its return
(docs/AGREEMENTS.md, "Stock rotation")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from schemas.rows.base import Counts, DecimalText, DistributorId, RowModel, Sql, Time, Uuid

JsonList = Annotated[list[Any], Sql("jsonb")]


class RotationRow(RowModel):
    """One stock rotation request, its decision and its return."""

    identified_by = ("distributor_id", "request_id")

    rotation_id: Uuid = Field(description="The request's audit aggregate (StockRotation).")
    distributor_id: DistributorId
    request_id: str = Field(description="The distributor's id of the request.")
    status: Literal["accepted", "rejected", "returned", "cancelled"] = Field(
        description="As decided; `returned` once every returned unit came back; `cancelled` "
        "once withdrawn."
    )
    requested_at: Time = Field(description="When the distributor asked (the day judged).")
    recorded_at: Time = Field(description="When the system recorded the request.")
    returns: Counts = Field(description="Units to send back, per sku.")
    orders: Counts = Field(description="Units ordered in exchange, per sku.")
    reasons: JsonList = Field(description="Why it was rejected, in check order (none: accepted).")
    problems: JsonList = Field(
        description="Every problem found: [reason, side (returns/orders/null), sku, detail]."
    )
    period: str | None = Field(description="The rotation period (a quarter or a year).")
    currency: str | None = Field(description="The agreement's currency, of the values.")
    return_value: DecimalText = Field(description="The returned units at the distributor cost.")
    order_value: DecimalText = Field(description="The ordered units at the distributor cost.")
    allowance: DecimalText | None = Field(
        description="The period's allowance: its share of the period's purchases (null: unknown)."
    )
    used_before: DecimalText = Field(description="What earlier rotations of the period used.")
    return_shipment_id: str | None = Field(
        description="Accepted: the shipment id the vendor ships the returned units under."
    )
    received: Counts = Field(description="Units of the return received so far, per sku.")
    exchange_shipment_id: str | None = Field(
        description="Accepted with orders: the shipment id the vendor ships the exchange under."
    )
    exchanged: Counts = Field(description="Units of the exchange order shipped so far, per sku.")
    exchange_status: Literal["none", "partial", "shipped"] | None = Field(
        description="The exchange order: nothing shipped yet, part of it, all of it (null: none)."
    )
    cancelled_at: Time | None = Field(description="When an accepted rotation was cancelled.")
    cancelled_by: str | None = Field(description="Who cancelled it (the token's actor).")
    cancel_reason: str | None = Field(description="Why it was cancelled.")
    agreement_event_id: Uuid | None = Field(description="The agreement version (lineage).")
    price_event_ids: JsonList = Field(description="The price events that valued the lines.")
    rate_event_ids: JsonList = Field(description="The rate events that converted them.")
    event_id: Uuid = Field(description="The request event.")
