"""The reseller network per distributor: onboarding, activity, revenue, growth.

One state per (distributor, reseller), fed by `ResellerOnboarded` and by accepted sale
lines (and the reversals of replaced report lines). It keeps its first and last sale
day, sale lines (quantity > 0, net of reversed ones) per month and revenue (Σ quantity ×
unit_price, returns negative) per month and currency, none of which grows with the
number of lines; the lines of each day are counted under their own key
(distributor|reseller|day), read only when a reversal empties the first or last day, or
for activity as of a date before the last sale.

- `active_90d`: a sale on one of the 90 calendar days (UTC) ending with now's day.
- `new_this_quarter`: the first sale falls in now's calendar quarter, on or before now's day.
- A return from a reseller is not a sale: it counts in revenue, not in activity.
- Revenue is never summed across currencies: rankings are per currency.

Onboarding and sales commute (different topics may interleave in any order): the
earliest onboarded_at stands, the latest onboarding names the reseller.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from domain.frozen import quick_init
from domain.timeutil import iso_z, utc
from projections.keyvalue import KeyValue
from projections.positions import Position, advance
from projections.tallies import period_key

ACTIVE_DAYS = 90

_ZERO = Decimal(0)


class ResoldLine(NamedTuple):
    """What the reseller view needs of one sale line."""

    sold_at: datetime
    quantity: int
    unit_price: Decimal
    currency: str


@quick_init
@dataclass(frozen=True, slots=True)
class ResellerState:
    distributor_id: str
    reseller_id: str
    name: str | None = None
    onboarded_at: datetime | None = None
    #: ISO days of the first and the last sale (quantity > 0) not reversed
    first_sale_day: str | None = None
    last_sale_day: str | None = None
    #: "YYYY-MM" -> sale lines (quantity > 0) that month, net of reversed ones
    lines: dict[str, int] = field(default_factory=dict)
    #: "YYYY-MM|CUR" -> revenue of that month in that currency
    revenue: dict[str, Decimal] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def first_sale(self) -> date | None:
        return None if self.first_sale_day is None else date.fromisoformat(self.first_sale_day)

    @property
    def last_sale(self) -> date | None:
        return None if self.last_sale_day is None else date.fromisoformat(self.last_sale_day)

    def new_in_quarter_of(self, today: date) -> bool:
        first = self.first_sale
        return (
            first is not None
            and first <= today
            and period_key(first, "quarter") == period_key(today, "quarter")
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "r": self.reseller_id,
            "name": self.name,
            "on": None if self.onboarded_at is None else self.onboarded_at.isoformat(),
            "sales": [self.first_sale_day, self.last_sale_day],
            "lines": self.lines,
            "rev": {key: str(amount) for key, amount in self.revenue.items()},
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResellerState:
        return cls(
            distributor_id=data["d"],
            reseller_id=data["r"],
            name=data["name"],
            onboarded_at=None if data["on"] is None else datetime.fromisoformat(data["on"]),
            first_sale_day=data["sales"][0],
            last_sale_day=data["sales"][1],
            lines=data["lines"],
            revenue={key: Decimal(amount) for key, amount in data["rev"].items()},
            applied=data["applied"],
        )


@quick_init
@dataclass(frozen=True, slots=True)
class DayCount:
    """Sale lines of one reseller on one day (net of reversed ones)."""

    count: int = 0
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> list[Any]:
        return [self.count, self.applied]

    @classmethod
    def from_json(cls, data: list[Any]) -> DayCount:
        return cls(data[0], data[1])


def reseller_key(distributor_id: str, reseller_id: str) -> str:
    return f"{distributor_id}|{reseller_id}"


def onboard(
    state: ResellerState, name: str, onboarded_at: datetime, position: Position | None
) -> ResellerState:
    applied = advance(state.applied, position)
    if applied is None:
        return state
    at = utc(onboarded_at)
    earliest = at if state.onboarded_at is None else min(at, state.onboarded_at)
    return replace(state, name=name, onboarded_at=earliest, applied=applied)


def record_lines(
    resellers: KeyValue[ResellerState],
    days: KeyValue[DayCount],
    distributor_id: str,
    reseller_id: str,
    lines: Iterable[ResoldLine],
    position: Position | None,
    reversal: bool = False,
) -> None:
    """Add the sale lines one input caused to a reseller (or, with `reversal`, take them
    off again), together under its one position."""
    key = reseller_key(distributor_id, reseller_id)
    state = resellers.get(key) or ResellerState(distributor_id, reseller_id)
    sign = -1 if reversal else 1
    per_day: dict[str, int] = {}
    revenue_by: dict[str, Decimal] = {}
    for line in lines:
        day = utc(line.sold_at).date().isoformat()
        if line.quantity > 0:
            per_day[day] = per_day.get(day, 0) + sign
        month_key = f"{day[:7]}|{line.currency}"  # the month, as period_key(..., "month")
        amount = sign * line.quantity * line.unit_price
        revenue_by[month_key] = revenue_by.get(month_key, _ZERO) + amount
    current = _count_days(days, key, per_day, position)
    applied = advance(state.applied, position)
    if applied is None:
        return
    months = dict(state.lines)
    for day, delta in per_day.items():
        months[day[:7]] = months.get(day[:7], 0) + delta
    revenue = dict(state.revenue)
    for month_key, amount in revenue_by.items():
        revenue[month_key] = revenue.get(month_key, _ZERO) + amount
    filled = [day for day, count in current.items() if count > 0]
    first = min([*filled, *([state.first_sale_day] if state.first_sale_day else [])], default=None)
    last = max([*filled, *([state.last_sale_day] if state.last_sale_day else [])], default=None)
    if first is not None and current.get(first, 1) <= 0:
        first = _edge_day(days, key, reverse=False)
    if last is not None and current.get(last, 1) <= 0:
        last = _edge_day(days, key, reverse=True)
    months = {month: n for month, n in months.items() if n}
    # built directly, not with dataclasses.replace: this runs once per accepted sale line
    resellers.put(
        key,
        ResellerState(
            distributor_id, reseller_id, state.name, state.onboarded_at, first, last, months,
            revenue, applied,
        ),
    )  # fmt: skip


def _count_days(
    days: KeyValue[DayCount], key: str, per_day: dict[str, int], position: Position | None
) -> dict[str, int]:
    """Apply the day deltas (each day value checks the position itself); returns each
    touched day's count as it now stands."""
    current: dict[str, int] = {}
    for day, delta in per_day.items():
        known = days.get(f"{key}|{day}") or DayCount()
        applied = advance(known.applied, position)
        if delta == 0 or applied is None:
            current[day] = known.count
            continue
        current[day] = known.count + delta
        days.put(f"{key}|{day}", DayCount(current[day], applied))
    return current


