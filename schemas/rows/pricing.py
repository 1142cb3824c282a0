"""Pricing rows: the price history, violations and their counts, unpriced lines,
price-protection claims."""

from __future__ import annotations

from pydantic import Field

from schemas.rows.base import (
    DecimalText,
    DistributorId,
    ResellerId,
    RowModel,
    Severity,
    Sku,
    SoldAt,
    Time,
    TransactionId,
    UnitPrice,
    Uuid,
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


class SeverityCount(RowModel):
    """Violations of one severity, and per status within it."""

    identified_by = ("severity",)

    severity: Severity
    count: int = Field(description="Violations of the severity.")
    by_status: dict[str, int] = Field(description="Violations per lifecycle status.")


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
    rate_wait_expired_at: Time | None = Field(
        default=None,
        description="When the sale's wait for its floor's exchange rate ran out (recorded "
        "time): it is final as unpriced. Null: no floor in effect, or still waiting.",
    )
    rate_wait_refused: str | None = Field(
        default=None,
        description="Why the sale could not wait for its floor's exchange rate: "
        "`too_many_waiting` (its distributor had 1,000 sales waiting) or `too_many_days` "
        "(64 currency-pair days waiting, not this one): it stays unpriced, and a rate that "
        "arrives later does not judge it. Null: it waits, waited, or needed no rate.",
    )


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


class PriceRow(RowModel):
    """A price of a SKU's history; `arrived_late` ones govern from their arrival."""

    sku: Sku
    effective_from: Time = Field(description="When it governs from.")
    declared_from: Time | None = Field(description="When it was declared to take effect.")
    arrived_late: bool = Field(description="Recorded after the time it declared.")
    distributor_id: str | None = Field(description="Special price for this distributor.")
    reseller_id: str | None = Field(description="Special price for this reseller.")
    price_list: str | None = Field(
        description="The named price list of a list price (null: the standard list, or a "
        "special price)."
    )
    distributor_cost: DecimalText | None = Field(description="The distributor's cost.")
    floor_price: DecimalText | None = Field(description="The minimum authorized resale price.")
    currency: str = Field(description="The prices' currency.")
