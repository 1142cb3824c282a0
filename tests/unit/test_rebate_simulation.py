"""What-if rebate terms (projections/rebate_simulation.py), hand-computed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.rebates import ProgramTerms, RebateTally, TierTerm
from projections.keyvalue import DictStore
from projections.rebate_accruals import ClosedPeriod, RebateSources, closed_key
from projections.rebate_buckets import ALL_SKUS, RebateBucket, bucket_key
from projections.rebate_simulation import in_period, simulate, simulated_row, simulated_totals


def terms(program_id: str, *tiers: tuple[str, str], **changes: Any) -> ProgramTerms:
    fields: dict[str, Any] = {
        "program_id": program_id, "distributor_ids": "all", "basis": "sell_through",
        "measure": "revenue", "period": "quarter", "tier_mode": "retroactive", "currency": "USD",
        "tiers": tuple(TierTerm(Decimal(t), Decimal(r)) for t, r in tiers),
    }  # fmt: skip
    fields.update(changes)
    return ProgramTerms(**fields)


def buckets() -> RebateSources:
    """D01: 150,000.00 in Q3 (1,000 units) and 20,000.00 in Q4; D02: 50,000.00 in Q3."""
    store: DictStore[RebateBucket] = DictStore()
    for distributor, quarter, units, revenue in (
        ("D01", "2026-Q3", 1000, "150000.00"),
        ("D01", "2026-Q4", 100, "20000.00"),
        ("D02", "2026-Q3", 400, "50000.00"),
    ):
        tally = RebateTally(units, Decimal(revenue), 3, 7)
        key = bucket_key(distributor, "sell_through", ALL_SKUS, quarter)
        store.put(key, RebateBucket({"USD": tally}, {}))
    return RebateSources(store, DictStore(), {})


TODAY = terms("VPA", ("0", "0"), ("100000", "0.02"))
PROPOSED = terms("VPA", ("0", "0.01"), ("100000", "0.03"))


def test_each_distributor_and_period_under_today_and_the_proposal():
    rows = simulate(TODAY, PROPOSED, buckets(), ["D02", "D01"], DictStore())
    figures = [
        (r.distributor_id, r.period, r.today_rebate, r.proposed_rebate, r.difference) for r in rows
    ]
    assert figures == [
        # 2 % of 150,000 = 3,000.00; 3 % = 4,500.00
        ("D01", "2026-Q3", Decimal("3000.00"), Decimal("4500.00"), Decimal("1500.00")),
        # below 100,000 today: 0; 1 % of 20,000 = 200.00
        ("D01", "2026-Q4", Decimal("0.00"), Decimal("200.00"), Decimal("200.00")),
        ("D02", "2026-Q3", Decimal("0.00"), Decimal("500.00"), Decimal("500.00")),
    ]
    assert simulated_row(rows[0])["difference"] == "1500.00"
    assert simulated_row(rows[0])["today"]["tier_rate"] == "0.02"
    assert simulated_totals(rows, "USD") == {
        "today": "3000.00",
        "proposed": "5200.00",
        "difference": "2200.00",
    }


def test_no_rows_total_zero_in_the_currencys_places():
    assert simulated_totals([], "USD")["difference"] == "0.00"
    assert simulated_totals([], "JPY") == {"today": "0", "proposed": "0", "difference": "0"}
    assert simulated_totals([], "KWD")["proposed"] == "0.000"


def test_a_period_or_a_year_narrows_the_rows():
    rows = simulate(TODAY, PROPOSED, buckets(), ["D01", "D02"], DictStore(), "2026-Q4")
    assert [(r.distributor_id, r.period) for r in rows] == [("D01", "2026-Q4")]
    assert len(simulate(TODAY, PROPOSED, buckets(), ["D01", "D02"], DictStore(), "2026")) == 3
    assert in_period("2026-Q3", "2026") and not in_period("2026", "2026-Q3")
    assert not in_period("2026-Q3", "2026-Q4")


def test_a_new_program_accrues_nothing_today():
    rows = simulate(None, terms("NEW", ("0", "0.01")), buckets(), ["D01"], DictStore(), "2026-Q3")
    assert [(r.today, r.proposed_rebate, r.difference) for r in rows] == [
        (None, Decimal("1500.00"), Decimal("1500.00"))
    ]


def test_the_proposal_shares_the_closes_of_the_program_it_replaces():
    """A commitment of 100,000 in a closed quarter: D02 (50,000) falls short and earns
    nothing under the proposal, even though the proposal is named differently."""
    closed: DictStore[ClosedPeriod] = DictStore()
    at = datetime(2026, 10, 16, tzinfo=UTC)
    closed.put(closed_key("VPA", "2026-Q3"), ClosedPeriod("VPA", "2026-Q3", at, "auto"))
    proposal = terms("VPA-B", ("0", "0.01"), minimum_commitment=Decimal("100000"))
    rows = simulate(TODAY, proposal, buckets(), ["D02"], closed, "2026-Q3")
    assert rows[0].proposed is not None
    assert rows[0].proposed.result.commitment_shortfall == Decimal("50000.00")
    assert rows[0].proposed_rebate == Decimal("0.00")
