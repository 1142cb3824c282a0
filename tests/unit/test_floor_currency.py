"""A floor in another currency than the sale's (docs/DESIGN.md, "Pricing"): converted at
the sale day's rate, the rate's event in the violation's lineage; without a rate the line
is unpriced, never judged on a guess. X is listed at a floor of 20.00 USD."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from projections.channel import apply_event
from projections.outcome import Outcome
from projections.positions import Position
from projections.price_rules import ViolationDetected
from projections.stores import ChannelStores
from tests.unit.agreement_events import rate
from tests.unit.test_aging_wiring import priced_stores, sold

#: EUR>USD 1.25 from July 1: a USD floor of 20.00 is 16.00 EUR (the inverse, 0.8)
EUR_USD = rate("EUR", "USD", "1.25", date(2026, 7, 1))


def sell(stores: ChannelStores, n: int, price: str) -> Outcome:
    event = sold(n, 1, date(2026, 7, 10), unit_price=Decimal(price), currency="EUR")
    return apply_event(stores, event, Position("sales:0", n))


def violation(outcome: Outcome) -> ViolationDetected | None:
    found = [fact for fact in outcome.facts if isinstance(fact, ViolationDetected)]
    return found[0] if found else None


def test_the_floor_converts_at_the_sale_days_rate() -> None:
    stores = priced_stores()
    apply_event(stores, EUR_USD, None)
    assert violation(sell(stores, 1, "17.00")) is None  # above 16.00 EUR
    found = violation(sell(stores, 2, "15.00"))  # 6.25 % under 16.00 EUR: major
    assert found is not None
    assert (found.floor_price, found.currency, str(found.severity)) == (
        Decimal("16.00"), "EUR", "major",
    )  # fmt: skip
    assert found.rate_event_id == EUR_USD.event_id


def test_without_a_rate_the_line_is_unpriced() -> None:
    stores = priced_stores()
    assert violation(sell(stores, 1, "1.00")) is None
    assert [row.transaction_id for row in stores.unpriced.values()] == ["T1"]
