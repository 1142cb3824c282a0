"""What-if rebate terms: a program's accruals under today's terms and under a proposal.

Accruals are read from the rebate buckets (projections/rebate_accruals.py), which do not
depend on any program's terms, so the proposal is priced over the same history as today's
terms by the same arithmetic, without replaying it again and without publishing anything.
The proposal is evaluated under the name of the program it would replace, so the periods
that program has closed count as closed for both (a commitment shortfall applies alike).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.currency import round_money
from domain.rebates import ProgramTerms
from projections.keyvalue import KeyValue
from projections.rebate_accruals import Accrual, ClosedPeriod, RebateSources, accruals


@dataclass(frozen=True, slots=True)
class Simulated:
    """One distributor and period: the accrual under today's terms and under the proposal
    (None where that program has no qualifying line in the period, or does not exist)."""

    distributor_id: str
    period: str
    today: Accrual | None
    proposed: Accrual | None
    #: the proposal's (today's program is in it too)
    currency: str

    @property
    def today_rebate(self) -> Decimal:
        return self.nothing if self.today is None else self.today.result.rebate

    @property
    def proposed_rebate(self) -> Decimal:
        return self.nothing if self.proposed is None else self.proposed.result.rebate

    @property
    def nothing(self) -> Decimal:
        """No rebate, in the currency's places."""
        return round_money(Decimal(0), self.currency)

    @property
    def difference(self) -> Decimal:
        """Proposed − today: what the proposal would cost more (negative: save)."""
        return self.proposed_rebate - self.today_rebate


def in_period(period: str, wanted: str | None) -> bool:
    """Whether a program period lies in `wanted`: itself, or a year holding the quarter."""
    return wanted is None or period == wanted or period.startswith(f"{wanted}-")


def simulate(
    today: ProgramTerms | None,
    proposed: ProgramTerms,
    sources: RebateSources,
    distributors: Iterable[str],
    closed: KeyValue[ClosedPeriod],
    period: str | None = None,
) -> list[Simulated]:
    """Per distributor and period (in `period` when given), today's accrual and the
    proposal's, sorted by distributor then period. `today` is the program the proposal
    would replace (None: a new program, nothing accrues today)."""
    if today is not None:
        proposed = dataclasses.replace(proposed, program_id=today.program_id)
    names = sorted(distributors)
    found: dict[tuple[str, str], dict[str, Accrual]] = {}
    for side, terms in (("today", today), ("proposed", proposed)):
        if terms is None:
            continue
        for accrual in accruals([terms], sources, names, closed):
            if in_period(accrual.period, period):
                found.setdefault((accrual.distributor_id, accrual.period), {})[side] = accrual
    return [
        Simulated(
            distributor, key_period, sides.get("today"), sides.get("proposed"), proposed.currency
        )
        for (distributor, key_period), sides in sorted(found.items())
    ]


def simulated_row(row: Simulated) -> dict[str, Any]:
    """One row as `simulate --json` prints it: amounts as decimal strings."""

    def side(accrual: Accrual | None) -> dict[str, Any] | None:
        if accrual is None:
            return None
        result = accrual.result
        return {
            "currency": accrual.currency,
            "volume": str(result.volume),
            "tier_rate": str(result.tier_rate),
            "rebate": str(result.rebate),
            "status": result.status,
            "bound_by": list(accrual.bound_by),
        }

    return {
        "distributor_id": row.distributor_id,
        "period": row.period,
        "today": side(row.today),
        "proposed": side(row.proposed),
        "difference": str(row.difference),
    }


def simulated_totals(rows: Sequence[Simulated], currency: str) -> dict[str, str]:
    """The rows' sums as `simulate` prints them, written with the currency's places (a
    proposal with no rows totals "0.00" in USD, "0" in JPY)."""
    nothing = round_money(Decimal(0), currency)
    return {
        "today": str(sum((r.today_rebate for r in rows), nothing)),
        "proposed": str(sum((r.proposed_rebate for r in rows), nothing)),
        "difference": str(sum((r.difference for r in rows), nothing)),
    }
