"""Rebate math: the worked example of docs/DESIGN.md ("Business rules → Rebates"), tier
boundaries, growth, commitment, the units measure."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.rebates import adjustment, compute_rebate
from tests.unit.rebate_cases import revenue_inputs, terms, tiers, units_inputs

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
