"""Pricing governance, pure: judge a sale against the floor in effect, derive price protection.

Everything here is deterministic and touches no store, clock or broker. The price lookups
(`price_in_effect`), the severity bands (`violation_severity`) and the claim arithmetic
(`price_protection_amount`) live in `projections.prices`; this module only combines them.

Judging a sale (`judge_sale`):

- a line with quantity <= 0 (a return from a reseller, or an empty line) is ``return``:
  never a violation, and no price is looked up;
- no price in effect at sold_at for (sku, distributor, reseller) is ``unpriced`` (never
  guessed); so is a price in effect in another currency than the sale's: a floor in EUR
  cannot judge a USD sale, and falling back to a less specific scope would guess;
- otherwise the most specific floor in effect decides: below it is a ``violation`` with its
  severity, at or above it ``compliant``.

A violation gives rise to the audit fact `ViolationDetected`, whose id is derived from the
sale key (distributor_id, transaction_id): a redelivery, a resend with a new envelope or a
replay records the same violation, never a second one.

Price protection (`price_protection_claims`): when a distributor_cost drops
(`prices.CostDrop`), each distributor it governs is owed (old − new) × its expected
on-hand at the drop's effective_from. A general list drop governs every distributor
holding the SKU except those whose own distributor-specific price is in effect at
effective_from; a distributor-specific drop governs that distributor only. The on-hand as
of that instant is `on_hand_at_drop`: the state's count-rebased expected on-hand less
every movement dated after the instant.

When to call it is the caller's decision: the claim is exact once the inventory state
holds every movement dated up to effective_from (prices are published before the dates
they govern, so a drop effective in the future must wait until business time reaches it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from domain.identity import derived_id
from domain.timeutil import iso_z, utc
from projections.inventory import InventoryState
from projections.positions import Position, advance
from projections.prices import (
    CostDrop,
    PriceEntry,
    PriceHistory,
    Severity,
    price_in_effect,
    price_protection_amount,
    violation_severity,
)
from schemas.events import SaleReported

JudgementKind = Literal["compliant", "violation", "unpriced", "return"]
PriceScope = Literal["reseller", "distributor", "list"]


# --- judging a sale ------------------------------------------------------------------------


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


def judge_sale(history: PriceHistory | None, sale: SaleReported) -> SaleJudgement:
    """Judge one sale line against the most specific floor in effect at its sold_at."""
    if history is not None and history.sku != sale.sku:
        raise ValueError(f"sale of {sale.sku!r} judged against the prices of {history.sku!r}")
    if sale.quantity <= 0:
        return RETURN
    if history is None:
        return UNPRICED
    entry = price_in_effect(history, sale.sold_at, sale.distributor_id, sale.reseller_id)
    if entry is None or entry.currency != sale.currency:
        return UNPRICED
    severity = violation_severity(sale.unit_price, entry.floor_price, sale.quantity)
    return SaleJudgement(
        kind="compliant" if severity is None else "violation",
        floor_price=entry.floor_price,
        severity=severity,
        scope=price_scope(entry),
        price_event_id=entry.event_id,
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


def detect_violation(
    history: PriceHistory | None, sale: SaleReported
) -> tuple[SaleJudgement, ViolationDetected | None]:
    """`judge_sale`, plus the audit fact when the verdict is a violation."""
    judgement = judge_sale(history, sale)
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
    )


# --- price protection ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceProtectionClaim:
    """Audit fact: a distributor is owed (old − new cost) × units on hand at effective_from."""

    claim_id: UUID
    distributor_id: str
    sku: str
    effective_from: datetime
    units: int
    old_cost: Decimal
    new_cost: Decimal
    amount: Decimal
    currency: str
    #: the PriceChanged whose cost drop gave rise to the claim
    price_event_id: UUID


def claim_id_for(distributor_id: str, sku: str, effective_from: datetime) -> UUID:
    return derived_id("price-protection", distributor_id, sku, utc(effective_from).isoformat())


#: (state, instant) -> (sell_in, sell_through) of the state's movements dated after it
MovedAfter = Callable[[InventoryState, datetime], tuple[int, int]]


def expected_on_hand_at(state: InventoryState, at: datetime, moved_after: MovedAfter) -> int:
    """Expected on-hand of (distributor, sku) as of `at`: every movement dated <= `at`.

    The state's expected on-hand (the last count plus what moved after it, or Σ sell_in −
    Σ sell_through with no count) less what moved after `at`. Before the last count this
    back-projects from that count (count − net movements in (at, count]): the physical
    count is the nearest truth, as a finance team would reckon it. It is exact unless an
    earlier count, which the state does not keep, rebased stock in between.
    """
    moved_in, moved_out = moved_after(state, utc(at))
    return state.expected_on_hand - moved_in + moved_out


def on_hand_at_drop(state: InventoryState, drop: CostDrop, moved_after: MovedAfter) -> int:
    """`expected_on_hand_at` the drop's effective_from, without reading history: what
    moved after the drop is tracked in the state from when the drop was known
    (`InventoryState.since_drops`), and a state that has not moved since the drop has
    nothing after it; only a drop that became known after movements dated after it (a
    rare late price) asks `moved_after`, which reads the day history."""
    at = drop.effective_from
    tracked = state.since_drops.get(str(drop.event_id))
    if tracked is not None:
        return state.expected_on_hand - tracked[0] + tracked[1]
    if state.latest is None or state.latest <= at:
        return state.expected_on_hand
    return expected_on_hand_at(state, at, moved_after)


def list_price_governs(history: PriceHistory, distributor_id: str, at: datetime) -> bool:
    """True when the distributor buys at the general list at `at` (no own price in effect)."""
    entry = price_in_effect(history, at, distributor_id, None)
    return entry is None or entry.distributor_id is None


def price_protection_claims(
    drop: CostDrop,
    positions: Iterable[InventoryState],
    history: PriceHistory,
    moved_after: MovedAfter,
    withdrawn: bool = False,
) -> list[PriceProtectionClaim]:
    """The claims a distributor_cost drop gives rise to, sorted by distributor_id.

    `positions` may hold any (distributor, sku) states; only the drop's SKU counts (and for
    a distributor-specific drop, only its distributor). `history` is the SKU's price
    history (with the dropped price applied) and decides, for a general list drop, which
    distributors have their own price in effect at effective_from and are not owed it.
    Distributors with expected on-hand <= 0 at effective_from get no claim; with
    `withdrawn`, they get a zero claim instead, so a claim recorded while their stock
    looked positive (a count arrived later) is revised to nothing rather than left standing.
    """
    if history.sku != drop.sku:
        raise ValueError(f"cost drop of {drop.sku!r} judged with the prices of {history.sku!r}")
    at = utc(drop.effective_from)
    claims: dict[str, PriceProtectionClaim] = {}
    for state in positions:
        if state.sku != drop.sku:
            continue
        if drop.distributor_id is not None and state.distributor_id != drop.distributor_id:
            continue
        if drop.distributor_id is None and not list_price_governs(
            history, state.distributor_id, at
        ):
            continue
        units = max(on_hand_at_drop(state, drop, moved_after), 0)
        if units == 0 and not withdrawn:
            continue
        claims[state.distributor_id] = PriceProtectionClaim(
            claim_id=claim_id_for(state.distributor_id, drop.sku, at),
            distributor_id=state.distributor_id,
            sku=drop.sku,
            effective_from=at,
            units=units,
            old_cost=drop.old_cost,
            new_cost=drop.new_cost,
            amount=price_protection_amount(drop.old_cost, drop.new_cost, units),
            currency=drop.currency,
            price_event_id=drop.event_id,
        )
    return [claims[distributor] for distributor in sorted(claims)]


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


def claim_row(claim: PriceProtectionClaim) -> dict[str, Any]:
    """One `price_protection` row of the projection snapshot."""
    return {
        "distributor_id": claim.distributor_id,
        "sku": claim.sku,
        "effective_from": iso_z(claim.effective_from),
        "units": claim.units,
        "old_cost": str(claim.old_cost),
        "new_cost": str(claim.new_cost),
        "amount": str(claim.amount),
    }


def violation_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Violation rows sorted by their key fields (distributor_id, transaction_id)."""
    return sorted(rows, key=lambda row: (row["distributor_id"], row["transaction_id"]))


