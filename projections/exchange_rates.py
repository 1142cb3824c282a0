"""Exchange rates as state: a rate history per currency pair, kept by month.

One `RateMonth` per (pair, calendar month of effective_date), so a value holds at most a
month of publications and a lookup reads the few months of `MAX_RATE_AGE_DAYS`: the cost
never grows with the history. Like the price book (`projections.price_book`): the rate in
effect on a day is the one with the latest `effective_date` on or before it; among
publications for the same date (a correction) the one recorded last wins. `known_at`
leaves out what was recorded later, so a closed period converts as it did when it closed.

Pure: functions return new values; an input at or below the month's applied position, an
event id already held or the same content again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from domain.calendar_periods import month_after, period_key
from domain.currency import MAX_RATE_AGE_DAYS, Rate, RateLookup
from domain.identity import content_fingerprint
from domain.timeutil import utc
from projections.positions import Position, advance
from schemas.agreements import ExchangeRatePublished


@dataclass(frozen=True, slots=True)
class RateEntry:
    """One publication of a pair's rate."""

    effective_date: date
    rate: Decimal
    recorded_at: datetime
    event_id: UUID
    fingerprint: str

    def to_json(self) -> list[str]:
        return [
            self.effective_date.isoformat(),
            str(self.rate),
            self.recorded_at.isoformat(),
            str(self.event_id),
            self.fingerprint,
        ]

    @classmethod
    def from_json(cls, data: list[str]) -> RateEntry:
        day, rate, at, event_id, fingerprint = data
        return cls(
            date.fromisoformat(day),
            Decimal(rate),
            datetime.fromisoformat(at),
            UUID(event_id),
            fingerprint,
        )


@dataclass(frozen=True, slots=True)
class RateMonth:
    """The publications of one pair effective in one month, in effective, then recorded order."""

    from_currency: str
    to_currency: str
    month: str
    entries: tuple[RateEntry, ...] = ()
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "pair": [self.from_currency, self.to_currency, self.month],
            "entries": [entry.to_json() for entry in self.entries],
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RateMonth:
        entries = tuple(RateEntry.from_json(entry) for entry in data["entries"])
        from_currency, to_currency, month = data["pair"]
        return cls(from_currency, to_currency, month, entries, dict(data["applied"]))


class RateMonths(Protocol):
    """Rate months by `rate_key`: a dict, or the rates store (`ChannelStores.rates`)."""

    def get(self, key: str, /) -> RateMonth | None: ...


def rate_key(from_currency: str, to_currency: str, day: date) -> str:
    """The key of the month value holding a pair's rates effective in `day`'s month."""
    return f"{from_currency}>{to_currency}|{period_key(day, 'month')}"


def apply_rate(
    month: RateMonth | None,
    event: ExchangeRatePublished,
    recorded_at: datetime,
    position: Position | None,
) -> RateMonth:
    """Add one publication to its pair's month."""
    pair = (event.from_currency, event.to_currency, period_key(event.effective_date, "month"))
    current = month or RateMonth(*pair)
    if (current.from_currency, current.to_currency, current.month) != pair:
        raise ValueError(f"a rate of {pair} applied to the month {current.month} of another pair")
    applied = advance(current.applied, position)
    fingerprint = content_fingerprint(event)
    if applied is None or any(
        entry.event_id == event.event_id or entry.fingerprint == fingerprint
        for entry in current.entries
    ):
        return current
    entry = RateEntry(
        event.effective_date,
        event.rate,
        utc(recorded_at, "recorded_at"),
        event.event_id,
        fingerprint,
    )
    entries = sorted((*current.entries, entry), key=lambda e: (e.effective_date, e.recorded_at))
    return replace(current, entries=tuple(entries), applied=applied)


def rate_on(
    months: RateMonths,
    from_currency: str,
    to_currency: str,
    day: date,
    known_at: datetime | None = None,
) -> Rate | None:
    """The rate converting `from_currency` to `to_currency` on `day`: the pair's own, else
    the opposite pair's used the other way; None when neither has one within the age."""
    for source, target, inverted in (
        (from_currency, to_currency, False),
        (to_currency, from_currency, True),
    ):
        entry = _latest(months, source, target, day, known_at)
        if entry is not None:
            return Rate(source, target, entry.rate, entry.effective_date, entry.event_id, inverted)
    return None


def _latest(
    months: RateMonths,
    from_currency: str,
    to_currency: str,
    day: date,
    known_at: datetime | None,
) -> RateEntry | None:
    """The pair's publication in effect on `day`, within the age, newest month first."""
    oldest = day - timedelta(days=MAX_RATE_AGE_DAYS)
    for first in reversed(_months_between(oldest, day)):
        month = months.get(rate_key(from_currency, to_currency, first))
        if month is None:
            continue
        found = [
            entry
            for entry in month.entries
            if oldest <= entry.effective_date <= day
            and (known_at is None or entry.recorded_at <= known_at)
        ]
        if found:
            return found[-1]
    return None


def first_known_after(
    months: RateMonths, from_currency: str, to_currency: str, day: date, after: datetime
) -> tuple[datetime, Rate] | None:
    """When a rate for `day` first became known after `after` (recorded), and the rate
    used then; None while none has. Reads the few months of `MAX_RATE_AGE_DAYS` of the
    pair and of the opposite pair."""
    oldest = day - timedelta(days=MAX_RATE_AGE_DAYS)
    moments = [
        entry.recorded_at
        for source, target in ((from_currency, to_currency), (to_currency, from_currency))
        for first in _months_between(oldest, day)
        if (month := months.get(rate_key(source, target, first))) is not None
        for entry in month.entries
        if oldest <= entry.effective_date <= day and entry.recorded_at > after
    ]
    for moment in sorted(moments):
        rate = rate_on(months, from_currency, to_currency, day, moment)
        if rate is not None:
            return moment, rate
    return None


def _months_between(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = month_after(month)
    return months


@dataclass(frozen=True, slots=True)
class RateBook:
    """Rate months under their keys, as a `domain.currency.RateLookup` (as known at
    `known_at`: None for everything)."""

    months: RateMonths
    known_at: datetime | None = None

    def __call__(self, from_currency: str, to_currency: str, day: date) -> Rate | None:
        return rate_on(self.months, from_currency, to_currency, day, self.known_at)


def pinned(rates: RateMonths, closed_at: datetime, later: datetime | None) -> RateLookup:
    """The rates known at a close (`closed_at`) for the days that had one then, and for
    the others those known at `later` (None: every rate applied): what a closed period
    converts at never changes, and a day without a rate at the close converts once one
    arrives."""
    closed, after = RateBook(rates, closed_at), RateBook(rates, later)

    def lookup(from_currency: str, to_currency: str, day: date) -> Rate | None:
        return closed(from_currency, to_currency, day) or after(from_currency, to_currency, day)

    return lookup


def closed_rates(rates: RateMonths, closed_at: datetime) -> RateLookup:
    """A closed period's rates: those known at its close, and for a day without one then,
    the first rate known for it afterwards. Once a day has converted, a correction
    published later changes nothing, as for a closed rebate statement."""
    closed = RateBook(rates, closed_at)

    def lookup(from_currency: str, to_currency: str, day: date) -> Rate | None:
        known = closed(from_currency, to_currency, day)
        if known is not None:
            return known
        first = first_known_after(rates, from_currency, to_currency, day, closed_at)
        return None if first is None else first[1]

    return lookup
