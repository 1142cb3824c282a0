"""The price rules, pure: how far below its floor a sale is (severity), the verdict on a
sale line, the violation it gives rise to, and what the pricing views keep of it.

Everything here is deterministic and touches no store, clock or broker. Which price is in
effect is the price book's answer (`projections.price_book`, `price_in_effect`); what a
distributor_cost drop is owed is `projections.price_protection_claims`.

Severity (`violation_severity`): the shortfall (floor − price) / floor, compared exactly,
is `minor` below 5 %, `major` from 5 % up to and including 20 %, `critical` above.

Judging a sale (`judge_sale`):

- a line with quantity <= 0 (a return from a reseller, or an empty line) is ``return``:
  never a violation, and no price is looked up;
- no price in effect at sold_at for (sku, distributor, reseller) is ``unpriced`` (never
  guessed); so is a price in effect in another currency than the sale's without a rate for
  the sale's day (falling back to a less specific scope would guess): the judgement
  `awaits` that floor, and a rate known later judges the sale by it
  (`projections.rate_waits`); with a rate the floor converts at it;
- otherwise the most specific floor in effect decides: below it is a ``violation`` with its
  severity, at or above it ``compliant``;
- a sale within a special price authorization (`authorization`, the one
  `projections.authorizations.covering` finds) is judged by it instead, scope
  ``authorization``: below its floor a ``violation``, else ``compliant`` (one without a
  floor allows any price). Without an authorization every verdict is as above.
- `master` is the master the sale's reseller means when it is judged (its alias's
  mapping, docs/IDENTITY.md): a price or an authorization naming that master applies as if
  it named the reseller, and the verdict names the mapping step's event
  (`alias_event_id`). A mapping made after the sale does not judge it again.

A violation gives rise to the audit fact `ViolationDetected`, whose id is derived from the
sale key (distributor_id, transaction_id): a redelivery, a resend with a new envelope or a
replay records the same violation, never a second one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from domain.claim_rules import AuthorizationTerms
from domain.currency import Converted, RateLookup, convert, round_money
from domain.frozen import quick_init
from domain.identity import derived_id
from domain.timeutil import iso_z, utc
from projections.party_aliases import MappedTo
from projections.positions import Position, advance
from projections.price_book import PriceEntry, PriceHistory, price_in_effect
from schemas.events import SaleReported

JudgementKind = Literal["compliant", "violation", "unpriced", "return"]
PriceScope = Literal["reseller", "distributor", "list", "authorization"]


# --- severity ------------------------------------------------------------------------------

#: Shortfall (floor − price) / floor below this is `minor`; from it up to and including
#: MAJOR_UP_TO it is `major`; above MAJOR_UP_TO it is `critical`.
MINOR_BELOW = Decimal("0.05")
MAJOR_UP_TO = Decimal("0.20")


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


def violation_severity(unit_price: Decimal, floor_price: Decimal, quantity: int) -> Severity | None:
    """How far below the floor a sale line is, or None when it is no violation.

    Shortfall s = (floor − price) / floor, compared exactly (no rounding):
    s < 5 % minor; 5 % <= s <= 20 % major (both 5 % and 20 % exactly are major);
    s > 20 % critical. A price at or above the floor is None, and so is any line with
    quantity <= 0 (returns and zero lines are never violations). With a floor <= 0 a
    shortfall ratio is meaningless; any price below such a floor is critical.
    """
    if quantity <= 0 or unit_price >= floor_price:
        return None
    if floor_price <= 0:
        return Severity.CRITICAL
    gap = floor_price - unit_price
    if gap < MINOR_BELOW * floor_price:
        return Severity.MINOR
    if gap <= MAJOR_UP_TO * floor_price:
        return Severity.MAJOR
    return Severity.CRITICAL


# --- judging a sale ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Floor:
    """The price that decides a sale, in its own currency (the sale's or another)."""

    floor_price: Decimal
    currency: str
    scope: PriceScope
    price_event_id: UUID
    #: the alias mapping that made a price for the master apply (lineage)
    alias_event_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class SaleJudgement:
    """The verdict on one sale line.

    `floor_price`, `scope` and `price_event_id` name the price that decided (None for
    ``return`` and ``unpriced``); `severity` is set for ``violation`` only.
    """

    kind: JudgementKind
    floor_price: Decimal | None = None
    severity: Severity | None = None
    scope: PriceScope | None = None
    price_event_id: UUID | None = None
    #: the exchange rate that put a floor in another currency into the sale's (lineage)
    rate_event_id: UUID | None = None
    #: the alias mapping that made a price or authorization for the master apply (lineage)
    alias_event_id: UUID | None = None
    #: an ``unpriced`` sale's floor in another currency, waiting for the sale day's rate
    awaits: Floor | None = None

    @property
    def is_violation(self) -> bool:
        return self.kind == "violation"


RETURN = SaleJudgement("return")
UNPRICED = SaleJudgement("unpriced")


def price_scope(entry: PriceEntry) -> PriceScope:
    """Which scope a price entry belongs to."""
    if entry.reseller_id is not None:
        return "reseller"
    if entry.distributor_id is not None:
        return "distributor"
    return "list"


def judge_sale(
    history: PriceHistory | None,
    sale: SaleReported,
    authorization: AuthorizationTerms | None = None,
    rates: RateLookup | None = None,
    master: MappedTo | None = None,
    lists: Sequence[str] = (),
    customer_master: str | None = None,
) -> SaleJudgement:
    """Judge one sale line against the most specific floor in effect at its sold_at, or
    against the floor of the special price authorization it is sold under. A floor in
    another currency than the sale's is converted at the sale day's rate (`rates`); with
    no rate the line is unpriced, never judged on a guess (it waits for one:
    `projections.rate_waits`). `lists`: the named price lists
    the distributor's agreement binds on the sale's day (`projections.costs.bound_lists`).
    `master` / `customer_master`: what the sale's reseller and end customer mean."""
    if history is not None and history.sku != sale.sku:
        raise ValueError(f"sale of {sale.sku!r} judged against the prices of {history.sku!r}")
    if sale.quantity <= 0:
        return RETURN
    master_id = None if master is None else master.master_id
    if authorization is not None and _sold_under(authorization, sale, master_id, customer_master):
        through = _through(authorization.reseller_id, sale, master)
        return replace(_judge_authorized(authorization, sale), alias_event_id=through)
    if history is None:
        return UNPRICED
    entry = price_in_effect(
        history, sale.sold_at, sale.distributor_id, sale.reseller_id, master_id, lists=lists
    )
    if entry is None:
        return UNPRICED
    through = _through(entry.reseller_id, sale, master)
    floor = Floor(entry.floor_price, entry.currency, price_scope(entry), entry.event_id, through)
    return judge_floor(sale, floor, rates)


def judge_floor(sale: SaleReported, floor: Floor, rates: RateLookup | None) -> SaleJudgement:
    """The sale against the floor that decides it: converted at the sale day's rate when
    in another currency; without a rate ``unpriced``, with `awaits` naming the floor (a
    rate known later judges the sale by it: `projections.rate_waits`)."""
    converted = _floor_in(floor, sale, rates)
    if converted is None:
        return SaleJudgement("unpriced", awaits=floor)
    amount, rate_event_id = converted
    severity = violation_severity(sale.unit_price, amount, sale.quantity)
    return SaleJudgement(
        kind="compliant" if severity is None else "violation",
        floor_price=amount,
        severity=severity,
        scope=floor.scope,
        price_event_id=floor.price_event_id,
        rate_event_id=rate_event_id,
        alias_event_id=floor.alias_event_id,
    )


def _through(named: str | None, sale: SaleReported, master: MappedTo | None) -> UUID | None:
    """The mapping step's event when what decided named the reseller's master rather than
    the reseller itself; else None."""
    if master is None or named is None or named == sale.reseller_id or named != master.master_id:
        return None
    return UUID(master.event_id)


def _floor_in(
    floor: Floor, sale: SaleReported, rates: RateLookup | None
) -> tuple[Decimal, UUID | None] | None:
    """The floor in the sale's currency: as it is, or converted at the sale day's rate (to
    the sale currency's minor unit) with the rate's event; None without a rate."""
    if floor.currency == sale.currency:
        return floor.floor_price, None
    if rates is None:
        return None
    day = utc(sale.sold_at).date()
    converted = convert(floor.floor_price, floor.currency, sale.currency, day, rates)
    if not isinstance(converted, Converted) or converted.rate is None:
        return None
    return round_money(converted.amount, sale.currency), converted.rate.event_id


def _sold_under(
    authorization: AuthorizationTerms,
    sale: SaleReported,
    master_id: str | None,
    customer_master: str | None,
) -> bool:
    return authorization.covers(
        sale.distributor_id,
        sale.sku,
        sale.reseller_id,
        sale.end_customer,
        sale.sold_at,
        sale.currency,
        master_id,
        customer_master,
    )


def _judge_authorized(authorization: AuthorizationTerms, sale: SaleReported) -> SaleJudgement:
    """A sale within an authorization: its floor decides (none: any price is within it)."""
    floor = authorization.floor_price
    severity = None if floor is None else violation_severity(sale.unit_price, floor, sale.quantity)
    return SaleJudgement(
        kind="compliant" if severity is None else "violation",
        floor_price=floor,
        severity=severity,
        scope="authorization",
        price_event_id=authorization.event_id,
    )


def violation_id_for(distributor_id: str, transaction_id: str) -> UUID:
    """The violation's id, derived from the sale key (as `PricingViolation.create_id`)."""
    return derived_id("violation", distributor_id, transaction_id)


@dataclass(frozen=True, slots=True)
class ViolationDetected:
    """Audit fact: a sale line below the floor in effect. Recorded once per sale key."""

    violation_id: UUID
    distributor_id: str
    transaction_id: str
    reseller_id: str
    sku: str
    sold_at: datetime
    quantity: int
    unit_price: Decimal
    floor_price: Decimal
    currency: str
    severity: Severity
    #: the SaleReported that was judged
    event_id: UUID
    #: the scope and the PriceChanged of the floor that decided, for the auditor
    scope: PriceScope
    price_event_id: UUID
    #: the exchange rate that converted the floor into the sale's currency (None: same one)
    rate_event_id: UUID | None = None
    #: the alias mapping that made a price or authorization for the master apply
    alias_event_id: UUID | None = None


def detect_violation(
    history: PriceHistory | None,
    sale: SaleReported,
    authorization: AuthorizationTerms | None = None,
    rates: RateLookup | None = None,
    master: MappedTo | None = None,
    lists: Sequence[str] = (),
    customer_master: str | None = None,
) -> tuple[SaleJudgement, ViolationDetected | None]:
    """`judge_sale`, plus the audit fact when the verdict is a violation."""
    judgement = judge_sale(history, sale, authorization, rates, master, lists, customer_master)
    return judgement, violation_fact(sale, judgement)


def violation_fact(sale: SaleReported, judgement: SaleJudgement) -> ViolationDetected | None:
    """The `ViolationDetected` of a sale judged a violation; None for any other verdict."""
    if (
        judgement.kind != "violation"
        or judgement.floor_price is None
        or judgement.severity is None
        or judgement.scope is None
        or judgement.price_event_id is None
    ):
        return None
    return ViolationDetected(
        violation_id=violation_id_for(sale.distributor_id, sale.transaction_id),
        distributor_id=sale.distributor_id,
        transaction_id=sale.transaction_id,
        reseller_id=sale.reseller_id,
        sku=sale.sku,
        sold_at=utc(sale.sold_at),
        quantity=sale.quantity,
        unit_price=sale.unit_price,
        floor_price=judgement.floor_price,
        currency=sale.currency,
        severity=judgement.severity,
        event_id=sale.event_id,
        scope=judgement.scope,
        price_event_id=judgement.price_event_id,
        rate_event_id=judgement.rate_event_id,
        alias_event_id=judgement.alias_event_id,
    )


# --- snapshot rows -------------------------------------------------------------------------


def violation_row(
    fact: ViolationDetected | FlaggedSale, status: str, resolution: str | None = None
) -> dict[str, Any]:
    """One `violations` row of the projection snapshot.

    The design's fields plus `resolution` (waived / credited / penalized once resolved,
    else None): a finance reader needs to tell a waived violation from a penalized one.
    """
    return {
        "violation_id": str(fact.violation_id),
        "distributor_id": fact.distributor_id,
        "transaction_id": fact.transaction_id,
        "reseller_id": fact.reseller_id,
        "sku": fact.sku,
        "sold_at": iso_z(fact.sold_at),
        "unit_price": str(fact.unit_price),
        "floor_price": str(fact.floor_price),
        "currency": fact.currency,
        "severity": str(fact.severity),
        "status": str(status),
        "resolution": None if resolution is None else str(resolution),
    }


def violation_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Violation rows sorted by their key fields (distributor_id, transaction_id)."""
    return sorted(rows, key=lambda row: (row["distributor_id"], row["transaction_id"]))


# --- flagged sales: what the pricing views list --------------------------------------------


@quick_init
@dataclass(frozen=True, slots=True)
class FlaggedSale:
    """A sale line pricing must look at: a violation, or `unpriced` (no floor in effect)."""

    kind: JudgementKind
    distributor_id: str
    transaction_id: str
    reseller_id: str
    sku: str
    sold_at: datetime
    quantity: int
    unit_price: Decimal
    currency: str
    floor_price: Decimal | None = None
    severity: Severity | None = None
    #: an unpriced sale that waited for its floor's exchange rate in vain: when its wait
    #: ran out (recorded time), after which it is final as unpriced
    rate_wait_expired_at: datetime | None = None
    #: an unpriced sale that could not wait for its floor's exchange rate: why (its
    #: distributor had as many sales or days waiting as it may: `projections.rate_waits`)
    rate_wait_refused: str | None = None

    @property
    def violation_id(self) -> UUID:
        return violation_id_for(self.distributor_id, self.transaction_id)

    def to_json(self) -> dict[str, Any]:
        return {**self.to_changelog(), "at": self.sold_at.isoformat()}

    def to_changelog(self) -> dict[str, Any]:
        """`to_json` with the sale time left to orjson, which writes the same text in C:
        what the worker's changelog encodes (`streams.worker.stores.store_layouts`)."""
        return {
            "kind": self.kind,
            "d": self.distributor_id,
            "t": self.transaction_id,
            "r": self.reseller_id,
            "s": self.sku,
            "at": self.sold_at,
            "q": self.quantity,
            "p": str(self.unit_price),
            "cur": self.currency,
            "floor": None if self.floor_price is None else str(self.floor_price),
            "sev": None if self.severity is None else self.severity.value,
            **({} if (ended := self.rate_wait_expired_at) is None else {"exp": ended.isoformat()}),
            **({} if (refused := self.rate_wait_refused) is None else {"wref": refused}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlaggedSale:
        return cls(
            kind=data["kind"],
            distributor_id=data["d"],
            transaction_id=data["t"],
            reseller_id=data["r"],
            sku=data["s"],
            sold_at=datetime.fromisoformat(data["at"]),
            quantity=data["q"],
            unit_price=Decimal(data["p"]),
            currency=data["cur"],
            floor_price=None if data["floor"] is None else Decimal(data["floor"]),
            severity=None if data["sev"] is None else Severity(data["sev"]),
            rate_wait_expired_at=None if "exp" not in data else datetime.fromisoformat(data["exp"]),
            rate_wait_refused=data.get("wref"),
        )


def flag_sale(sale: SaleReported, judgement: SaleJudgement) -> FlaggedSale | None:
    """What the pricing views keep of a judged sale: violations and unpriced lines only."""
    if judgement.kind not in ("violation", "unpriced"):
        return None
    # by position, in the fields' order (kind, distributor_id, transaction_id, reseller_id,
    # sku, sold_at, quantity, unit_price, currency, floor_price, severity): once per line
    return FlaggedSale(
        judgement.kind, sale.distributor_id, sale.transaction_id, sale.reseller_id, sale.sku,
        utc(sale.sold_at), sale.quantity, sale.unit_price, sale.currency, judgement.floor_price,
        judgement.severity,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FlagCounts:
    """How many sale lines of one distributor are flagged, by severity and `unpriced`:
    what the violation summary and the metrics read, kept up to date as lines are judged."""

    counts: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> list[Any]:
        return [self.counts, self.applied]

    @classmethod
    def from_json(cls, data: list[Any]) -> FlagCounts:
        return cls(data[0], data[1])


def flag_label(flagged: FlaggedSale) -> str:
    """The count a flagged line is in: its severity, or "unpriced"."""
    return flagged.severity.value if flagged.severity is not None else flagged.kind


def recount(
    counts: FlagCounts | None, moved: dict[str, int], position: Position | None
) -> FlagCounts | None:
    """The counts with lines moved between labels (label -> lines in, negative: out; a
    label touched keeps its key even when it comes to 0); None when the input was applied
    already."""
    counts = counts or FlagCounts()
    applied = advance(counts.applied, position)
    if applied is None:
        return None
    updated = dict(counts.counts)
    for label, change in moved.items():
        updated[label] = updated.get(label, 0) + change
    return FlagCounts(updated, applied)