def _edge_day(days: KeyValue[DayCount], key: str, reverse: bool) -> str | None:
    """The first (or last) day with a sale line left: a scan of the reseller's days, done
    only when a reversal emptied that day."""
    for day_key, count in days.scan(f"{key}|", reverse=reverse):
        if count.count > 0:
            return day_key.rsplit("|", 1)[1]
    return None


def active_at(state: ResellerState, today: date, days: KeyValue[DayCount]) -> bool:
    """A sale on one of the `ACTIVE_DAYS` days ending with `today`."""
    last = state.last_sale
    if last is None:
        return False
    since = today - timedelta(days=ACTIVE_DAYS - 1)
    if last <= today:
        return last >= since
    # "now" before the last sale (an as-of read): look at the days themselves
    key = reseller_key(state.distributor_id, state.reseller_id)
    low = f"{key}|{since.isoformat()}"
    for day_key, count in days.scan(f"{key}|", start=low):
        if day_key.rsplit("|", 1)[1] > today.isoformat():
            return False
        if count.count > 0:
            return True
    return False


# --- views -------------------------------------------------------------------------------


def network_rows(
    states: Iterable[ResellerState], now: datetime | None, days: KeyValue[DayCount]
) -> list[dict[str, Any]]:
    """The snapshot's `resellers` rows, one per distributor, sorted by distributor_id.

    `not_onboarded`: resellers with sales but no `ResellerOnboarded` (worth a look).
    """
    today = None if now is None else utc(now).date()
    rows: dict[str, Counter[str]] = {}
    for state in states:
        counts = rows.setdefault(state.distributor_id, Counter())
        counts["onboarded"] += state.onboarded_at is not None
        counts["not_onboarded"] += state.onboarded_at is None and state.last_sale is not None
        if today is not None:
            counts["active_90d"] += active_at(state, today, days)
            counts["new_this_quarter"] += state.new_in_quarter_of(today)
    return [
        {
            "distributor_id": distributor,
            "onboarded": counts["onboarded"],
            "active_90d": counts["active_90d"],
            "new_this_quarter": counts["new_this_quarter"],
            "not_onboarded": counts["not_onboarded"],
        }
        for distributor, counts in sorted(rows.items())
    ]


