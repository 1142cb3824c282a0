"""Inventory aging as state: the receipts of one (distributor, sku), merged per day.

First in, first out means a distributor holds its *newest* units: the stock on hand is
the newest `on_hand` units received, whatever order the receipts and the outflows
arrived in. So the state is the receipts by business day (a shipment in; a reseller's
return or a reversed sale goes back into stock on its own business day) and the totals
in and out; the held lots are read off it (`held_lots`). That makes aging independent of
the order in which the shipments and sales topics interleave, in a worker as in a
replay, and a lot's age is its receipt day's distance from "now".

Bounded: receipts dated more than `HORIZON_DAYS` before the key's latest receipt are
merged into one lot of unknown day (older than any band or maximum age can tell apart),
so a value holds at most a year of receipt days, whatever the history. Pure: functions
return new values; an input at or below the applied position changes nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from domain.aging import HORIZON_DAYS, AgedStock, Lot, aged_stock
from domain.frozen import quick_init
from projections.positions import Position, advance

Basis = Literal["sell_in", "sell_through"]


@quick_init
@dataclass(frozen=True, slots=True)
class AgingState:
    """Receipts of one distributor and sku by day (oldest first), and the totals."""

    distributor_id: str
    sku: str
    #: (day, units received that day), sorted by day, days within the horizon
    receipts: tuple[tuple[date, int], ...] = ()
    #: units received before the horizon (their days merged away)
    older: int = 0
    received: int = 0
    issued: int = 0
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def on_hand(self) -> int:
        """Received minus issued (below zero when more went out than was received)."""
        return self.received - self.issued

    def to_json(self) -> dict[str, Any]:
        """For orjson (the worker's views encode with it): the receipts go as they are, and
        orjson writes each (day, units) as ["2026-05-01", 40] in C, about a tenth of the
        cost of building the lists here for a year of days (bench/aging_cost.py)."""
        return {
            "k": [self.distributor_id, self.sku],
            "r": self.receipts,
            "old": self.older,
            "in": self.received,
            "out": self.issued,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgingState:
        receipts = tuple((date.fromisoformat(day), units) for day, units in data["r"])
        distributor_id, sku = data["k"]
        return cls(
            distributor_id,
            sku,
            receipts,
            data["old"],
            data["in"],
            data["out"],
            dict(data["applied"]),
        )


def apply_move(
    state: AgingState, basis: Basis, quantity: int, day: date, position: Position | None
) -> AgingState:
    """One movement: a shipment (sell_in) or a POS line (sell_through), returns negative."""
    return apply_moves(state, ((basis, quantity, day),), position)


def apply_moves(
    state: AgingState, moves: Iterable[tuple[Basis, int, date]], position: Position | None
) -> AgingState:
    """The (basis, quantity, business day) movements one input caused, together under its
    one position (a second call at that position would be skipped). Inbound units are
    added up per day and outbound ones in all, and the new state is built once: this runs
    for every shipment and sale line."""
    applied = advance(state.applied, position)
    if applied is None:
        return state
    issued, inbound = 0, dict[date, int]()
    for basis, quantity, day in moves:
        if not quantity:
            continue
        if (quantity > 0) == (basis == "sell_in"):
            inbound[day] = inbound.get(day, 0) + abs(quantity)
        else:
            issued += abs(quantity)
    receipts = state.receipts
    for day, units in sorted(inbound.items()):
        receipts = _with_receipt(receipts, day, units)
    # the horizon only moves forward: one cut at the end cuts what each receipt's would have
    kept, older = _within_horizon(receipts, state.older) if inbound else (receipts, state.older)
    received = state.received + sum(inbound.values())
    return AgingState(
        state.distributor_id, state.sku, kept, older, received, state.issued + issued, applied
    )


def _with_receipt(
    receipts: tuple[tuple[date, int], ...], day: date, units: int
) -> tuple[tuple[date, int], ...]:
    """`units` more on `day` (a copy of the receipts, sorted; no scan in the common case of
    a receipt on or after the latest day)."""
    if receipts and receipts[-1][0] == day:
        return (*receipts[:-1], (day, receipts[-1][1] + units))
    if not receipts or receipts[-1][0] < day:
        return (*receipts, (day, units))
    index = bisect_left(receipts, day, key=lambda receipt: receipt[0])
    if receipts[index][0] == day:
        return (*receipts[:index], (day, receipts[index][1] + units), *receipts[index + 1 :])
    return (*receipts[:index], (day, units), *receipts[index:])


def _within_horizon(
    receipts: tuple[tuple[date, int], ...], older: int
) -> tuple[tuple[tuple[date, int], ...], int]:
    """Receipts dated more than the horizon before the latest merged into `older`."""
    if not receipts:
        return receipts, older
    cutoff = receipts[-1][0] - timedelta(days=HORIZON_DAYS)
    if receipts[0][0] >= cutoff:
        return receipts, older
    split = bisect_left(receipts, cutoff, key=lambda receipt: receipt[0])
    return receipts[split:], older + sum(units for _, units in receipts[:split])


def held_lots(state: AgingState, on_hand: int | None = None) -> tuple[Lot, ...]:
    """The lots held (oldest first): the newest `on_hand` units received (default: the
    state's own received − issued; a caller may pass the count-based expected on-hand).
    Reads the receipts from the newest back only as far as the units held reach."""
    left = max(state.on_hand if on_hand is None else on_hand, 0)
    kept: list[Lot] = []
    for day, count in reversed(state.receipts):
        if left <= 0:
            break
        kept.append(Lot(day, min(count, left)))
        left -= count
    if left > 0 and state.older:
        kept.append(Lot(None, min(state.older, left)))
    return tuple(reversed(kept))


def aging_of(
    state: AgingState,
    today: date,
    unit_cost: Decimal | None,
    currency: str | None,
    on_hand: int | None = None,
) -> AgedStock:
    """The held units by age band on `today`, valued at `unit_cost` in `currency`; units
    held beyond those received (a count above the receipts) are of unknown age."""
    lots = held_lots(state, on_hand)
    held = max(state.on_hand if on_hand is None else on_hand, 0)
    unknown = held - sum(lot.quantity for lot in lots)
    return aged_stock(lots, today, unit_cost, currency, unknown)
