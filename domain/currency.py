"""Converting money between currencies at a business date's rate, never by a guess.

A `Rate` says what one unit of `from_currency` is worth in `to_currency` from its
`effective_date` on; it stays usable for `MAX_RATE_AGE_DAYS` (a rate older than that is
stale: using it would be a guess). A published rate converts both ways: the other way
divides by it (`inverted`), exactly; no cross rate through a third currency is made.

`convert` returns `Converted` (with the rate's event id for lineage) or `Unconverted` (no
rate known for that pair on that day): a visible state, never a zero and never dropped.
`total_in` adds up money in several currencies, each amount at its own business date's
rate; the sum is exact (a 60-digit context) and rounded half-up once, to the target's
minor unit, and what could not be converted is listed beside it, summed per currency and
day.

Money is rounded by `round_money` alone: half-up to its currency's ISO 4217 minor unit
(`schemas.currencies.MINOR_UNITS`: 0.01 for USD, 1 for JPY, 0.001 for KWD).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Final
from uuid import UUID

from schemas.currencies import MINOR_UNITS

#: a rate is used at most this many days after its effective_date
MAX_RATE_AGE_DAYS: Final = 31
_EXACT: Final = Context(prec=60)
#: the quantum of each number of places a minor unit has
_QUANTA: Final = {places: Decimal(1).scaleb(-places) for places in set(MINOR_UNITS.values())}
_CENT: Final = _QUANTA[2]
#: each ISO 4217 code's quantum (`minor_unit`), looked up once: every sale line rounds
_QUANTUM_OF: Final[dict[str | None, Decimal]] = {
    code: _QUANTA[places] for code, places in MINOR_UNITS.items()
}


@dataclass(frozen=True, slots=True)
class Rate:
    """A published rate as used for one conversion (`inverted`: used the other way)."""

    from_currency: str
    to_currency: str
    rate: Decimal
    effective_date: date
    event_id: UUID
    inverted: bool = False

    @property
    def factor(self) -> Decimal:
        """What one unit of the source currency is worth in the target currency."""
        if not self.inverted:
            return self.rate
        with localcontext(_EXACT):
            return Decimal(1) / self.rate


#: (from_currency, to_currency, business date) -> the rate to use, or None
RateLookup = Callable[[str, str, date], Rate | None]


@dataclass(frozen=True, slots=True)
class Converted:
    """An amount in the target currency (exact, unrounded) and the rate used (None: it was
    in that currency already)."""

    amount: Decimal
    currency: str
    rate: Rate | None


@dataclass(frozen=True, slots=True)
class Unconverted:
    """An amount that could not be converted: no rate for its currency on that day."""

    amount: Decimal
    currency: str
    target: str
    on: date


@dataclass(frozen=True, slots=True)
class MoneyItem:
    """An amount, its currency and the business date whose rate converts it."""

    amount: Decimal
    currency: str
    on: date


def convert(
    amount: Decimal, currency: str, target: str, on: date, lookup: RateLookup
) -> Converted | Unconverted:
    """`amount` in `target` at the rate of `on`, or `Unconverted`."""
    if currency == target:
        return Converted(amount, target, None)
    rate = lookup(currency, target, on)
    if rate is None:
        return Unconverted(amount, currency, target, on)
    with localcontext(_EXACT):
        return Converted(amount * rate.factor, target, rate)


@dataclass(frozen=True, slots=True)
class MixedTotal:
    """A sum in one currency of amounts in several, with its lineage and its gaps."""

    currency: str
    #: the sum of what converted, rounded half-up to the currency's minor unit (unless
    #: `total_in(exact=True)`)
    converted: Decimal
    #: the ids of the rate events used, sorted
    rate_event_ids: tuple[UUID, ...]
    #: what could not be converted, summed per (currency, day), sorted
    unconverted: tuple[Unconverted, ...]

    @property
    def complete(self) -> bool:
        return not self.unconverted

    @property
    def total(self) -> Decimal | None:
        """The sum when everything converted; None otherwise (never a partial figure)."""
        return self.converted if self.complete else None


def total_in(
    target: str, items: Iterable[MoneyItem], lookup: RateLookup, exact: bool = False
) -> MixedTotal:
    """Every item converted to `target` at its day's rate, and added up (`exact`: the sum
    left unrounded, for a figure rounded once later, as a rebate is)."""
    total = Decimal(0)
    rates: set[UUID] = set()
    missing: dict[tuple[str, date], Decimal] = {}
    with localcontext(_EXACT):
        for item in items:
            result = convert(item.amount, item.currency, target, item.on, lookup)
            if isinstance(result, Unconverted):
                key = (item.currency, item.on)
                missing[key] = missing.get(key, Decimal(0)) + item.amount
                continue
            total += result.amount
            if result.rate is not None:
                rates.add(result.rate.event_id)
    gaps = tuple(
        Unconverted(amount, currency, target, on)
        for (currency, on), amount in sorted(missing.items())
    )
    converted = total if exact else round_money(total, target)
    return MixedTotal(target, converted, tuple(sorted(rates)), gaps)


def gap_rows(gaps: Iterable[Unconverted]) -> list[dict[str, str]]:
    """What had no rate, as rows, documents and recorded events show it."""
    return [
        {"currency": gap.currency, "day": gap.on.isoformat(), "amount": str(gap.amount)}
        for gap in gaps
    ]


def minor_unit(currency: str | None) -> Decimal:
    """The smallest amount `currency` pays: Decimal("0.01") for USD, "1" for JPY, "0.001"
    for KWD. None (a sum over several currencies, no amount of money) and a code outside
    ISO 4217 (none passes a door) have the cent."""
    return _QUANTUM_OF.get(currency, _CENT)


def round_money(amount: Decimal, currency: str | None) -> Decimal:
    """`amount` in `currency` rounded half-up to its minor unit, written with exactly its
    places (JPY "100", USD "100.00", KWD "100.000"); a zero amount too. None: to the
    cent (`minor_unit`). The exact context is passed, not entered: `localcontext` costs
    twice the rounding itself (a scorecard's revenue rounds once every sale line)."""
    return amount.quantize(_QUANTUM_OF.get(currency, _CENT), ROUND_HALF_UP, _EXACT)


def zero_in(currencies: Iterable[str]) -> Decimal:
    """Nothing, written with the places of the one currency of `currencies` (a sum starts
    from it, so a JPY sum is not written "100.00"); with none or several, two places."""
    distinct = set(currencies)
    return round_money(Decimal(0), distinct.pop() if len(distinct) == 1 else None)
