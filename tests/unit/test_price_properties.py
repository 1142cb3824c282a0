"""Price history, properties: nothing in the future, arrival order, round trips, severity and
protection amounts exact."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.price_book import PriceHistory, apply_price, cost_in_effect, price_in_effect
from projections.price_protection_claims import costs_across, price_protection_amount
from projections.price_rules import Severity, violation_severity
from tests.unit.agreement_events import signed
from tests.unit.price_events import T0, price

# --- properties ------------------------------------------------------------------------------

BOUNDED = settings(max_examples=150)
SCOPES = st.sampled_from([(None, None), ("D1", None), ("D2", None), ("D1", "R1"), ("D2", "R1")])
LOOKUPS = st.sampled_from([(None, None), ("D1", None), ("D1", "R1"), ("D1", "R2"), ("D2", "R1")])
HOURS = st.integers(min_value=0, max_value=30 * 24)
MONEY = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)


@st.composite
def price_specs(draw: st.DrawFn, unique_times: bool) -> list[tuple[int, int, tuple[Any, Any]]]:
    """[(event number, effective hour, scope)], effective hours distinct when unique_times."""
    hours = draw(
        st.lists(HOURS, min_size=1, max_size=12, unique=unique_times),
    )
    return [(n + 1, hour, draw(SCOPES)) for n, hour in enumerate(hours)]


def build(specs: list[tuple[int, int, tuple[Any, Any]]], seen: datetime | None) -> PriceHistory:
    history = PriceHistory("SKU-1")
    for n, hour, (dist, res) in specs:
        event = price(
            n,
            cost=f"{n}.00",
            floor=f"{n + 1}.00",
            at=T0 + timedelta(hours=hour),
            distributor_id=dist,
            reseller_id=res,
        )
        history, _ = apply_price(history, event, None, seen)
    return history


@BOUNDED
@given(price_specs(unique_times=False), HOURS, LOOKUPS, st.one_of(st.none(), HOURS))
def test_price_in_effect_is_never_in_the_future(
    specs: list[tuple[int, int, tuple[Any, Any]]],
    hour: int,
    lookup: tuple[Any, Any],
    seen_hour: int | None,
) -> None:
    seen = None if seen_hour is None else T0 + timedelta(hours=seen_hour)
    history = build(specs, seen)
    at = T0 + timedelta(hours=hour)
    entry = price_in_effect(history, at, *lookup)
    if entry is not None:
        assert entry.effective_from <= at
        assert entry.distributor_id in (None, lookup[0])
        assert entry.reseller_id in (None, lookup[1])
    keys = [e.effective_from for e in history.entries]
    assert keys == sorted(keys)


@BOUNDED
@given(price_specs(unique_times=True), st.randoms(use_true_random=False), HOURS, LOOKUPS)
def test_arrival_order_of_distinct_effective_times_does_not_matter(
    specs: list[tuple[int, int, tuple[Any, Any]]],
    rnd: Any,
    hour: int,
    lookup: tuple[Any, Any],
) -> None:
    shuffled = list(specs)
    rnd.shuffle(shuffled)
    in_order, reordered = build(specs, None), build(shuffled, None)
    at = T0 + timedelta(hours=hour)
    assert price_in_effect(in_order, at, *lookup) == price_in_effect(reordered, at, *lookup)
    assert in_order.entries == reordered.entries


@BOUNDED
@given(price_specs(unique_times=False), st.one_of(st.none(), HOURS))
def test_round_trip_of_any_history(
    specs: list[tuple[int, int, tuple[Any, Any]]], seen_hour: int | None
) -> None:
    seen = None if seen_hour is None else T0 + timedelta(hours=seen_hour)
    history = build(specs, seen)
    assert PriceHistory.from_json(orjson.loads(orjson.dumps(history.to_json()))) == history


@BOUNDED
@given(MONEY, MONEY, st.integers(min_value=1, max_value=5))
def test_severity_matches_the_exact_shortfall_and_is_monotonic(
    unit_price: Decimal, floor: Decimal, quantity: int
) -> None:
    severity = violation_severity(unit_price, floor, quantity)
    if unit_price >= floor:
        assert severity is None
        return
    shortfall = (floor - unit_price) * 100 / floor  # percent, 28 significant digits
    if severity is Severity.MINOR:
        assert shortfall < 5
    elif severity is Severity.MAJOR:
        assert 5 <= shortfall <= 20
    else:
        assert shortfall > 20
    order = [None, Severity.MINOR, Severity.MAJOR, Severity.CRITICAL]
    lower = violation_severity(unit_price - Decimal("0.01"), floor, quantity)
    assert order.index(lower) >= order.index(severity)


@BOUNDED
@given(MONEY, MONEY, st.integers(min_value=-5, max_value=10_000))
def test_price_protection_amount_is_never_negative_and_exact(
    old: Decimal, new: Decimal, units: int
) -> None:
    amount = price_protection_amount(old, new, units, "USD")
    assert amount >= 0 and amount.as_tuple().exponent == -2
    if units > 0 and new < old:
        assert amount == (old - new) * units  # cents × integer: no rounding needed


LIST_SCOPES = st.sampled_from(
    [(None, None), ("D1", None), ("D1", "R1"), (None, "GOLD"), (None, "SILVER")]
)
BOUND = st.sampled_from([(), ("GOLD",), ("SILVER", "GOLD")])


@BOUNDED
@given(
    st.lists(st.tuples(LIST_SCOPES, MONEY), min_size=1, max_size=10),
    BOUND,
    st.sampled_from(["0", "0.05", "0.125"]),
)
def test_a_drop_owed_is_the_fall_of_the_distributors_own_cost(
    specs: list[tuple[tuple[str | None, str | None], Decimal]],
    lists: tuple[str, ...],
    discount: str,
) -> None:
    """Whatever the prices (standard, named lists, the distributor's, a reseller's, each at
    its own hour) and whatever lists D1's agreement binds, a drop owed to D1 is exactly
    what its cost (`cost_in_effect`, the stock value's rule) did at the drop's instant; a
    drop not owed to D1 left its cost as it was."""
    terms = signed(
        price_lists=list(lists),
        product_groups=[{"group_id": "G-NET", "skus": ["SKU-1"]}],
        discounts=[{"group_id": "G-NET", "discount": discount}],
    ).terms()
    history = PriceHistory("SKU-1")
    for n, ((first, second), cost) in enumerate(specs, start=1):
        named = first is None and second is not None
        event = price(
            n, cost=str(cost), floor="1000.00", at=T0 + timedelta(hours=n),
            distributor_id=first, reseller_id=None if named else second,
            price_list=second if named else None,
        )  # fmt: skip
        history, _ = apply_price(history, event, None, None)
    for drop in history.drops:
        costs = costs_across(drop, history, "D1", terms)
        before = cost_in_effect(
            history, drop.effective_from - timedelta(microseconds=1), "D1", terms
        )
        after = cost_in_effect(history, drop.effective_from, "D1", terms)
        if costs is None:  # not D1's price: no price of its own moved at that hour
            assert (before and before[0]) == (after and after[0])
            continue
        assert before is not None and after is not None
        assert costs == (before[0], after[0])
        assert costs[1] <= costs[0]
