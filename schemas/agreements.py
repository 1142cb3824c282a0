"""Version 1 wire contracts of distributor agreements, exchange rates and stock rotation.

Shape and field-level validity only; the rules (which version governs a period, rates in
effect, inventory aging, obligations, the reporting calendar, rotation decisions) live in
`domain/` and `projections/` (docs/AGREEMENTS.md). Agreements and rates are on raw topics
(`schemas/topics.py`) and in `schemas.events.Event`; rotation requests and cancellations
are on the `rotations` topic.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    model_validator,
)

from schemas.envelope import Envelope
from schemas.types import MAX_QUANTITY, Currency, Id, Money, Text, UtcDatetime, money_problem

#: an exchange rate has at most this many decimal places (0.0000067 JPY → USD needs 7+)
RATE_PLACES: Final = 10
#: the longest age an agreement may name, in days (inventory aging dates lots this far back)
MAX_AGE_DAYS: Final = 365
#: most lines a rotation request may carry in each of its lists
MAX_ROTATION_LINES: Final = 1000
_PLAIN_DECIMAL: Final = re.compile(r"-?\d+(\.\d+)?")


def _decimal_text(value: object) -> object:
    if isinstance(value, float):
        raise ValueError('a rate or a fraction is a decimal string (e.g. "1.0842"), not a float')
    if isinstance(value, str) and not _PLAIN_DECIMAL.fullmatch(value):
        raise ValueError(f"{value!r} is not a plain decimal (no exponent, '+', blanks)")
    return value


def _fraction(value: Decimal) -> Decimal:
    if not value.is_finite() or not 0 <= value <= 1:
        raise ValueError(f"{value} is not a fraction between 0 and 1 (0.05 is 5 %)")
    problem = money_problem(value)
    if problem is not None:
        raise ValueError(f"{value} {problem}")
    return value


def _rate(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{value} is not a rate: a rate is above zero")
    if isinstance(exponent, int) and exponent < -RATE_PLACES:
        raise ValueError(f"{value} has more than {RATE_PLACES} decimal places")
    return value


#: a share from 0 to 1 (a discount, an allowance): 0.05 is 5 %
Fraction = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    AfterValidator(_fraction),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(0(\.\d{1,6})?|1(\.0{1,6})?)$"},
                {"type": "integer", "minimum": 0, "maximum": 1},
            ],
            "description": 'a fraction from "0" to "1" as a string ("0.05" is 5 %)',
        }
    ),
]
#: units of `to_currency` one unit of `from_currency` buys: above zero, a decimal string
ExchangeRate = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    AfterValidator(_rate),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": rf"^\d+(\.\d{{1,{RATE_PLACES}}})?$"},
                {"type": "integer", "minimum": 1},
            ],
            "description": 'a rate above zero as a decimal string ("1.0842"), never a float',
        }
    ),
]
#: a number of days an age is measured in
AgeDays = Annotated[StrictInt, Field(ge=1, le=MAX_AGE_DAYS)]
#: a target in weeks of supply, above zero (at most 2 places)
Weeks = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    Field(gt=0, le=520, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d{1,3}(\.\d{1,2})?$"},
                {"type": "integer", "minimum": 1, "maximum": 520},
            ],
            "description": 'weeks of supply above zero as a decimal string ("6.5"), at most 520',
        }
    ),
]
#: whole units above zero
Units = Annotated[StrictInt, Field(gt=0, le=MAX_QUANTITY)]
PeriodKind = Literal["month", "quarter", "year"]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductGroup(_Part):
    """A named set of skus the agreement's discounts and stocking targets can name."""

    group_id: Id
    skus: Annotated[list[Id], Field(min_length=1, max_length=10_000)]


class GroupDiscount(_Part):
    """The discount off list price the distributor gets on a product group."""

    group_id: Id
    discount: Fraction


class VolumeCommitment(_Part):
    """The least the distributor commits to buy (sell_in) or sell (sell_through) per period,
    in units or in revenue in the agreement's currency."""

    period: PeriodKind
    basis: Literal["sell_in", "sell_through"]
    measure: Literal["units", "revenue"]
    minimum: Annotated[Money, Field(gt=0)]


class StockingTarget(_Part):
    """The most stock, in weeks of supply, the distributor holds of one sku or one group."""

    sku: Id | None = None
    group_id: Id | None = None
    max_weeks_of_supply: Weeks

    @model_validator(mode="after")
    def _one_scope(self) -> StockingTarget:
        if (self.sku is None) == (self.group_id is None):
            raise ValueError("a stocking target names exactly one of sku or group_id")
        return self


