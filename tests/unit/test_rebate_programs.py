"""Rebate programs: period keys and bounds, validation of a program and its terms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.rebate_programs import (
    InvalidProgram,
    period_bounds,
    period_kind,
    period_of,
    terms_of,
    validate_program,
)
from domain.rebates import ProgramTerms, TierTerm, tier_reached
from tests.unit.rebate_cases import BOUNDED, T0, program, terms, tiers

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