def claim_rows(claims: Iterable[PriceProtectionClaim]) -> list[dict[str, Any]]:
    """Rows of the claims standing (withdrawn ones left out), sorted by their key fields
    (distributor_id, sku, effective_from)."""
    standing = (claim for claim in claims if claim.units > 0)
    ordered = sorted(standing, key=lambda c: (c.distributor_id, c.sku, utc(c.effective_from)))
    return [claim_row(claim) for claim in ordered]


# --- flagged sales: what the pricing views list --------------------------------------------


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

    @property
    def violation_id(self) -> UUID:
        return violation_id_for(self.distributor_id, self.transaction_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "d": self.distributor_id,
            "t": self.transaction_id,
            "r": self.reseller_id,
            "s": self.sku,
            "at": self.sold_at.isoformat(),
            "q": self.quantity,
            "p": str(self.unit_price),
            "cur": self.currency,
            "floor": None if self.floor_price is None else str(self.floor_price),
            "sev": None if self.severity is None else self.severity.value,
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
        )


def flag_sale(sale: SaleReported, judgement: SaleJudgement) -> FlaggedSale | None:
    """What the pricing views keep of a judged sale: violations and unpriced lines only."""
    if judgement.kind not in ("violation", "unpriced"):
        return None
    return FlaggedSale(
        kind=judgement.kind,
        distributor_id=sale.distributor_id,
        transaction_id=sale.transaction_id,
        reseller_id=sale.reseller_id,
        sku=sale.sku,
        sold_at=utc(sale.sold_at),
        quantity=sale.quantity,
        unit_price=sale.unit_price,
        currency=sale.currency,
        floor_price=judgement.floor_price,
        severity=judgement.severity,
    )


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
    counts: FlagCounts | None, before: str | None, after: str, position: Position | None
) -> FlagCounts | None:
    """The counts with one line moved from label `before` (None: new) to `after`; None
    when the input was applied already."""
    counts = counts or FlagCounts()
    applied = advance(counts.applied, position)
    if applied is None:
        return None
    updated = dict(counts.counts)
    if before is not None:
        updated[before] = updated.get(before, 0) - 1
    updated[after] = updated.get(after, 0) + 1
    return FlagCounts(updated, applied)
