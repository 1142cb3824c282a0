"""An agreement's obligations judged by hand: over-stock, over-age stock and commitment
progress, under the version that governs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.aging import Lot
from domain.currency import MixedTotal, Unconverted
from domain.obligations import (
    OverAge,
    OverStock,
    SkuSupply,
    commitment_progress,
    over_age,
    over_stock,
)
from projections.agreement_timeline import amend, sign
from schemas.agreements import AgreementTerms, VolumeCommitment
from tests.unit.agreement_events import SIGNED, amended, at, signed

D = Decimal
MAY_15 = date(2026, 5, 15)


def terms(**changes: Any) -> AgreementTerms:
    return signed(**changes).terms()


def test_over_stock_against_a_sku_target() -> None:
    """Target 6 weeks; 90 held, 50 sold in 28 days: 12.5 a week, 7.2 weeks, 75 allowed."""
    found = over_stock(terms(), {"X": SkuSupply(90, 50)})
    assert found == [OverStock("sku", "X", D("6"), D("7.2"), 90, 15)]
    assert over_stock(terms(), {"X": SkuSupply(70, 50)}) == []  # 5.6 weeks
    assert over_stock(terms(), {"X": SkuSupply(0, 0)}) == []


def test_stock_without_sell_through_is_over_any_target() -> None:
    assert over_stock(terms(), {"X": SkuSupply(10, 0)}) == [
        OverStock("sku", "X", D("6"), None, 10, 10)
    ]


def test_a_group_target_sums_its_skus_first() -> None:
    """G-NET = X + Y, 4 weeks: 30 + 20 held, 20 + 20 sold → 10 a week, 5.0 weeks, 40 allowed
    (X alone would be at 6.0 weeks, Y at 4.0)."""
    group_terms = terms(
        inventory={"stocking_targets": [{"group_id": "G-NET", "max_weeks_of_supply": "4"}]}
    )
    found = over_stock(
        group_terms, {"X": SkuSupply(30, 20), "Y": SkuSupply(20, 20), "Z": SkuSupply(99, 1)}
    )
    assert found == [OverStock("group", "G-NET", D("4"), D("5.0"), 50, 10)]


def test_over_age_against_the_maximum_age() -> None:
    """Max 90 days on May 15: the Feb 1 lot is 103 days old, the Feb 14 lot exactly 90."""
    lots = {
        "X": [Lot(date(2026, 2, 1), 10), Lot(date(2026, 2, 14), 4), Lot(date(2026, 5, 1), 5)],
        "Y": [Lot(None, 3)],
        "Z": [Lot(date(2026, 5, 1), 7)],
    }
    found = over_age(terms(), lots, MAY_15, {"X": D("12.50")}, {"X": "USD"})
    assert found == [OverAge("X", 90, 10, D("125.00")), OverAge("Y", 90, 3, None)]
    assert over_age(terms(inventory={}), lots, MAY_15, {}, {}) == []


UNITS = VolumeCommitment(period="quarter", basis="sell_in", measure="units", minimum=D(1000))
REVENUE = VolumeCommitment(period="quarter", basis="sell_in", measure="revenue", minimum=D("50000"))


def test_commitment_progress_open_met_and_short() -> None:
    open_ = commitment_progress(UNITS, "2026-Q2", D(850), closed=False)
    assert (open_.status, open_.progress, open_.shortfall) == ("open", D("0.8500"), None)
    short = commitment_progress(UNITS, "2026-Q2", D(850), closed=True)
    assert (short.status, short.shortfall) == ("short", D(150))
    met = commitment_progress(UNITS, "2026-Q2", D(1000), closed=True)
    assert (met.status, met.progress) == ("met", D("1.0000"))


def test_a_partly_unconverted_volume_is_never_judged_short() -> None:
    gap = (Unconverted(D("3000.00"), "GBP", "USD", MAY_15),)
    partial = MixedTotal("USD", D("48000.00"), (), gap)
    judged = commitment_progress(REVENUE, "2026-Q2", partial, closed=True)
    assert (judged.status, judged.shortfall, judged.progress) == ("unconverted", None, D("0.9600"))
    enough = MixedTotal("USD", D("51000.00"), (), gap)
    assert commitment_progress(REVENUE, "2026-Q2", enough, closed=True).status == "met"


def test_the_commitment_of_a_quarter_amended_mid_way() -> None:
    """1,000 a quarter, raised to 1,500 from May 15: Q2 (closed July 15) sold in 1,200 and
    is short by 300 under the amendment; Q1 met its 1,000 with 1,100."""
    raised = [{"period": "quarter", "basis": "sell_in", "measure": "units", "minimum": 1500}]
    timeline = amend(
        sign(None, signed(), SIGNED, None),
        amended("M1", MAY_15, commitments=raised),
        at(MAY_15),
        None,
    )
    q2 = timeline.governing(date(2026, 4, 1), date(2026, 6, 30), at(date(2026, 7, 15)))
    q1 = timeline.governing(date(2026, 1, 1), date(2026, 3, 31), at(date(2026, 4, 15)))
    assert q1 is not None and q2 is not None
    q2_result = commitment_progress(q2.terms.commitments[0], "2026-Q2", D(1200), closed=True)
    assert (q2_result.status, q2_result.shortfall, q2_result.progress) == (
        "short",
        D(300),
        D("0.8000"),
    )
    assert (
        commitment_progress(q1.terms.commitments[0], "2026-Q1", D(1100), closed=True).status
        == "met"
    )
