"""Version 1 wire contracts of every event that crosses a topic or the HTTP API.

No business logic lives here: only shape and field-level validity.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from schemas.agreements import (
    DistributorAgreementAmended,
    DistributorAgreementSigned,
    DistributorAgreementTerminated,
    ExchangeRatePublished,
    StockRotationCancelled,
    StockRotationRequested,
)
from schemas.claims import (
    DebitClaimSubmitted,
    SpecialPriceAmended,
    SpecialPriceAuthorized,
    SpecialPriceExpired,
)
from schemas.envelope import SCHEMA_VERSION, Envelope, Source
from schemas.parties import (
    END_CUSTOMER_ALIAS_FIELDS,
    END_CUSTOMER_MASTER_FIELDS,
    Country,
    Duns,
    EndCustomerAliasMapped,
    EndCustomerAliasUnmapped,
    EndCustomerRegistered,
    PartyEvent,
    PartyText,
    PostalCode,
    ResellerAliasMapped,
    ResellerAliasUnmapped,
    ResellerMatchProposed,
    ResellerMatchRejected,
    ResellerRegistered,
)
from schemas.scorecard import DistributorTargetsSet
from schemas.types import Count, Currency, Id, Money, Personal, Price, Quantity, Text, UtcDatetime

#: the sale line's fields that hold personal data (docs/PRIVACY.md): never in a content
#: fingerprint, a key, an error message or a log
PERSONAL_FIELDS: Final = ("end_customer_name", "end_customer_contact")
#: event type -> its fields that hold personal data, sealed at the doors: a sale line's, an
#: end customer's master's and its alias's by name (schemas/parties.py)
PERSONAL_FIELDS_OF: Final = {
    "SaleReported": PERSONAL_FIELDS,
    "EndCustomerRegistered": END_CUSTOMER_MASTER_FIELDS,
    "EndCustomerAliasMapped": END_CUSTOMER_ALIAS_FIELDS,
    "EndCustomerAliasUnmapped": END_CUSTOMER_ALIAS_FIELDS,
}
#: every field name that holds a sealed token in some event
SEALED_FIELDS: Final = tuple(dict.fromkeys(n for f in PERSONAL_FIELDS_OF.values() for n in f))


class ShipmentRecorded(Envelope):
    """Sell-in: the vendor shipped to a distributor. Negative quantity = return to vendor."""

    event_type: Literal["ShipmentRecorded"] = "ShipmentRecorded"
    shipment_id: Id
    distributor_id: Id
    sku: Id
    quantity: Quantity
    unit: Id | None = None
    unit_price: Price
    currency: Currency
    shipped_at: UtcDatetime

    @property
    def business_time(self) -> datetime:
        return self.shipped_at


class SaleReported(Envelope):
    """Sell-through: one POS line. Negative quantity = return from a reseller."""

    event_type: Literal["SaleReported"] = "SaleReported"
    distributor_id: Id
    transaction_id: Id
    reseller_id: Id
    end_customer: Id | None = None
    #: personal data (docs/PRIVACY.md): on the raw topics a sealed token, `pii1.<key>.<...>`,
    #: that the ingest doors make of the clear text a distributor sends
    end_customer_name: Personal | None = None
    end_customer_contact: Personal | None = None
    sku: Id
    quantity: Quantity
    unit: Id | None = None
    unit_price: Price
    currency: Currency
    sold_at: UtcDatetime
    report_id: Id | None = None

    @property
    def business_time(self) -> datetime:
        return self.sold_at


class InventoryCounted(Envelope):
    """A distributor-reported physical count (EDI 852-like)."""

    event_type: Literal["InventoryCounted"] = "InventoryCounted"
    distributor_id: Id
    sku: Id
    on_hand: Quantity
    unit: Id | None = None
    counted_at: UtcDatetime

    @property
    def business_time(self) -> datetime:
        return self.counted_at


class PriceChanged(Envelope):
    """A list price, or a special price authorization for one distributor (and reseller)."""

    event_type: Literal["PriceChanged"] = "PriceChanged"
    sku: Id
    distributor_cost: Price
    floor_price: Price
    currency: Currency
    effective_from: UtcDatetime
    distributor_id: Id | None = None
    reseller_id: Id | None = None
    #: when the vendor announced the price to its distributors (default: when it was
    #: recorded); announced after it takes effect, it governs sales from its announcement
    published_at: UtcDatetime | None = None
    #: a named price list the price belongs to (None: the standard list); an agreement
    #: binding the list makes it its distributor's list price (docs/AGREEMENTS.md)
    price_list: Id | None = None

    @model_validator(mode="after")
    def _reseller_needs_distributor(self) -> PriceChanged:
        if self.reseller_id is not None and self.distributor_id is None:
            raise ValueError("a reseller-specific price needs its distributor_id")
        if self.price_list is not None and self.distributor_id is not None:
            raise ValueError(
                "a price is either a list's (price_list) or one distributor's (distributor_id)"
            )
        return self

    @property
    def business_time(self) -> datetime:
        return self.effective_from


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold: Money
    rate: Money


class RebateProgramDefined(Envelope):
    """The terms of a volume purchase agreement."""

    event_type: Literal["RebateProgramDefined"] = "RebateProgramDefined"
    program_id: Id
    distributor_ids: list[Id] | Literal["all"]
    basis: Literal["sell_in", "sell_through"]
    measure: Literal["units", "revenue"]
    period: Literal["quarter", "year"]
    tiers: Annotated[list[Tier], Field(min_length=1)]
    tier_mode: Literal["retroactive", "incremental"]
    minimum_commitment: Money | None = None
    growth_baseline: Money | None = None
    skus: list[Id] | Literal["all"] = "all"
    currency: Currency


class RebatePeriodClosed(Envelope):
    """A program's period closed (by finance, or automatically after the grace period).

    Statements include the qualifying events recorded up to `closed_at`; any recorded
    later is an adjustment. The first close of a (program, period) stands.
    """

    event_type: Literal["RebatePeriodClosed"] = "RebatePeriodClosed"
    program_id: Id
    period: Annotated[str, StringConstraints(pattern=r"^\d{4}(-Q[1-4])?$")]
    closed_at: UtcDatetime
    closed_by: Id

    @property
    def business_time(self) -> datetime:
        return self.closed_at


class ResellerOnboarded(Envelope):
    event_type: Literal["ResellerOnboarded"] = "ResellerOnboarded"
    distributor_id: Id
    reseller_id: Id
    name: Annotated[Text, Field(min_length=1, max_length=256)]
    onboarded_at: UtcDatetime
    #: where the reseller is and how it is registered, when the distributor knows: with a
    #: country, the reseller is matched against the masters (docs/IDENTITY.md)
    country: Country | None = None
    postal_code: PostalCode | None = None
    address: PartyText | None = None
    tax_id: Id | None = None
    duns: Duns | None = None

    @property
    def business_time(self) -> datetime:
        return self.onboarded_at


class ProductIdentifiers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    upc: Id | None = None
    vendor_part: Id | None = None
    manufacturer_part: Id | None = None


class ProductDefined(Envelope):
    """A SKU, its base unit, unit conversions (e.g. CA = 12 EA) and identifiers."""

    event_type: Literal["ProductDefined"] = "ProductDefined"
    sku: Id
    description: Annotated[Text, Field(max_length=512)] = ""
    base_unit: Id
    unit_conversions: dict[Id, Annotated[StrictInt, Field(gt=0)]] = Field(default_factory=dict)
    identifiers: ProductIdentifiers = Field(default_factory=ProductIdentifiers)


class ReportSubmitted(Envelope):
    """One submitted sell-through report; drives compliance."""

    event_type: Literal["ReportSubmitted"] = "ReportSubmitted"
    distributor_id: Id
    report_id: Id
    period_start: date
    period_end: date
    line_count: Count
    submitted_at: UtcDatetime
    replaces_report_id: Id | None = None

    @model_validator(mode="after")
    def _period_ordered(self) -> ReportSubmitted:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self

    @property
    def business_time(self) -> datetime:
        return self.submitted_at


class LineRejected(Envelope):
    """A line the ingest gateway could not turn into an event, kept with its original bytes.

    It travels on a raw topic (keyed by distributor) so that rejections count in data
    quality live and in a replay alike; the worker dead-letters it with the original bytes.
    """

    event_type: Literal["LineRejected"] = "LineRejected"
    distributor_id: Id
    reason: Id
    detail: Annotated[Text, Field(min_length=1, max_length=4096)]
    original_b64: str
    report_id: Id | None = None


Event = Annotated[
    ShipmentRecorded
    | SaleReported
    | InventoryCounted
    | PriceChanged
    | RebateProgramDefined
    | RebatePeriodClosed
    | ResellerOnboarded
    | ProductDefined
    | ReportSubmitted
    | LineRejected
    | DistributorTargetsSet
    | DistributorAgreementSigned
    | DistributorAgreementAmended
    | DistributorAgreementTerminated
    | ExchangeRatePublished
    | SpecialPriceAuthorized
    | SpecialPriceAmended
    | SpecialPriceExpired
    | StockRotationRequested
    | StockRotationCancelled
    | DebitClaimSubmitted
    | PartyEvent,
    Field(discriminator="event_type"),
]

EVENT_TYPES: tuple[type[Envelope], ...] = (
    ShipmentRecorded,
    SaleReported,
    InventoryCounted,
    PriceChanged,
    RebateProgramDefined,
    RebatePeriodClosed,
    ResellerOnboarded,
    ProductDefined,
    ReportSubmitted,
    LineRejected,
    DistributorTargetsSet,
    DistributorAgreementSigned,
    DistributorAgreementAmended,
    DistributorAgreementTerminated,
    ExchangeRatePublished,
    SpecialPriceAuthorized,
    SpecialPriceAmended,
    SpecialPriceExpired,
    StockRotationRequested,
    StockRotationCancelled,
    DebitClaimSubmitted,
    ResellerRegistered,
    ResellerAliasMapped,
    ResellerAliasUnmapped,
    ResellerMatchRejected,
    ResellerMatchProposed,
    EndCustomerRegistered,
    EndCustomerAliasMapped,
    EndCustomerAliasUnmapped,
)

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "DebitClaimSubmitted",
    "DistributorAgreementAmended",
    "DistributorAgreementSigned",
    "DistributorAgreementTerminated",
    "DistributorTargetsSet",
    "Envelope",
    "Event",
    "ExchangeRatePublished",
    "InventoryCounted",
    "LineRejected",
    "PriceChanged",
    "ProductDefined",
    "RebatePeriodClosed",
    "RebateProgramDefined",
    "ReportSubmitted",
    "ResellerAliasMapped",
    "ResellerAliasUnmapped",
    "ResellerMatchProposed",
    "ResellerMatchRejected",
    "ResellerOnboarded",
    "ResellerRegistered",
    "SaleReported",
    "ShipmentRecorded",
    "Source",
    "SpecialPriceAmended",
    "SpecialPriceAuthorized",
    "SpecialPriceExpired",
    "StockRotationCancelled",
    "StockRotationRequested",
    "Tier",
]
