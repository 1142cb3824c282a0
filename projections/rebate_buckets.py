"""What rebate programs read, kept up to date as movements apply: tallies per quarter.

Every movement adds to two buckets of its distributor, basis (shipments: sell-in; sales:
sell-through) and business quarter: its SKU's and the one for all SKUs, each holding a
`RebateTally` per currency. A program's figures for a distributor and period are then a
handful of bucket reads (the period's quarters, its SKUs or all), whatever the history's
length, and a program counts events that arrived before it was defined.

The same tallies are kept per business day too (`ChannelStores.rebate_days`, the same
`RebateBucket` under a day instead of a quarter): a line in another currency than a
program's converts at its own day's rate, and which currency a program has is not known
when a line applies. A period reads at most its days per scope, and only when its
quarter buckets hold another currency than the program's.

Every movement is also listed as a `RecordedMove`, keyed by its distributor, basis,
quarter and when it was recorded: a closed statement holds a period's events recorded up
to the close (a close may come at any time, also before the period ends), and each one
recorded later is one adjustment, in (recorded, event_id) order: a range of these keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from domain.frozen import quick_init
from domain.rebates import RebateTally, event_hash, hash_text
from projections.inventory import Move
from projections.positions import Position, advance

#: the SKU segment of a bucket over all SKUs (an empty segment: no SKU id is empty)
ALL_SKUS = ""


@quick_init
@dataclass(frozen=True, slots=True)
class RebateBucket:
    by_currency: dict[str, RebateTally] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "c": {
                currency: [t.units, str(t.revenue), t.count, hash_text(t.hash_sum)]
                for currency, t in self.by_currency.items()
            },
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RebateBucket:
        tallies = {
            currency: RebateTally(units, Decimal(revenue), count, int(hash_sum, 16))
            for currency, (units, revenue, count, hash_sum) in data["c"].items()
        }
        return cls(tallies, data["applied"])


def bucket_key(distributor_id: str, basis: str, sku: str, quarter: str) -> str:
    """`sku` is a SKU or ALL_SKUS; `quarter` is a day (ISO) in the day store."""
    return f"{distributor_id}|{basis}|{sku}|{quarter}"


def add_tallies(
    bucket: RebateBucket | None, tallies: dict[str, RebateTally], position: Position | None
) -> RebateBucket | None:
    """The bucket with one input's tallies (per currency) added; None when the input was
    applied already."""
    bucket = bucket or RebateBucket()
    applied = advance(bucket.applied, position)
    if applied is None:
        return None
    by_currency = dict(bucket.by_currency)
    for currency, tally in tallies.items():
        known = by_currency.get(currency)
        by_currency[currency] = tally if known is None else known.plus(tally)
    return RebateBucket(by_currency, applied)


class MoveTallies:
    """Moves added up per (basis, quarter) and per (basis, day), and currency, a line at a
    time, without a tally per line: each bucket's `RebateTally` is built once
    (`RebateTally.summed`), the same as adding up the moves' own tallies in order. A
    line's revenue and event hash are computed once for both."""

    def __init__(self) -> None:
        #: (basis, quarter) -> currency -> [units, revenues, count, hash sum]
        self.sums: dict[tuple[str, str], dict[str, list[Any]]] = {}
        #: (basis, day) -> currency -> [units, revenues, count, hash sum]
        self.day_sums: dict[tuple[str, str], dict[str, list[Any]]] = {}

    def add(self, move: Move, quarter: str) -> None:
        """A move's share of its buckets: a line of its basis (returns and reversals
        negative)."""
        if move.reseller_id is not None:
            basis, quantity = "sell_through", move.sell_through
        else:
            basis, quantity = "sell_in", move.sell_in
        revenue = quantity * Decimal(move.unit_price)
        hashed = event_hash(move.event_id)
        _add_line(self.sums, (basis, quarter), move.currency, quantity, revenue, hashed)
        _add_line(self.day_sums, (basis, move.at[:10]), move.currency, quantity, revenue, hashed)

    def tallies(self) -> dict[tuple[str, str], dict[str, RebateTally]]:
        """(basis, quarter) -> currency -> tally."""
        return _summed(self.sums)

    def day_tallies(self) -> dict[tuple[str, str], dict[str, RebateTally]]:
        """(basis, day) -> currency -> tally."""
        return _summed(self.day_sums)


def _add_line(
    sums: dict[tuple[str, str], dict[str, list[Any]]],
    bucket: tuple[str, str],
    currency: str,
    quantity: int,
    revenue: Decimal,
    hashed: int,
) -> None:
    per_currency = sums.get(bucket)
    if per_currency is None:
        per_currency = sums[bucket] = {}
    summed = per_currency.get(currency)
    if summed is None:
        per_currency[currency] = [quantity, [revenue], 1, hashed]
    else:
        summed[0] += quantity
        summed[1].append(revenue)
        summed[2] += 1
        summed[3] += hashed


def _summed(
    sums: dict[tuple[str, str], dict[str, list[Any]]],
) -> dict[tuple[str, str], dict[str, RebateTally]]:
    return {
        bucket: {currency: RebateTally.summed(*summed) for currency, summed in per_currency.items()}
        for bucket, per_currency in sums.items()
    }


@quick_init
@dataclass(frozen=True, slots=True)
class RecordedMove:
    """A movement as an adjustment needs it, listed by when it was recorded."""

    sku: str
    quantity: int
    unit_price: str
    currency: str
    event_id: str
    recorded: str  # ISO
    reversal: bool = False
    #: its business time (ISO): the day whose rate converts it; None in values stored
    #: before it was kept
    at: str | None = None

    def tally(self) -> RebateTally:
        revenue = self.quantity * Decimal(self.unit_price)
        return RebateTally(self.quantity, revenue, 1, event_hash(self.event_id))

    def to_json(self) -> list[Any]:
        return [
            self.sku, self.quantity, self.unit_price, self.currency, self.event_id,
            self.recorded, self.reversal, self.at,
        ]  # fmt: skip

    @classmethod
    def from_json(cls, data: list[Any]) -> RecordedMove:
        return cls(*data)


def recorded_key(
    distributor_id: str, basis: str, quarter: str, recorded: str, event_id: str
) -> str:
    return f"{distributor_id}|{basis}|{quarter}|{recorded}|{event_id}"


def recorded_prefix(distributor_id: str, basis: str, quarter: str) -> str:
    return f"{distributor_id}|{basis}|{quarter}|"


def recorded_move(move: Move, sku: str) -> RecordedMove:
    quantity = move.sell_through if move.reseller_id is not None else move.sell_in
    return RecordedMove(
        sku, quantity, move.unit_price, move.currency, move.event_id, move.recorded,
        move.reverses is not None, move.at,
    )  # fmt: skip


def quarter_of(move_at: str) -> str:
    """The quarter key of an ISO business time (UTC): "2026-Q3"."""
    return _quarter_of_month(move_at[:7])


@lru_cache(maxsize=1024)
def _quarter_of_month(month: str) -> str:
    """Per month ("2026-08"), once: every move of a line asks, and its month repeats."""
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"