class InventoryObligations(_Part):
    """What the distributor owes on stock: targets, a maximum age, rotation rights."""

    stocking_targets: Annotated[list[StockingTarget], Field(max_length=10_000)] = []
    #: stock older than this many days is over-age (None: no limit)
    max_age_days: AgeDays | None = None
    #: the share of a rotation period's purchases (by value) the distributor may return
    rotation_allowance: Fraction = Decimal(0)
    rotation_period: Literal["quarter", "year"] = "quarter"
    #: returned units must be at least this old (None: any age)
    rotation_min_age_days: AgeDays | None = None
    #: returned units may be at most this old (None: any age)
    rotation_max_age_days: AgeDays | None = None
    #: a rotation must order at least the returned value in exchange
    rotation_requires_exchange: StrictBool = False


class ReportingSchedule(_Part):
    """When the distributor's sell-through reports are due.

    weekly: the week Monday–Sunday, due on `due_day` of the following week (1 = Monday …
    7 = Sunday); monthly: the calendar month, due on day `due_day` (1–28) of the next
    month. A report is on time until the end of the due day plus `grace_days`.
    """

    frequency: Literal["weekly", "monthly"]
    due_day: Annotated[StrictInt, Field(ge=1, le=28)]
    grace_days: Annotated[StrictInt, Field(ge=0, le=31)] = 0

    @model_validator(mode="after")
    def _due_day_fits(self) -> ReportingSchedule:
        if self.frequency == "weekly" and self.due_day > 7:
            raise ValueError("a weekly due_day is a weekday: 1 (Monday) to 7 (Sunday)")
        return self


class AgreementTerms(_Part):
    """The amendable terms of a distributor agreement (one version of them)."""

    term_end: date
    program_ids: Annotated[list[Id], Field(max_length=1000)] = []
    price_lists: Annotated[list[Id], Field(max_length=1000)] = []
    product_groups: Annotated[list[ProductGroup], Field(max_length=1000)] = []
    discounts: Annotated[list[GroupDiscount], Field(max_length=1000)] = []
    commitments: Annotated[list[VolumeCommitment], Field(max_length=100)] = []
    inventory: InventoryObligations = InventoryObligations()
    reporting: ReportingSchedule = ReportingSchedule(frequency="weekly", due_day=3)


#: the terms' field names (an amendment replaces any of them)
TERM_FIELDS: Final = tuple(AgreementTerms.model_fields)


class DistributorAgreementSigned(Envelope, AgreementTerms):
    """A distributor agreement: its terms govern from `term_start` to `term_end` (dates,
    both inclusive, UTC). The currency is fixed for the agreement's life."""

    event_type: Literal["DistributorAgreementSigned"] = "DistributorAgreementSigned"
    agreement_id: Id
    distributor_id: Id
    signed_at: UtcDatetime
    term_start: date
    currency: Currency

    @model_validator(mode="after")
    def _term_ordered(self) -> DistributorAgreementSigned:
        if self.term_end < self.term_start:
            raise ValueError("term_end is before term_start")
        return self

    @property
    def business_time(self) -> datetime:
        return self.signed_at

    def terms(self) -> AgreementTerms:
        return AgreementTerms.model_validate({name: getattr(self, name) for name in TERM_FIELDS})


class DistributorAgreementAmended(Envelope):
    """New terms from `effective_from` on: each section given replaces the current one.

    A closed period keeps the version that governed it (docs/AGREEMENTS.md).
    """

    event_type: Literal["DistributorAgreementAmended"] = "DistributorAgreementAmended"
    agreement_id: Id
    distributor_id: Id
    amendment_id: Id
    amended_at: UtcDatetime
    effective_from: date
    term_end: date | None = None
    program_ids: Annotated[list[Id], Field(max_length=1000)] | None = None
    price_lists: Annotated[list[Id], Field(max_length=1000)] | None = None
    product_groups: Annotated[list[ProductGroup], Field(max_length=1000)] | None = None
    discounts: Annotated[list[GroupDiscount], Field(max_length=1000)] | None = None
    commitments: Annotated[list[VolumeCommitment], Field(max_length=100)] | None = None
    inventory: InventoryObligations | None = None
    reporting: ReportingSchedule | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> DistributorAgreementAmended:
        if all(getattr(self, name) is None for name in TERM_FIELDS):
            raise ValueError("an amendment replaces at least one section of the terms")
        return self

    @property
    def business_time(self) -> datetime:
        return self.amended_at

    def changes(self) -> dict[str, object]:
        """The sections this amendment replaces."""
        return {
            name: getattr(self, name) for name in TERM_FIELDS if getattr(self, name) is not None
        }