def _in_period(month: str, period: str | None) -> bool:
    """Whether month "YYYY-MM" lies in `period`: a year, "YYYY-Qn", a month, or None (all)."""
    if period is None:
        return True
    first = date.fromisoformat(f"{month}-01")
    return period in (str(first.year), period_key(first, "quarter"), month)


def top_resellers(
    states: Iterable[ResellerState], n: int, period: str | None = None
) -> list[dict[str, Any]]:
    """The n resellers with the highest revenue in `period` (None: all time), per currency.

    Rows sorted by (currency, revenue descending, distributor_id, reseller_id); `lines`
    counts the period's sale lines (quantity > 0, net of reversed ones).
    """
    if n <= 0:
        return []
    ranked: dict[str, list[dict[str, Any]]] = {}
    for state in states:
        totals: dict[str, Decimal] = {}
        for key, amount in state.revenue.items():
            month, currency = key.split("|")
            if _in_period(month, period):
                totals[currency] = totals.get(currency, Decimal(0)) + amount
        lines = sum(count for month, count in state.lines.items() if _in_period(month, period))
        for currency, revenue in totals.items():
            ranked.setdefault(currency, []).append(
                {
                    "distributor_id": state.distributor_id,
                    "reseller_id": state.reseller_id,
                    "name": state.name,
                    "currency": currency,
                    "revenue": revenue,
                    "lines": lines,
                    "first_sale": _day(state.first_sale),
                    "last_sale": _day(state.last_sale),
                    "onboarded_at": _time(state.onboarded_at),
                }
            )
    rows: list[dict[str, Any]] = []
    for currency in sorted(ranked):
        best = sorted(
            ranked[currency],
            key=lambda r: (-r["revenue"], r["distributor_id"], r["reseller_id"]),
        )[:n]
        rows.extend({**row, "revenue": str(row["revenue"])} for row in best)
    return rows


def growth(states: Iterable[ResellerState]) -> list[dict[str, Any]]:
    """Per month: resellers onboarded, resellers with their first sale, and running totals
    of both (the network's size by onboarding and by activity), sorted by month."""
    onboarded: Counter[str] = Counter()
    first_sales: Counter[str] = Counter()
    for state in states:
        if state.onboarded_at is not None:
            onboarded[period_key(state.onboarded_at.date(), "month")] += 1
        if state.first_sale is not None:
            first_sales[period_key(state.first_sale, "month")] += 1
    rows = []
    total_onboarded = total_selling = 0
    for month in sorted(set(onboarded) | set(first_sales)):
        total_onboarded += onboarded[month]
        total_selling += first_sales[month]
        rows.append(
            {
                "month": month,
                "onboarded": onboarded[month],
                "first_sales": first_sales[month],
                "onboarded_total": total_onboarded,
                "selling_total": total_selling,
            }
        )
    return rows


def first_sales(states: Iterable[ResellerState]) -> dict[str, date]:
    """Each distributor's first sale day over all its resellers."""
    found: dict[str, date] = {}
    for state in states:
        first = state.first_sale
        if first is not None:
            known = found.get(state.distributor_id)
            found[state.distributor_id] = first if known is None else min(known, first)
    return found


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)
