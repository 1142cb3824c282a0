"""Channel-inventory arithmetic: pure functions over integers and Decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from domain.currency import round_money

WEEKS_OF_SUPPLY_PLACES = Decimal("0.1")


def weeks_of_supply(expected_on_hand: int, sold_last_4_weeks: int) -> Decimal | None:
    """Stock ÷ average weekly sell-through of the last 4 weeks; None when that rate is ≤ 0."""
    if sold_last_4_weeks <= 0:
        return None
    weekly = Decimal(sold_last_4_weeks) / 4
    return (Decimal(expected_on_hand) / weekly).quantize(WEEKS_OF_SUPPLY_PLACES, ROUND_HALF_UP)


def stock_value(
    expected_on_hand: int, unit_cost: Decimal | None, currency: str | None
) -> Decimal | None:
    """Units × the unit cost in `currency`, rounded to its minor unit; None without a cost
    (a cost comes with its currency)."""
    if unit_cost is None or currency is None:
        return None
    return round_money(unit_cost * expected_on_hand, currency)
