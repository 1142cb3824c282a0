"""What-if prices: per distributor, the figures a price list moves, from one replay's stores,
and today's beside a proposal's (`channelflow simulate --prices`).

The figures: sale lines flagged by the price rules (violations by severity, and lines with
no price in effect), rebate accrued, and price protection owed on cost drops. Rebates are
figured from the lines' own prices (domain/rebates.py), so a price list leaves them as they
are: they are shown to make that plain, beside the figures it does move.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

from domain.currency import round_money
from domain.rebate_programs import period_bounds
from projections.price_rules import flag_label
from projections.rebate_accruals import accruals
from projections.rebate_simulation import in_period
from projections.snapshot import distributors, protection_claims
from projections.stores import ChannelStores

#: the flag labels, in the order they are shown
LABELS: Final = ("minor", "major", "critical", "unpriced")


@dataclass(frozen=True, slots=True)
class PricingFigures:
    """One distributor's figures in one replay; amounts per currency."""

    flags: dict[str, int] = field(default_factory=dict)
    rebate: dict[str, Decimal] = field(default_factory=dict)
    protection: dict[str, Decimal] = field(default_factory=dict)

    @property
    def violations(self) -> int:
        return sum(n for label, n in self.flags.items() if label != "unpriced")

    def __bool__(self) -> bool:
        return bool(self.flags or self.rebate or self.protection)


def pricing_figures(
    stores: ChannelStores, now: datetime | None, period: str | None = None
) -> dict[str, PricingFigures]:
    """Each distributor's figures (those with none left out); with `period`, of the sale
    lines sold, the rebate periods and the cost drops in it."""
    within = _within(period)
    claims: dict[str, dict[str, Decimal]] = {}
    for claim in protection_claims(stores, now):
        if within(claim.effective_from):
            _add(claims, claim.distributor_id, claim.currency, claim.amount)
    rebates: dict[str, dict[str, Decimal]] = {}
    names = distributors(stores)
    programs = stores.programs.values()
    for accrual in accruals(programs, stores.rebate_sources(), names, stores.closed_periods):
        if in_period(accrual.period, period):
            _add(rebates, accrual.distributor_id, accrual.currency, accrual.result.rebate)
    found = {}
    for name in names:
        flagged = Counter(
            flag_label(line)
            for store in (stores.violations, stores.unpriced)
            for _, line in store.scan(f"{name}|")
            if within(line.sold_at)
        )
        figures = PricingFigures(
            dict(flagged), dict(rebates.get(name, {})), dict(claims.get(name, {}))
        )
        if figures:
            found[name] = figures
    return found


def _add(totals: dict[str, dict[str, Decimal]], name: str, currency: str, amount: Decimal) -> None:
    held = totals.setdefault(name, {})
    held[currency] = held.get(currency, round_money(Decimal(0), currency)) + amount


def _within(period: str | None) -> Callable[[datetime], bool]:
    if period is None:
        return lambda _: True
    start, end = period_bounds(period)
    return lambda at: start <= at < end


@dataclass(frozen=True, slots=True)
class PriceComparison:
    """One distributor: its figures under today's prices and under the proposal."""

    distributor_id: str
    today: PricingFigures
    proposed: PricingFigures

    def flags(self) -> dict[str, tuple[int, int]]:
        """label -> (today, proposed), every label."""
        return {
            label: (self.today.flags.get(label, 0), self.proposed.flags.get(label, 0))
            for label in LABELS
        }

    def amounts(self, kind: Literal["rebate", "protection"]) -> dict[str, tuple[Decimal, Decimal]]:
        """currency -> (today, proposed) of `rebate` or `protection`."""
        today: Mapping[str, Decimal] = getattr(self.today, kind)
        proposed: Mapping[str, Decimal] = getattr(self.proposed, kind)
        nothing = {c: round_money(Decimal(0), c) for c in {*today, *proposed}}
        return {
            c: (today.get(c, nothing[c]), proposed.get(c, nothing[c]))
            for c in sorted({*today, *proposed})
        }


def compare(
    today: Mapping[str, PricingFigures], proposed: Mapping[str, PricingFigures]
) -> list[PriceComparison]:
    """Every distributor with figures in either replay, sorted."""
    return [
        PriceComparison(
            name, today.get(name, PricingFigures()), proposed.get(name, PricingFigures())
        )
        for name in sorted({*today, *proposed})
    ]


def merged(parts: Iterable[Mapping[str, PricingFigures]]) -> dict[str, PricingFigures]:
    """The figures of the jobs of one replay (each holds its own distributors)."""
    return {name: figures for part in parts for name, figures in part.items()}


def comparison_row(row: PriceComparison) -> dict[str, Any]:
    """One row as `simulate --prices --json` prints it: amounts as decimal strings."""

    def sides(today: object, proposed: Any) -> dict[str, Any]:
        if isinstance(today, Decimal):
            return {
                "today": str(today),
                "proposed": str(proposed),
                "difference": str(proposed - today),
            }
        return {"today": today, "proposed": proposed, "difference": proposed - today}

    flags = row.flags()
    return {
        "distributor_id": row.distributor_id,
        "violations": sides(row.today.violations, row.proposed.violations),
        "flags": {label: sides(*pair) for label, pair in flags.items()},
        "rebate": {c: sides(*pair) for c, pair in row.amounts("rebate").items()},
        "price_protection": {c: sides(*pair) for c, pair in row.amounts("protection").items()},
    }
