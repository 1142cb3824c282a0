"""Version 1 wire contract of a distributor's scorecard targets (docs/SCORECARD.md).

Shape and field-level validity only; the scorecard itself is `projections.scorecard`.
On the `targets` raw topic, keyed by distributor_id (the cards' partition).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints, model_validator

from schemas.envelope import Envelope
from schemas.types import Count, Currency, Id, Price, UtcDatetime

#: A scorecard period: a month ("2026-07") or a quarter ("2026-Q3").
#: a month ("2026-07") or a quarter ("2026-Q3")
PERIOD_PATTERN: Final = r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"
ScorecardPeriod = Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]
#: Weeks of supply, to one decimal place.
Weeks = Annotated[Decimal, Field(ge=0, le=1000, decimal_places=1)]


class DistributorTargetsSet(Envelope):
    """What a distributor is expected to reach in one period. Each target given replaces
    the one set before for that period (the latest `set_at`, then `event_id`, stands); a
    target never given leaves its part out of the score."""

    event_type: Literal["DistributorTargetsSet"] = "DistributorTargetsSet"
    distributor_id: Id
    period: ScorecardPeriod
    #: sell-through revenue expected, in `currency`
    sell_through_revenue: Price | None = None
    currency: Currency | None = None
    #: active resellers (master ids, a sale in the 90 days to the period's end) expected
    reseller_population: Count | None = None
    #: the healthy band of weeks of supply
    weeks_of_supply_min: Weeks | None = None
    weeks_of_supply_max: Weeks | None = None
    set_by: Id
    set_at: UtcDatetime

    @model_validator(mode="after")
    def _consistent(self) -> DistributorTargetsSet:
        if (self.sell_through_revenue is None) != (self.currency is None):
            raise ValueError("a revenue target needs its currency, and a currency its target")
        low, high = self.weeks_of_supply_min, self.weeks_of_supply_max
        if (low is None) != (high is None):
            raise ValueError("the weeks-of-supply band needs both weeks_of_supply_min and _max")
        if low is not None and high is not None and low > high:
            raise ValueError("weeks_of_supply_min is above weeks_of_supply_max")
        targets = (self.sell_through_revenue, self.reseller_population, low)
        if all(target is None for target in targets):
            raise ValueError("targets set at least one target")
        return self

    @property
    def business_time(self) -> datetime:
        return self.set_at


__all__ = ["DistributorTargetsSet", "ScorecardPeriod"]
