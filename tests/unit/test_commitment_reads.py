"""Agreement volume commitments through the channel, hand-computed: met, short and open;
an amendment mid-quarter that governs the quarter; one recorded after the quarter closed
that does not; revenue in another currency left unconverted; a month's revenue untracked."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from projections.channel import apply_event
from projections.commitment_reads import commitment_rows, judged_periods
from projections.stores import ChannelStores
from schemas.events import Envelope, SaleReported, ShipmentRecorded
from tests.unit.agreement_events import amended, at, signed
from tests.unit.catalog import catalog_stores

SKU = "X"
RAISED = [{"period": "quarter", "basis": "sell_in", "measure": "units", "minimum": 1500}]


def shipment(n: int, units: int, day: date, currency: str = "USD") -> ShipmentRecorded:
    return ShipmentRecorded(
        event_id=UUID(int=5000 + n, version=4), occurred_at=at(day), recorded_at=at(day),
        source="erp", shipment_id=f"S-{n}", distributor_id="D1", sku=SKU, quantity=units,
        unit_price=Decimal("10.00"), currency=currency, shipped_at=at(day),
    )  # fmt: skip


def sale(n: int, units: int, day: date) -> SaleReported:
    return SaleReported(
        event_id=UUID(int=6000 + n, version=4), occurred_at=at(day), recorded_at=at(day),
        source="api", distributor_id="D1", transaction_id=f"T-{n}", reseller_id="R-1",
        sku=SKU, quantity=units, unit_price=Decimal("15.00"), currency="USD", sold_at=at(day),
    )  # fmt: skip


def channel(*events: Envelope) -> ChannelStores:
    stores = catalog_stores(SKU)
    for event in events:
        apply_event(stores, event, None)
    return stores


def judged(stores: ChannelStores, now: datetime, **only: Any) -> list[tuple[Any, ...]]:
    rows = commitment_rows(stores, now, "D1")
    return [
        (r["period"], r["version_id"], r["volume"], r["progress"], r["status"], r["shortfall"])
        for r in rows
        if all(r[k] == v for k, v in only.items())
    ]


def test_the_periods_judged_are_the_current_and_the_previous_of_each_kind() -> None:
    kinds = [(k, a.isoformat(), b.isoformat()) for k, a, b in judged_periods(at(date(2026, 5, 20)))]
    assert kinds == [
        ("month", "2026-04-01", "2026-04-30"),
        ("month", "2026-05-01", "2026-05-31"),
        ("quarter", "2026-01-01", "2026-03-31"),
        ("quarter", "2026-04-01", "2026-06-30"),
        ("year", "2025-01-01", "2025-12-31"),
        ("year", "2026-01-01", "2026-12-31"),
    ]


def test_a_quarterly_units_commitment_met_short_and_open() -> None:
    """1,000 units a quarter, sell-in: Q1 bought 1,100 (met); Q2 600 by May 20 (open, 0.6)
    and still 600 on July 1 (short by 400). Sales do not count toward sell-in."""
    stores = channel(
        signed(),
        shipment(1, 700, date(2026, 2, 10)),
        shipment(2, 400, date(2026, 3, 31)),
        shipment(3, 600, date(2026, 4, 2)),
        sale(1, 50, date(2026, 4, 3)),
    )
    assert judged(stores, at(date(2026, 5, 20)), measure="units") == [
        ("2026-Q1", "AG-1", "1100", "1.1000", "met", None),
        ("2026-Q2", "AG-1", "600", "0.6000", "open", None),
    ]
    assert judged(stores, datetime(2026, 7, 1, tzinfo=UTC), period="2026-Q2") == [
        ("2026-Q2", "AG-1", "600", "0.6000", "short", "400"),
    ]


def test_an_amendment_mid_quarter_governs_the_quarter_unless_recorded_after_it_closed() -> None:
    """M1 (effective May 15) raises Q2's commitment to 1,500: 1,200 bought is short by 300
    with progress 0.8000. Recorded on July 20, after Q2 closed, Q2 still owes 1,000: met."""
    bought = [shipment(1, 1200, date(2026, 4, 20))]
    in_time = amended("M1", date(2026, 5, 15), commitments=RAISED)
    stores = channel(signed(), in_time, *bought)
    assert judged(stores, datetime(2026, 7, 2, tzinfo=UTC), period="2026-Q2") == [
        ("2026-Q2", "M1", "1200", "0.8000", "short", "300"),
    ]
    late = in_time.model_copy(update={"recorded_at": at(date(2026, 7, 20))})
    stores = channel(signed(), late, *bought)
    assert judged(stores, datetime(2026, 7, 21, tzinfo=UTC), period="2026-Q2") == [
        ("2026-Q2", "AG-1", "1200", "1.2000", "met", None),
    ]
    # as of June 15 (Q2 open), M1 was not known yet either
    assert judged(stores, at(date(2026, 6, 15)), period="2026-Q2")[0][1] == "AG-1"


def test_an_agreement_starting_mid_quarter_commits_to_nothing_that_quarter() -> None:
    stores = channel(signed(term_start=date(2026, 2, 1)), shipment(1, 10, date(2026, 2, 10)))
    assert judged(stores, at(date(2026, 5, 20)), period="2026-Q1") == []


def test_revenue_in_another_currency_is_unconverted_and_a_month_of_revenue_untracked() -> None:
    """5,000.00 USD a quarter of sell-in revenue: 300 units at 10.00 USD (3,000.00) and 100
    at 10.00 EUR; Q2 closed: not short, unconverted, the EUR listed as it is. A monthly
    revenue commitment has no volume kept per month."""
    commitments = [
        {"period": "quarter", "basis": "sell_in", "measure": "revenue", "minimum": "5000.00"},
        {"period": "month", "basis": "sell_in", "measure": "revenue", "minimum": "100.00"},
    ]
    stores = channel(
        signed(commitments=commitments),
        shipment(1, 300, date(2026, 5, 4)),
        shipment(2, 100, date(2026, 6, 4), currency="EUR"),
    )
    rows = commitment_rows(stores, datetime(2026, 7, 2, tzinfo=UTC), "D1")
    q2 = next(r for r in rows if r["period"] == "2026-Q2")
    assert (q2["volume"], q2["currency"], q2["status"], q2["shortfall"]) == (
        "3000.00",
        "USD",
        "unconverted",
        None,
    )
    assert q2["unconverted"] == [{"currency": "EUR", "amount": "1000.00"}]
    june = next(r for r in rows if r["period"] == "2026-06")
    assert (june["volume"], june["progress"], june["status"]) == (None, None, "untracked")
