"""The distributor cost under an agreement's group discounts (docs/AGREEMENTS.md,
"Pricing"), hand-computed: the list cost less the discount of the version governing the
day, to the cent; a price of the distributor's own is its cost as it is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain.agreements import discounted_cost
from projections.channel import apply_event
from projections.costs import unit_cost
from projections.stores import ChannelStores
from tests.unit.agreement_events import amended, signed
from tests.unit.price_events import price
from tests.unit.test_aging_wiring import priced_stores

D01: dict[str, Any] = {"distributor_id": "D01"}


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def agreed() -> ChannelStores:
    """X listed at 12.50 from January 1; AG-1 gives G-NET (X, Y) 5 %, M1 7 % from June 1."""
    stores = priced_stores()
    apply_event(stores, signed(**D01), None)
    seven: dict[str, Any] = {"discounts": [{"group_id": "G-NET", "discount": "0.07"}]}
    apply_event(stores, amended("M1", date(2026, 6, 1), **seven).model_copy(update=D01), None)
    return stores


def test_discounted_cost_rounds_half_up_to_the_cent() -> None:
    assert discounted_cost(Decimal("12.50"), Decimal("0.05"), "USD") == Decimal("11.88")  # 11.875
    assert discounted_cost(Decimal("12.50"), Decimal("0.07"), "USD") == Decimal("11.63")  # 11.625
    assert discounted_cost(Decimal("12.50"), None, "USD") == Decimal("12.50")
    assert discounted_cost(Decimal("12.50"), Decimal("0"), "USD") == Decimal("12.50")


def test_the_version_governing_the_day_gives_the_discount() -> None:
    stores = agreed()
    assert unit_cost(stores, "X", "D01", noon(date(2026, 5, 31))) == (Decimal("11.88"), "USD")
    assert unit_cost(stores, "X", "D01", noon(date(2026, 6, 1))) == (Decimal("11.63"), "USD")


def test_no_agreement_or_no_discount_for_the_group_keeps_the_list_cost() -> None:
    stores = agreed()
    assert unit_cost(stores, "X", "D02", noon(date(2026, 5, 1))) == (Decimal("12.50"), "USD")
    assert unit_cost(priced_stores(), "X", "D01", noon(date(2026, 5, 1))) == (
        Decimal("12.50"),
        "USD",
    )
    # AG-1 runs to December 31: on the next day no version governs
    assert unit_cost(stores, "X", "D01", noon(date(2027, 1, 1))) == (Decimal("12.50"), "USD")


def test_a_price_of_the_distributors_own_is_not_discounted() -> None:
    stores = agreed()
    own = price(9, "11.00", "20.00", noon(date(2026, 4, 1)), distributor_id="D01", sku="X")
    apply_event(stores, own, None)
    assert unit_cost(stores, "X", "D01", noon(date(2026, 5, 1))) == (Decimal("11.00"), "USD")
    assert unit_cost(stores, "X", "D01", noon(date(2026, 3, 1))) == (Decimal("11.88"), "USD")


def test_a_version_recorded_after_known_at_does_not_discount() -> None:
    """The scorecard costs a line with the agreements recorded by then: M1 (recorded on
    June 1) is not known on May 20, so June 2 is still costed at AG-1's 5 %."""
    stores = agreed()
    june_2, may_20 = noon(date(2026, 6, 2)), noon(date(2026, 5, 20))
    assert unit_cost(stores, "X", "D01", june_2, may_20) == (Decimal("11.88"), "USD")
    assert unit_cost(stores, "X", "D01", june_2, june_2) == (Decimal("11.63"), "USD")
