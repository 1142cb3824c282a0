"""Rebates over lines in several currencies (projections/rebate_accruals.py), hand-computed.

A USD program; USD and EUR sale lines of D01 in 2026-Q3, written by `record_moves` as a
worker writes them; EUR>USD rates in the rates store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.rebates import ProgramTerms, TierTerm, compute_rebate
from projections.exchange_rates import apply_rate, rate_key
from projections.inventory import Move
from projections.keyvalue import DictStore
from projections.movements import record_moves
from projections.rebate_accruals import program_figures
from projections.rebate_buckets import RebateBucket
from projections.stores import ChannelStores
from tests.unit.agreement_events import rate

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


class CountingDays(DictStore[RebateBucket]):
    def __init__(self) -> None:
        super().__init__()
        self.read = 0

    def scan(
        self, prefix: str = "", start: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, RebateBucket]]:
        for found in super().scan(prefix, start, reverse):
            self.read += 1
            yield found


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
