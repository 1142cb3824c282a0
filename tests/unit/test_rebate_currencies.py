"""Rebates over lines in several currencies (projections/rebate_accruals.py), hand-computed.

A USD program; USD and EUR sale lines of D01 in 2026-Q3, written by `record_moves` as a
worker writes them; EUR>USD rates in the rates store.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.rebates import ProgramTerms, TierTerm, compute_rebate
from projections.exchange_rates import apply_rate, rate_key
from projections.inventory import Move
from projections.movements import record_moves
from projections.rebate_accruals import ClosedPeriod, program_figures, statement_plan
from projections.stores import ChannelStores
from tests.unit.agreement_events import rate
from tests.unit.rebate_cases import CountingDays

JULY_RATE = UUID(int=401, version=4)
AUGUST_RATE = UUID(int=402, version=4)


def terms(measure: str, *tiers: tuple[str, str], **changes: Any) -> ProgramTerms:
    fields: dict[str, Any] = {
        "program_id": "VPA", "distributor_ids": "all", "basis": "sell_through",
        "measure": measure, "period": "quarter", "tier_mode": "retroactive", "currency": "USD",
        "tiers": tuple(TierTerm(Decimal(t), Decimal(r)) for t, r in tiers),
    }  # fmt: skip
    fields.update(changes)
    return ProgramTerms(**fields)


def sale(event: str, day: str, quantity: int, price: str, currency: str) -> Move:
    at = f"2026-{day}T12:00:00+00:00"
    return Move(at, 0, quantity, price, currency, event, at, None, event, "R1")


def channel(*rates: tuple[str, date, int]) -> ChannelStores:
    """USD 10 × 50.00 (07-10); EUR 5 × 10.00 (07-15) and 5 × 100.00 (08-03); the rates."""
    stores = ChannelStores()
    moves = [
        sale("e1", "07-10", 10, "50.00", "USD"),
        sale("e2", "07-15", 5, "10.00", "EUR"),
        sale("e3", "08-03", 5, "100.00", "EUR"),
    ]
    dated = [("SKU-1", datetime.fromisoformat(m.at), m) for m in moves]
    record_moves(stores, "D01", dated, None)
    for value, effective, n in rates:
        event = rate("EUR", "USD", value, effective, n)
        key = rate_key("EUR", "USD", effective)
        stores.rates.put(key, apply_rate(stores.rates.get(key), event, event.published_at, None))
    return stores


BOTH_RATES = (("1.20", date(2026, 7, 1), 1), ("1.08", date(2026, 8, 1), 2))
REVENUE = terms("revenue", ("0", "0"), ("1000", "0.05"))


def test_each_eur_line_converts_at_its_own_day_s_rate():
    stores = channel(*BOTH_RATES)
    figures = program_figures(REVENUE, stores.rebate_sources(), "D01", "2026-Q3")
    inputs = figures.inputs("revenue")
    # 500.00 USD + 50 EUR × 1.20 (July) + 500 EUR × 1.08 (August) = 1,100.00 USD
    assert inputs.revenue == Decimal("1100.00") and inputs.volume == inputs.revenue
    assert (inputs.units, inputs.event_count, inputs.partial) == (20, 3, False)
    assert figures.rate_event_ids == (JULY_RATE, AUGUST_RATE) and figures.unconverted == ()
    assert compute_rebate(REVENUE, inputs, closed=False).rebate == Decimal("55.00")  # 5 %


def test_a_day_without_a_rate_is_unconverted_and_never_short():
    stores = channel(BOTH_RATES[0])  # July only: 08-03 has no rate within its age
    committed = terms("revenue", ("0", "0"), ("500", "0.05"), minimum_commitment=Decimal(2000))
    figures = program_figures(committed, stores.rebate_sources(), "D01", "2026-Q3")
    inputs = figures.inputs("revenue")
    assert inputs.revenue == Decimal("560.00") and inputs.partial  # 500 + 50 × 1.20
    assert [(g.currency, g.on, g.amount) for g in figures.unconverted] == [
        ("EUR", date(2026, 8, 3), Decimal("500.00"))
    ]
    closed = compute_rebate(committed, inputs, closed=True)
    # below the commitment on what converted, but the rest is unknown: no shortfall
    assert (closed.commitment_shortfall, closed.rebate) == (None, Decimal("28.00"))


def test_a_units_program_counts_a_eur_line_without_a_rate():
    stores = channel()  # no rate at all
    units = terms("units", ("0", "0"), ("20", "0.10"))
    figures = program_figures(units, stores.rebate_sources(), "D01", "2026-Q3")
    inputs = figures.inputs("units")
    # every line's units reach the 20-unit tier; the rebate is on the revenue converted
    assert (inputs.volume, inputs.units, inputs.partial) == (Decimal(20), 20, False)
    assert compute_rebate(units, inputs, closed=True).rebate == Decimal("50.00")
    assert [g.amount for g in figures.unconverted] == [Decimal("50.00"), Decimal("500.00")]


def test_a_rate_recorded_after_known_at_is_not_used():
    stores = channel(*BOTH_RATES)
    recorded = datetime(2026, 7, 1, 16, tzinfo=UTC)  # the July rate's publication
    figures = program_figures(REVENUE, stores.rebate_sources(), "D01", "2026-Q3", recorded)
    assert figures.rate_event_ids == (JULY_RATE,)
    assert [g.on for g in figures.unconverted] == [date(2026, 8, 3)]


def test_days_are_read_only_where_a_quarter_holds_another_currency():
    stores = ChannelStores(rebate_days=CountingDays())
    usd = sale("e1", "07-10", 10, "50.00", "USD")
    record_moves(stores, "D01", [("SKU-1", datetime.fromisoformat(usd.at), usd)], None)
    days = stores.rebate_days
    assert isinstance(days, CountingDays)
    program_figures(REVENUE, stores.rebate_sources(), "D01", "2026-Q3")
    assert days.read == 0
    eur = sale("e2", "07-15", 5, "10.00", "EUR")
    record_moves(stores, "D01", [("SKU-1", datetime.fromisoformat(eur.at), eur)], None)
    program_figures(REVENUE, stores.rebate_sources(), "D01", "2026-Q3")
    assert days.read == 2  # the quarter's two days with lines, no more


def close_at(recorded: datetime) -> ClosedPeriod:
    return ClosedPeriod("VPA", "2026-Q3", recorded, "finance", recorded)


def add_rate(
    stores: ChannelStores, value: str, effective: date, n: int, recorded: datetime
) -> None:
    event = rate("EUR", "USD", value, effective, n)
    key = rate_key("EUR", "USD", effective)
    stores.rates.put(key, apply_rate(stores.rates.get(key), event, recorded, None))


def test_a_rate_arriving_after_the_close_is_one_adjustment_and_the_statement_stays():
    stores = channel(BOTH_RATES[0])  # at the close, 08-03 has no rate
    close = close_at(datetime(2026, 10, 15, tzinfo=UTC))
    before = statement_plan(REVENUE, stores.rebate_sources(), stores.recorded_moves, "D01", close)
    assert before is not None and before.adjustments == ()
    # 500 + 60 = 560.00 converted at the close; 500.00 EUR of 08-03 listed
    assert (before.inputs.revenue, before.result.rebate) == (Decimal("560.00"), Decimal(0))
    assert [(g.on, g.amount) for g in before.unconverted] == [(date(2026, 8, 3), Decimal("500.00"))]

    arrived = datetime(2026, 10, 20, tzinfo=UTC)
    add_rate(stores, "1.08", date(2026, 8, 1), 2, arrived)
    add_rate(stores, "1.50", date(2026, 7, 1), 3, arrived)  # a correction after the close
    after = statement_plan(REVENUE, stores.rebate_sources(), stores.recorded_moves, "D01", close)
    assert after is not None
    assert (after.inputs, after.result) == (before.inputs, before.result)  # never rewritten
    (adjusted,) = after.adjustments
    assert (adjusted.event_id, adjusted.reason, adjusted.recorded) == (
        str(AUGUST_RATE),
        "rate_arrived",
        arrived,
    )
    # 07-15 keeps the rate of the close (1.20), 08-03 converts at 1.08: 500 + 60 + 540
    assert (adjusted.inputs.revenue, adjusted.result.rebate) == (
        Decimal("1100.00"),
        Decimal("55.00"),
    )
    assert adjusted.rate_event_ids == (JULY_RATE, AUGUST_RATE) and adjusted.unconverted == ()


def late_eur(event: str, day: str, recorded: str) -> tuple[str, datetime, Move]:
    at = f"2026-{day}T12:00:00+00:00"
    move = Move(at, 0, 1, "100.00", "EUR", event, recorded, None, event, "R1")
    return "SKU-1", datetime.fromisoformat(at), move


def test_a_late_eur_line_converts_at_its_day_s_rate_and_waits_for_a_missing_one():
    stores = channel(*BOTH_RATES)
    close = close_at(datetime(2026, 10, 15, tzinfo=UTC))
    late = [
        late_eur("e9", "08-20", "2026-10-18T09:00:00+00:00"),  # the August rate: 1.08
        late_eur("e10", "09-20", "2026-10-19T09:00:00+00:00"),  # August's is too old by then
    ]
    record_moves(stores, "D01", late, None)
    add_rate(stores, "1.10", date(2026, 9, 15), 4, datetime(2026, 10, 25, tzinfo=UTC))
    plan = statement_plan(REVENUE, stores.rebate_sources(), stores.recorded_moves, "D01", close)
    assert plan is not None and plan.inputs.revenue == Decimal("1100.00")
    steps = [
        (a.event_id, a.reason, a.inputs.revenue, a.inputs.event_count, len(a.unconverted))
        for a in plan.adjustments
    ]
    assert steps == [
        ("e9", "late_sale", Decimal("1208.00"), 4, 0),  # + 100 EUR × 1.08
        ("e10", "late_sale", Decimal("1208.00"), 5, 1),  # counted, its 100 EUR listed
        (str(UUID(int=404, version=4)), "rate_arrived", Decimal("1318.00"), 5, 0),  # × 1.10
    ]
