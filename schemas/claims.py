"""Version 1 wire contracts of ship-and-debit: special price authorizations and debit claims.

Shape and field-level validity only; the rules that decide a claim line live in
`domain.claim_rules` and `projections.claims` (docs/CLAIMS.md). The authorization events are
on the `authorizations` reference topic, the claims on the `claims` raw topic.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

from schemas.envelope import Envelope
from schemas.types import MAX_QUANTITY, Count, Currency, Id, Money, Price, Text, UtcDatetime

#: Most lines one claim may carry (a bigger one is split into several claims).
MAX_CLAIM_LINES: Final = 10_000


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError(f"{value} is not a positive amount: a claim line claims money")
    return value


#: An amount claimed: money above zero.
ClaimedAmount = Annotated[Money, AfterValidator(_positive)]
#: A claimed quantity: whole units above zero (a return is never claimed).
ClaimedQuantity = Annotated[StrictInt, Field(gt=0, le=MAX_QUANTITY)]


class SpecialPriceAuthorized(Envelope):
    """A vendor-approved special price for a deal: the distributors may buy the skus at
    `authorized_cost` for sales to the named reseller / end customer between the dates.

    `valid_from` / `valid_to` are business dates, both inclusive, of the POS line's
    `sold_at` (UTC). `quantity_cap` bounds the units accepted across every claim and every
    distributor; `floor_price` is the lowest resale price the deal allows (None: the
    authorization sets no floor, and a sale under it is never a pricing violation).
    """

    event_type: Literal["SpecialPriceAuthorized"] = "SpecialPriceAuthorized"
    authorization_id: Id
    distributor_ids: Annotated[list[Id], Field(min_length=1, max_length=1000)]
    skus: Annotated[list[Id], Field(min_length=1, max_length=1000)]
    reseller_id: Id | None = None
    end_customer: Id | None = None
    authorized_cost: Price
    floor_price: Price | None = None
    valid_from: date
    valid_to: date
    quantity_cap: Count | None = None
    currency: Currency

    @model_validator(mode="after")
    def _dates_ordered(self) -> SpecialPriceAuthorized:
        if self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class SpecialPriceAmended(Envelope):
    """New terms for an authorization: each field given replaces the current one.

    An amendment governs the claim lines decided after it; a decision already given is
    never revised.
    """

    event_type: Literal["SpecialPriceAmended"] = "SpecialPriceAmended"
    authorization_id: Id
    amendment_id: Id
    authorized_cost: Price | None = None
    floor_price: Price | None = None
    valid_to: date | None = None
    quantity_cap: Count | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> SpecialPriceAmended:
        terms = (self.authorized_cost, self.floor_price, self.valid_to, self.quantity_cap)
        if all(term is None for term in terms):
            raise ValueError("an amendment changes at least one of the authorization's terms")
        return self


class SpecialPriceExpired(Envelope):
    """The authorization ends early: sales after `last_valid_date` are no longer covered."""

    event_type: Literal["SpecialPriceExpired"] = "SpecialPriceExpired"
    authorization_id: Id
    last_valid_date: date
    reason: Annotated[Text, Field(min_length=1, max_length=512)]


class ClaimLine(BaseModel):
    """One line of a debit claim: a POS line sold under an authorization, and the money."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_no: Annotated[StrictInt, Field(gt=0, le=MAX_CLAIM_LINES * 100)]
    transaction_id: Id
    sku: Id
    quantity: ClaimedQuantity
    authorization_id: Id
    #: the distributor cost the distributor says it paid (the price book's, per unit)
    cost_paid: Price
    #: the authorized cost the distributor claims against (per unit)
    authorized_cost: Price
    amount_claimed: ClaimedAmount
    currency: Currency


class DebitClaimSubmitted(Envelope):
    """A distributor's ship-and-debit claim: the difference between what it paid and the
    authorized cost, for POS lines sold under authorizations. The business key is
    (distributor_id, claim_id): the same claim resent is a duplicate, never a second claim.
    """

    event_type: Literal["DebitClaimSubmitted"] = "DebitClaimSubmitted"
    claim_id: Id
    distributor_id: Id
    lines: Annotated[list[ClaimLine], Field(min_length=1, max_length=MAX_CLAIM_LINES)]
    submitted_at: UtcDatetime

    @model_validator(mode="after")
    def _line_numbers_unique(self) -> DebitClaimSubmitted:
        seen: set[int] = set()
        for line in self.lines:
            if line.line_no in seen:
                raise ValueError(f"line_no {line.line_no} appears twice in claim {self.claim_id}")
            seen.add(line.line_no)
        return self

    @property
    def business_time(self) -> datetime:
        return self.submitted_at


CLAIM_EVENT_TYPES: tuple[type[Envelope], ...] = (
    SpecialPriceAuthorized,
    SpecialPriceAmended,
    SpecialPriceExpired,
    DebitClaimSubmitted,
)

__all__ = [
    "CLAIM_EVENT_TYPES",
    "MAX_CLAIM_LINES",
    "ClaimLine",
    "DebitClaimSubmitted",
    "SpecialPriceAmended",
    "SpecialPriceAuthorized",
    "SpecialPriceExpired",
]
