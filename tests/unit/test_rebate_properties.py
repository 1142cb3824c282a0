"""Rebate math properties: incremental never above retroactive, monotonic within a tier,
the digest and the closed amount independent of event order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain.rebates import (
    DIGEST_BYTES,
    Measure,
    QualifyingLine,
    accumulate,
    compute_rebate,
    events_digest,
    hash_text,
)
from schemas.events import Tier
from tests.unit.rebate_cases import BOUNDED, EXAMPLE_TIERS, revenue_inputs, terms, units_inputs

# --- properties -------------------------------------------------------------------------------

MONEY = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)
RATES = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False)


@st.composite
def ascending_tiers(draw: st.DrawFn) -> list[tuple[Decimal, Decimal]]:
    """1–5 tiers, thresholds strictly ascending from ≥ 0, rates non-decreasing."""
    thresholds = sorted(draw(st.sets(MONEY, min_size=1, max_size=5)))
    rates = sorted(draw(st.lists(RATES, min_size=len(thresholds), max_size=len(thresholds))))
    return list(zip(thresholds, rates, strict=True))


def terms_with(pairs: list[tuple[Decimal, Decimal]], mode: str, measure: str = "revenue") -> Any:
    return terms(
        tiers=[Tier(threshold=t, rate=r) for t, r in pairs], tier_mode=mode, measure=measure
    )


@given(ascending_tiers(), MONEY)
@BOUNDED
def test_incremental_never_exceeds_retroactive(
    pairs: list[tuple[Decimal, Decimal]], revenue: Decimal
) -> None:
    inputs = revenue_inputs(revenue)
    retro = compute_rebate(terms_with(pairs, "retroactive"), inputs, closed=True)
    marginal = compute_rebate(terms_with(pairs, "incremental"), inputs, closed=True)
    assert Decimal(0) <= marginal.rebate <= retro.rebate


@given(
    ascending_tiers(),
    st.integers(min_value=0, max_value=100_000),
    st.decimals(min_value="0.01", max_value=1000, places=2),
)
@BOUNDED
def test_incremental_never_exceeds_retroactive_by_units(
    pairs: list[tuple[Decimal, Decimal]], units: int, price: Decimal
) -> None:
    inputs = units_inputs(units, units * price)
    retro = compute_rebate(terms_with(pairs, "retroactive", "units"), inputs, closed=True)
    marginal = compute_rebate(terms_with(pairs, "incremental", "units"), inputs, closed=True)
    assert Decimal(0) <= marginal.rebate <= retro.rebate


@given(ascending_tiers(), MONEY, MONEY)
@BOUNDED
def test_retroactive_is_non_decreasing_within_a_tier(
    pairs: list[tuple[Decimal, Decimal]], a: Decimal, b: Decimal
) -> None:
    low, high = sorted((a, b))
    retro = terms_with(pairs, "retroactive")
    first = compute_rebate(retro, revenue_inputs(low), closed=False)
    second = compute_rebate(retro, revenue_inputs(high), closed=False)
    if first.tier_index == second.tier_index:
        assert first.rebate <= second.rebate


@given(st.lists(st.uuids(), max_size=20), st.randoms(use_true_random=False))
@BOUNDED
def test_events_digest_does_not_depend_on_order(ids: list[UUID], rnd: Any) -> None:
    shuffled = [str(i) for i in ids]
    rnd.shuffle(shuffled)
    assert events_digest(ids) == events_digest(shuffled)


LINES = st.lists(
    st.builds(
        QualifyingLine,
        event_id=st.uuids().map(str),
        quantity=st.integers(min_value=-50, max_value=500),
        unit_price=st.decimals(min_value=0, max_value=5000, places=2),
    ),
    max_size=25,
)


@given(LINES, st.permutations(range(25)), st.sampled_from(["retroactive", "incremental"]))
@BOUNDED
def test_closed_amount_does_not_depend_on_event_order(
    lines: list[QualifyingLine], order: list[int], mode: str
) -> None:
    permuted = [lines[i] for i in order if i < len(lines)]
    cases: list[tuple[Measure, list[tuple[Decimal, Decimal]]]] = [
        ("revenue", [(Decimal(t), Decimal(r)) for t, r in EXAMPLE_TIERS]),
        ("units", [(Decimal(0), Decimal(0)), (Decimal(500), Decimal("0.03"))]),
    ]
    for measure, pairs in cases:
        program_terms = terms_with(pairs, mode, measure)
        in_order, shuffled = accumulate(measure, lines), accumulate(measure, permuted)
        assert in_order == shuffled
        assert compute_rebate(program_terms, in_order, closed=True) == compute_rebate(
            program_terms, shuffled, closed=True
        )


@given(
    st.integers(min_value=0, max_value=2 ** (8 * DIGEST_BYTES) - 1)
    | st.integers(min_value=0, max_value=2**70)
    | st.sampled_from([0, 1, 15, 16, 2 ** (8 * DIGEST_BYTES) - 1])
)
def test_a_hash_sum_s_text_is_its_hex(hash_sum: int) -> None:
    assert hash_text(hash_sum) == format(hash_sum, "x")