class DistributorAgreementTerminated(Envelope):
    """The agreement ends early: `last_day` is the last day it governs (never extends it)."""

    event_type: Literal["DistributorAgreementTerminated"] = "DistributorAgreementTerminated"
    agreement_id: Id
    distributor_id: Id
    terminated_at: UtcDatetime
    last_day: date
    reason: Annotated[Text, Field(min_length=1, max_length=512)]

    @property
    def business_time(self) -> datetime:
        return self.terminated_at


class ExchangeRatePublished(Envelope):
    """One unit of `from_currency` is worth `rate` units of `to_currency` from
    `effective_date` on (until a later rate, for at most `domain.currency.MAX_RATE_AGE`)."""

    event_type: Literal["ExchangeRatePublished"] = "ExchangeRatePublished"
    from_currency: Currency
    to_currency: Currency
    rate: ExchangeRate
    effective_date: date
    #: who published it ("ECB", "treasury"); `source` is the envelope's door
    rate_source: Id
    published_at: UtcDatetime

    @model_validator(mode="after")
    def _two_currencies(self) -> ExchangeRatePublished:
        if self.from_currency == self.to_currency:
            raise ValueError("a rate converts between two different currencies")
        return self

    @property
    def business_time(self) -> datetime:
        return self.published_at

    @property
    def pair(self) -> str:
        """The currency pair, "EUR>USD": the message key on the rates topic."""
        return f"{self.from_currency}>{self.to_currency}"


class RotationLine(_Part):
    """Units of one sku, returned or ordered in exchange."""

    sku: Id
    quantity: Units


def _skus_unique(lines: list[RotationLine], what: str) -> None:
    seen: set[str] = set()
    for line in lines:
        if line.sku in seen:
            raise ValueError(f"sku {line.sku!r} appears twice among the {what}: add the lines up")
        seen.add(line.sku)


class StockRotationRequested(Envelope):
    """A distributor asks to return slow stock (`returns`) and order other skus in exchange
    (`orders`). The business key is (distributor_id, request_id)."""

    event_type: Literal["StockRotationRequested"] = "StockRotationRequested"
    request_id: Id
    distributor_id: Id
    requested_at: UtcDatetime
    returns: Annotated[list[RotationLine], Field(min_length=1, max_length=MAX_ROTATION_LINES)]
    orders: Annotated[list[RotationLine], Field(max_length=MAX_ROTATION_LINES)] = Field(
        default_factory=list
    )
    note: Annotated[Text, Field(max_length=512)] | None = None

    @model_validator(mode="after")
    def _lines_unique(self) -> StockRotationRequested:
        _skus_unique(self.returns, "returns")
        _skus_unique(self.orders, "orders")
        return self

    @property
    def business_time(self) -> datetime:
        return self.requested_at


class StockRotationCancelled(Envelope):
    """An accepted rotation withdrawn before any of its return came back: by the
    distributor (its own) or admin, who says why. Key: (distributor_id, request_id)."""

    event_type: Literal["StockRotationCancelled"] = "StockRotationCancelled"
    request_id: Id
    distributor_id: Id
    cancelled_at: UtcDatetime
    #: the actor who cancelled, and their role (the route fills both from the token)
    cancelled_by: Id
    role: Literal["distributor", "admin"]
    reason: Annotated[Text, Field(min_length=1, max_length=512)]

    @model_validator(mode="after")
    def _says_why(self) -> StockRotationCancelled:
        if not self.reason.strip():
            raise ValueError("a cancellation says why: reason is blank")
        return self

    @property
    def business_time(self) -> datetime:
        return self.cancelled_at


AGREEMENT_EVENT_TYPES: tuple[type[Envelope], ...] = (
    DistributorAgreementSigned,
    DistributorAgreementAmended,
    DistributorAgreementTerminated,
    ExchangeRatePublished,
    StockRotationRequested,
    StockRotationCancelled,
)

__all__ = [
    "AGREEMENT_EVENT_TYPES",
    "MAX_AGE_DAYS",
    "TERM_FIELDS",
    "AgreementTerms",
    "DistributorAgreementAmended",
    "DistributorAgreementSigned",
    "DistributorAgreementTerminated",
    "ExchangeRatePublished",
    "GroupDiscount",
    "InventoryObligations",
    "ProductGroup",
    "ReportingSchedule",
    "RotationLine",
    "StockRotationCancelled",
    "StockRotationRequested",
    "StockingTarget",
    "VolumeCommitment",
]
