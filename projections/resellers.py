"""The reseller network per distributor: onboarding, activity, revenue, growth.

One state per (distributor, reseller), fed by `ResellerOnboarded` and by accepted sale
lines (and the reversals of replaced report lines). It keeps, per business day, how many
sale lines (quantity > 0) the reseller had, net of reversed ones, and the revenue
(Σ quantity × unit_price, returns negative) per month and currency; so "active in the
last 90 days", "first sale this quarter", growth and rankings are answered for any "now".

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

from domain.timeutil import iso_z, utc
from projections.periods import period_key
from projections.positions import Position, advance

ACTIVE_DAYS = 90


class ResoldLine(NamedTuple):
    """What the reseller view needs of one sale line."""

    sold_at: datetime
    quantity: int
    unit_price: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class ResellerState:
    distributor_id: str
    reseller_id: str
    name: str | None = None
    onboarded_at: datetime | None = None
    #: ISO day -> sale lines (quantity > 0) that day, net of reversed ones; no zero entries
    sale_days: dict[str, int] = field(default_factory=dict)
    #: "YYYY-MM|CUR" -> revenue of that month in that currency
    revenue: dict[str, Decimal] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def first_sale(self) -> date | None:
        return date.fromisoformat(min(self.sale_days)) if self.sale_days else None

    @property
    def last_sale(self) -> date | None:
        return date.fromisoformat(max(self.sale_days)) if self.sale_days else None

    def active(self, today: date) -> bool:
        """A sale on one of the `ACTIVE_DAYS` days ending with `today`."""
        since = (today - timedelta(days=ACTIVE_DAYS - 1)).isoformat()
        until = today.isoformat()
        return any(since <= day <= until for day in self.sale_days)

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
            "days": self.sale_days,
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
            sale_days=data["days"],
            revenue={key: Decimal(amount) for key, amount in data["rev"].items()},
            applied=data["applied"],
        )


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
    state: ResellerState,
    lines: Iterable[ResoldLine],
    position: Position | None,
    reversal: bool = False,
) -> ResellerState:
    """Add the sale lines one input caused (or, with `reversal`, take them off again),
    together under its one position."""
    applied = advance(state.applied, position)
    if applied is None:
        return state
    sign = -1 if reversal else 1
    days = dict(state.sale_days)
    revenue = dict(state.revenue)
    for line in lines:
        day = utc(line.sold_at).date().isoformat()
        if line.quantity > 0:
            lines_that_day = days.get(day, 0) + sign
            if lines_that_day > 0:
                days[day] = lines_that_day
            else:
                days.pop(day, None)
        key = f"{day[:7]}|{line.currency}"  # the month, as period_key(..., "month") names it
        revenue[key] = revenue.get(key, Decimal(0)) + sign * line.quantity * line.unit_price
    # built directly, not with dataclasses.replace: this runs once per accepted sale line
    return ResellerState(
        state.distributor_id, state.reseller_id, state.name, state.onboarded_at, days, revenue,
        applied,
    )  # fmt: skip


# --- views -------------------------------------------------------------------------------


def network_rows(states: Iterable[ResellerState], now: datetime | None) -> list[dict[str, Any]]:
    """The snapshot's `resellers` rows, one per distributor, sorted by distributor_id.

    `not_onboarded`: resellers with sales but no `ResellerOnboarded` (worth a look).
    """
    today = None if now is None else utc(now).date()
    rows: dict[str, Counter[str]] = {}
    for state in states:
        counts = rows.setdefault(state.distributor_id, Counter())
        counts["onboarded"] += state.onboarded_at is not None
        counts["not_onboarded"] += state.onboarded_at is None and bool(state.sale_days)
        if today is not None:
            counts["active_90d"] += state.active(today)
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
        lines = sum(count for day, count in state.sale_days.items() if _in_period(day[:7], period))
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
