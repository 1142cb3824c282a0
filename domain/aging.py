"""Inventory aging arithmetic: lots of stock by receipt day, their ages and age bands.

A `Lot` is units received on one business day (`received`), or, with `received=None`,
units received so long ago that their day was merged away (older than the aging horizon,
`HORIZON_DAYS`: always in the oldest band and over any maximum age an agreement may set).
Ages are whole days: received today is 0 days old. Bands: 0–30, 31–60, 61–90, > 90.

First in, first out: what a distributor holds is its newest units, so the oldest units
are the first to go (`newest_units`, `oldest_units`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from domain.inventory import stock_value
from schemas.agreements import MAX_AGE_DAYS

#: receipts dated this many days before a key's latest receipt are merged into one lot
HORIZON_DAYS: Final = MAX_AGE_DAYS
#: (name, first day, last day) of each band; None: no upper end
AGE_BANDS: Final = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), (">90", 91, None))
BAND_NAMES: Final = tuple(name for name, _, _ in AGE_BANDS)


@dataclass(frozen=True, slots=True)
class Lot:
    """Units received on one day (None: before the horizon), oldest lots first in a tuple."""

    received: date | None
    quantity: int


def age_days(lot: Lot, today: date) -> int | None:
    """Whole days since the lot's receipt (never below 0); None: older than the horizon."""
    if lot.received is None:
        return None
    return max((today - lot.received).days, 0)


def band_of(age: int | None) -> str:
    """The band an age falls in (an age beyond the horizon is in the oldest band)."""
    if age is None:
        return BAND_NAMES[-1]
    for name, _, last in AGE_BANDS:
        if last is None or age <= last:
            return name
    raise AssertionError("the last band has no upper end")


def is_older_than(lot: Lot, days: int, today: date) -> bool:
    """Whether the lot's units are more than `days` old (`days` ≤ the horizon)."""
    age = age_days(lot, today)
    return age is None or age > days


def newest_units(lots: Sequence[Lot], units: int) -> tuple[Lot, ...]:
    """The newest `units` units of `lots` (oldest first): what FIFO leaves held."""
    kept: list[Lot] = []
    left = units
    for lot in reversed(lots):
        if left <= 0:
            break
        take = min(lot.quantity, left)
        kept.append(Lot(lot.received, take))
        left -= take
    return tuple(reversed(kept))


def oldest_units(lots: Sequence[Lot], units: int) -> tuple[Lot, ...]:
    """The oldest `units` units of `lots` (oldest first): what FIFO takes out first."""
    taken: list[Lot] = []
    left = units
    for lot in lots:
        if left <= 0:
            break
        take = min(lot.quantity, left)
        taken.append(Lot(lot.received, take))
        left -= take
    return tuple(taken)


@dataclass(frozen=True, slots=True)
class AgedStock:
    """Held units per band, their value at a unit cost, and units of unknown age."""

    units: dict[str, int]
    #: per band, units × unit cost rounded to its currency's minor unit; None without a cost
    values: dict[str, Decimal | None]
    #: units held beyond the receipts known (a count above what was received)
    unknown_age: int = 0

    @property
    def total_units(self) -> int:
        return sum(self.units.values()) + self.unknown_age


def aged_stock(
    lots: Sequence[Lot],
    today: date,
    unit_cost: Decimal | None,
    currency: str | None,
    unknown_age: int = 0,
) -> AgedStock:
    """The lots' units by age band on `today`, valued at `unit_cost` in `currency`."""
    units = dict.fromkeys(BAND_NAMES, 0)
    for lot in lots:
        units[band_of(age_days(lot, today))] += lot.quantity
    values = {name: stock_value(count, unit_cost, currency) for name, count in units.items()}
    return AgedStock(units, values, unknown_age)
