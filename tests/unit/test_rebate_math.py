"""Rebate math: the worked example of docs/DESIGN.md ("Business rules → Rebates"), growth,
commitment, units, periods, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rebate_programs import (
    InvalidProgram,
    period_bounds,
    period_kind,
    period_of,
    terms_of,
    validate_program,
)
from domain.rebates import (
    Measure,
    ProgramTerms,
    QualifyingLine,
    RebateInputs,
    RebateTally,
    TierTerm,
    accumulate,
    adjustment,
    compute_rebate,
    events_digest,
    tally_of,
    tier_reached,
)
from schemas.events import RebateProgramDefined, Tier

BOUNDED = settings(max_examples=150, deadline=None)
T0 = datetime(2026, 7, 1, tzinfo=UTC)
EXAMPLE_TIERS = (("0", "0"), ("100000", "0.02"), ("250000", "0.035"))


def program(**changes: Any) -> RebateProgramDefined:
    fields: dict[str, Any] = {
        "event_id": UUID(int=1, version=4),
        "occurred_at": T0,
        "source": "erp",
        "program_id": "VPA-1",
        "distributor_ids": "all",
        "basis": "sell_through",
        "measure": "revenue",
        "period": "quarter",
        "tiers": [Tier(threshold=Decimal(t), rate=Decimal(r)) for t, r in EXAMPLE_TIERS],
        "tier_mode": "retroactive",
        "currency": "USD",
    }
    fields.update(changes)
    return RebateProgramDefined(**fields)


def terms(**changes: Any) -> ProgramTerms:
    return terms_of(program(**changes))


def revenue_inputs(revenue: str | Decimal, units: int = 1000) -> RebateInputs:
    amount = Decimal(revenue)
    return RebateInputs(volume=amount, revenue=amount, units=units, event_count=1, digest="d")


def units_inputs(units: int, revenue: str | Decimal) -> RebateInputs:
    return RebateInputs(
        volume=Decimal(units), revenue=Decimal(revenue), units=units, event_count=1, digest="d"
    )


def tiers(*pairs: tuple[str, str]) -> list[Tier]:
    return [Tier(threshold=Decimal(t), rate=Decimal(r)) for t, r in pairs]


# --- the worked example -----------------------------------------------------------------------


def test_worked_example_retroactive_then_return_then_incremental() -> None:
    retro = terms()
    closed = compute_rebate(retro, revenue_inputs("262500.00"), closed=True)
    assert closed.tier_index == 2
    assert closed.tier_rate == Decimal("0.035")
    assert closed.rebate == Decimal("9187.50")
    assert closed.next_threshold is None and closed.gap_to_next is None
    assert closed.status == "closed"

    after_return = compute_rebate(retro, revenue_inputs("247500.00"), closed=True)
    assert after_return.tier_rate == Decimal("0.02")
    assert after_return.rebate == Decimal("4950.00")
    assert adjustment(closed.rebate, after_return) == Decimal("-4237.50")
    assert adjustment(after_return.rebate, closed) == Decimal("4237.50")  # a top-up

    incremental = compute_rebate(
        terms(tier_mode="incremental"), revenue_inputs("262500.00"), closed=True
    )
    assert incremental.rebate == Decimal("3437.50")
    assert incremental.tier_rate == Decimal("0.035")  # the marginal rate


def test_open_period_shows_gap_to_next_tier() -> None:
    result = compute_rebate(terms(), revenue_inputs("180000"), closed=False)
    assert result.status == "open"
    assert result.tier_index == 1
    assert result.next_threshold == Decimal("250000")
    assert result.gap_to_next == Decimal("70000")
    assert result.rebate == Decimal("3600.00")
    assert result.commitment_progress is None and result.commitment_shortfall is None


# --- boundaries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revenue", "index", "rate", "retro", "incremental"),
    [
        ("0", 0, "0", "0.00", "0.00"),
        ("99999.99", 0, "0", "0.00", "0.00"),
        ("100000", 1, "0.02", "2000.00", "0.00"),
        ("100000.01", 1, "0.02", "2000.00", "0.00"),  # 0.0002 rounds away
        ("249999.99", 1, "0.02", "5000.00", "3000.00"),
        ("250000", 2, "0.035", "8750.00", "3000.00"),
        ("250000.01", 2, "0.035", "8750.00", "3000.00"),
    ],
)
def test_exactly_at_and_around_thresholds(
    revenue: str, index: int, rate: str, retro: str, incremental: str
) -> None:
    result = compute_rebate(terms(), revenue_inputs(revenue), closed=True)
    assert (result.tier_index, result.tier_rate, result.rebate) == (
        index,
        Decimal(rate),
        Decimal(retro),
    )
    marginal = compute_rebate(terms(tier_mode="incremental"), revenue_inputs(revenue), closed=True)
    assert marginal.rebate == Decimal(incremental)


def test_rounding_is_half_up_once_at_the_end() -> None:
    # 100,000.25 × 2 % = 2,000.005 → 2,000.01 (half up, not half even)
    result = compute_rebate(terms(), revenue_inputs("100000.25"), closed=True)
    assert result.rebate == Decimal("2000.01")
    # 3 bands of 0.0025 each would round to 0 one by one; summed first they make 0.0075
    tiny = terms(
        tiers=tiers(("0", "0.01"), ("0.25", "0.01"), ("0.5", "0.01")), tier_mode="incremental"
    )
    assert compute_rebate(tiny, revenue_inputs("0.75"), closed=True).rebate == Decimal("0.01")


def test_below_the_first_threshold_the_rate_is_zero() -> None:
    starts_high = terms(tiers=tiers(("50000", "0.01"), ("100000", "0.02")))
    result = compute_rebate(starts_high, revenue_inputs("49999.99"), closed=False)
    assert result.tier_index is None
    assert result.tier_rate == Decimal(0)
    assert result.rebate == Decimal("0.00")
    assert result.next_threshold == Decimal("50000")
    assert result.gap_to_next == Decimal("0.01")


def test_negative_volume_earns_nothing() -> None:
    for mode in ("retroactive", "incremental"):
        result = compute_rebate(terms(tier_mode=mode), revenue_inputs("-1500.00"), closed=True)
        assert result.tier_index is None
        assert result.tier_rate == Decimal(0)
        assert result.rebate == Decimal("0.00")
        assert result.next_threshold == Decimal(0)
        assert result.gap_to_next == Decimal("1500.00")
    by_units = terms(measure="units", tiers=tiers(("0", "0.05")))
    assert compute_rebate(by_units, units_inputs(-3, "-30"), closed=True).rebate == Decimal("0.00")


def test_positive_units_with_negative_revenue_earn_nothing() -> None:
    by_units = terms(measure="units", tiers=tiers(("0", "0.05")))
    result = compute_rebate(by_units, units_inputs(5, "-495.00"), closed=True)
    assert result.tier_index == 0
    assert result.rebate == Decimal("0.00")


# --- growth -----------------------------------------------------------------------------------


def test_growth_pays_only_above_the_baseline() -> None:
    growth = terms(growth_baseline=Decimal("200000"))
    assert compute_rebate(growth, revenue_inputs("300000"), closed=True).rebate == Decimal(
        "3500.00"
    )
    at_baseline = compute_rebate(growth, revenue_inputs("200000"), closed=True)
    assert at_baseline.tier_rate == Decimal("0.02") and at_baseline.rebate == Decimal("0.00")
    assert compute_rebate(growth, revenue_inputs("150000"), closed=True).rebate == Decimal("0.00")


def test_incremental_growth_pays_each_band_above_the_baseline() -> None:
    growth = terms(growth_baseline=Decimal("200000"), tier_mode="incremental")
    # [200k, 250k) at 2 % + [250k, 300k) at 3.5 %
    result = compute_rebate(growth, revenue_inputs("300000"), closed=True)
    assert result.rebate == Decimal("2750.00")
    # a baseline above a threshold cuts into that band only
    assert compute_rebate(growth, revenue_inputs("240000"), closed=True).rebate == Decimal("800.00")


# --- minimum commitment -----------------------------------------------------------------------


def test_closed_period_below_commitment_pays_nothing_and_records_the_shortfall() -> None:
    committed = terms(minimum_commitment=Decimal("300000"))
    closed = compute_rebate(committed, revenue_inputs("262500"), closed=True)
    assert closed.rebate == Decimal("0.00")
    assert closed.commitment_shortfall == Decimal("37500")
    assert closed.commitment_progress == Decimal("0.8750")
    assert closed.tier_rate == Decimal("0.035")  # the tier reached is still shown


def test_open_period_below_commitment_accrues_and_shows_progress() -> None:
    committed = terms(minimum_commitment=Decimal("300000"))
    result = compute_rebate(committed, revenue_inputs("262500"), closed=False)
    assert result.rebate == Decimal("9187.50")
    assert result.commitment_shortfall is None
    assert result.commitment_progress == Decimal("0.8750")


def test_commitment_met_exactly_pays_and_progress_rounds_to_four_places() -> None:
    committed = terms(minimum_commitment=Decimal("262500"))
    met = compute_rebate(committed, revenue_inputs("262500"), closed=True)
    assert met.rebate == Decimal("9187.50")
    assert met.commitment_shortfall is None
    assert met.commitment_progress == Decimal("1.0000")
    thirds = terms(minimum_commitment=Decimal("3"))
    assert compute_rebate(thirds, revenue_inputs("2"), closed=False).commitment_progress == (
        Decimal("0.6667")
    )


def test_zero_commitment_has_no_progress_ratio() -> None:
    zero = terms(minimum_commitment=Decimal(0))
    result = compute_rebate(zero, revenue_inputs("10"), closed=True)
    assert result.commitment_progress is None and result.commitment_shortfall is None


# --- units measure ----------------------------------------------------------------------------


def test_units_incremental_values_band_units_at_the_average_price() -> None:
    by_units = terms(
        measure="units",
        tier_mode="incremental",
        tiers=tiers(("0", "0"), ("100", "0.02"), ("250", "0.035")),
    )
    # 300 units for 3,150.00 → average 10.50; 150 units × 2 % + 50 units × 3.5 %
    result = compute_rebate(by_units, units_inputs(300, "3150.00"), closed=True)
    assert result.rebate == Decimal("49.88")  # (3.00 + 1.75) × 10.50 = 49.875
    assert result.tier_index == 2
    retro = terms(measure="units", tiers=tiers(("0", "0"), ("100", "0.02"), ("250", "0.035")))
    assert compute_rebate(retro, units_inputs(300, "3150.00"), closed=True).rebate == Decimal(
        "110.25"
    )


def test_units_average_price_with_a_repeating_quotient_rounds_exactly() -> None:
    by_units = terms(measure="units", tier_mode="incremental", tiers=tiers(("0", "0.01")))
    # 3 units for 1.00: (0.03) × 1.00 ÷ 3 = 0.01 exactly, no 0.00999… on the way
    assert compute_rebate(by_units, units_inputs(3, "1.00"), closed=True).rebate == Decimal("0.01")


def test_units_zero_means_empty_bands() -> None:
    by_units = terms(measure="units", tier_mode="incremental", tiers=tiers(("0", "0.05")))
    # sold 1 at 100, returned 1 at 50: no units in any band
    assert compute_rebate(by_units, units_inputs(0, "50"), closed=True).rebate == Decimal("0.00")


def test_volume_must_match_the_measure() -> None:
    with pytest.raises(ValueError, match="volume"):
        compute_rebate(terms(), units_inputs(10, "100"), closed=True)
    with pytest.raises(ValueError, match="units"):
        compute_rebate(terms(measure="units"), revenue_inputs("100", units=10), closed=True)


# --- inputs and digest ------------------------------------------------------------------------


def test_accumulate_sums_units_revenue_and_digests_ids() -> None:
    lines = [
        QualifyingLine("e1", 10, Decimal("12.50")),
        QualifyingLine("e2", -2, Decimal("12.00")),
    ]
    by_revenue = accumulate("revenue", lines)
    assert by_revenue.revenue == Decimal("101.00")
    assert by_revenue.volume == by_revenue.revenue
    assert by_revenue.units == 8 and by_revenue.event_count == 2
    assert by_revenue.digest == events_digest(["e2", "e1"])
    assert accumulate("units", lines).volume == Decimal(8)


def test_events_digest_is_sha256_of_the_sum_of_shake256_hashes() -> None:
    import hashlib

    def share(event_id: str) -> int:
        return int.from_bytes(hashlib.shake_256(event_id.encode()).digest(256), "big")

    total = (share("a") + share("b")) % 2**2048
    assert events_digest(["b", "a"]) == hashlib.sha256(total.to_bytes(256, "big")).hexdigest()
    assert events_digest([]) == hashlib.sha256(bytes(256)).hexdigest()
    uid = UUID(int=7, version=4)
    assert events_digest([uid]) == events_digest([str(uid)])
    assert events_digest(["a"]) != events_digest(["a", "a"])  # counted twice shows


@settings(max_examples=100, deadline=None)
@given(st.lists(st.uuids(), max_size=20), st.lists(st.uuids(), max_size=20))
def test_a_tally_adds_and_takes_out_events_like_the_digest_of_the_ids(
    kept: list[UUID], removed: list[UUID]
) -> None:
    """What makes statements incremental: the bucket's tally of every event less the
    tallies of the late ones digests exactly the on-time ids."""
    lines = {uid: QualifyingLine(str(uid), 2, Decimal("1.50")) for uid in [*kept, *removed]}
    everything = RebateTally()
    for line in [*kept, *removed]:
        everything = everything.plus(tally_of(lines[line]))
    on_time = everything
    for uid in removed:
        on_time = on_time.minus(tally_of(lines[uid]))
    expected = accumulate("units", [lines[uid] for uid in kept])
    assert on_time.inputs("units") == expected
    assert on_time.inputs("units").digest == events_digest(kept)


# --- periods ----------------------------------------------------------------------------------


def test_period_keys_at_year_and_quarter_boundaries() -> None:
    last = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert period_of(last, "quarter") == "2026-Q4"
    assert period_of(last, "year") == "2026"
    assert period_of(last + timedelta(microseconds=1), "quarter") == "2027-Q1"
    assert period_of(datetime(2026, 7, 1, tzinfo=UTC), "quarter") == "2026-Q3"
    assert period_of(datetime(2026, 6, 30, 23, 59, tzinfo=UTC), "quarter") == "2026-Q2"
    # business time in another zone is placed by its UTC instant
    new_year_in_berlin = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert period_of(new_year_in_berlin, "quarter") == "2026-Q4"
    with pytest.raises(ValueError, match="naive"):
        period_of(datetime(2026, 1, 1), "year")  # noqa: DTZ001
    with pytest.raises(ValueError, match="unknown period"):
        period_of(T0, "month")  # type: ignore[arg-type]


def test_period_bounds_are_half_open_utc() -> None:
    assert period_bounds("2026-Q4") == (
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert period_bounds("2026-Q1") == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    assert period_bounds("2026") == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    start, end = period_bounds("2026-Q4")
    assert period_of(start, "quarter") == "2026-Q4"
    assert period_of(end, "quarter") == "2027-Q1"
    assert period_of(end - timedelta(microseconds=1), "quarter") == "2026-Q4"
    assert (period_kind("2026-Q2"), period_kind("2026")) == ("quarter", "year")
    for bad in ("2026-Q5", "2026-q1", "26", "2026-Q", "9999-Q4", " 2026"):
        with pytest.raises(ValueError):
            period_bounds(bad)


@given(st.datetimes(timezones=st.just(UTC)), st.sampled_from(["quarter", "year"]))
@BOUNDED
def test_every_moment_is_inside_its_period(moment: datetime, kind: Any) -> None:
    key = period_of(moment, kind)
    try:
        start, end = period_bounds(key)
    except ValueError:
        assert key.startswith("9999")  # the end of 9999 is beyond datetime's range
        return
    assert start <= moment < end


# --- validation -------------------------------------------------------------------------------


def test_valid_program_has_no_problems_and_builds_sorted_terms() -> None:
    event = program(distributor_ids=["D2", "D1"], skus=["S9", "S1"])
    assert validate_program(event) == []
    built = terms_of(event)
    assert built.distributor_ids == ("D1", "D2") and built.skus == ("S1", "S9")
    assert built.applies_to("D1", "S1") and not built.applies_to("D3", "S1")
    assert not built.applies_to("D1", "S2")
    assert terms().applies_to("anyone", "anything")
    assert built.period_of(T0) == "2026-Q3"


def test_validation_names_every_problem() -> None:
    event = program(
        tiers=tiers(("-1", "0.5"), ("100", "1.5"), ("100", "0.02"), ("50", "-0.01")),
        minimum_commitment=Decimal("-5"),
        growth_baseline=Decimal("-1"),
        measure="units",
        distributor_ids=["D1", "D2", "D1"],
        skus=[],
    )
    problems = validate_program(event)
    assert any(p.startswith("tiers[0].threshold: must be >= 0") for p in problems)
    assert any(p.startswith("tiers[1].rate:") for p in problems)
    assert any(p.startswith("tiers[2].threshold: thresholds must be strictly") for p in problems)
    assert any(p.startswith("tiers[3].threshold:") for p in problems)
    assert any(p.startswith("tiers[3].rate:") for p in problems)
    assert any(p.startswith("minimum_commitment: must be >= 0") for p in problems)
    assert any(p.startswith("growth_baseline: must be >= 0") for p in problems)
    assert any(p.startswith("growth_baseline: is revenue") for p in problems)
    assert "distributor_ids: duplicate id 'D1'" in problems
    assert any(p.startswith("skus: the list is empty") for p in problems)
    assert len(problems) == 10
    with pytest.raises(InvalidProgram) as raised:
        terms_of(event)
    assert raised.value.problems == problems
    assert "VPA-1" in str(raised.value) and "; " in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_rates_may_decrease_and_a_rate_of_one_is_allowed() -> None:
    assert validate_program(program(tiers=tiers(("0", "1"), ("10", "0.5")))) == []


def test_terms_built_directly_are_checked_too() -> None:
    with pytest.raises(InvalidProgram, match="tier_mode"):
        ProgramTerms(
            program_id="P",
            distributor_ids="all",
            basis="sell_in",
            measure="revenue",
            period="year",
            tiers=(TierTerm(Decimal(0), Decimal("0.01")),),
            tier_mode="marginal",  # type: ignore[arg-type]
            currency="USD",
        )
    with pytest.raises(InvalidProgram, match="tiers: at least one"):
        ProgramTerms(
            program_id="P",
            distributor_ids="all",
            basis="sell_in",
            measure="revenue",
            period="year",
            tiers=(),
            tier_mode="retroactive",
            currency="USD",
        )


def test_tier_reached() -> None:
    built = terms().tiers
    assert tier_reached(built, Decimal("-0.01")) is None
    assert tier_reached(built, Decimal(0)) == 0
    assert tier_reached(built, Decimal("250000")) == 2


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
