"""Agreement volume commitments through the channel, hand-computed: met, short and open;
an amendment mid-quarter that governs the quarter; one recorded after the quarter closed
that does not; revenue in another currency left unconverted until its day's rate arrives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from projections.channel import apply_event
from projections.commitment_reads import commitment_rows, judged_periods
from projections.stores import ChannelStores
from schemas.events import Envelope, SaleReported, ShipmentRecorded
from tests.unit.agreement_events import amended, at, rate, signed
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


def test_revenue_in_another_currency_waits_for_its_rate_then_converts_day_by_day() -> None:
    """5,000.00 USD a quarter and 100.00 USD a month of sell-in revenue: 300 units at
    10.00 USD (3,000.00) on May 4 and 100 at 10.00 EUR (1,000.00) on June 4. Without a
    rate, Q2 (closed) is not short but unconverted, the EUR listed as it is, and June
    unconverted; with EUR>USD 1.10 from June 1, Q2 is short by 900.00 (3,000.00 + 1,100.00)
    and June met (1,100.00)."""
    commitments = [
        {"period": "quarter", "basis": "sell_in", "measure": "revenue", "minimum": "5000.00"},
        {"period": "month", "basis": "sell_in", "measure": "revenue", "minimum": "100.00"},
    ]
    stores = channel(
        signed(commitments=commitments),
        shipment(1, 300, date(2026, 5, 4)),
        shipment(2, 100, date(2026, 6, 4), currency="EUR"),
    )
    july_2 = datetime(2026, 7, 2, tzinfo=UTC)

    def rows() -> tuple[dict[str, Any], dict[str, Any]]:
        found = commitment_rows(stores, july_2, "D1")
        q2 = next(r for r in found if r["period"] == "2026-Q2")
        return q2, next(r for r in found if r["period"] == "2026-06")

    q2, june = rows()
    assert (q2["volume"], q2["currency"], q2["status"], q2["shortfall"]) == (
        "3000.00", "USD", "unconverted", None,
    )  # fmt: skip
    assert q2["unconverted"] == [{"currency": "EUR", "amount": "1000.00"}]
    assert (june["volume"], june["status"], june["unconverted"]) == (
        "0.00", "unconverted", [{"currency": "EUR", "amount": "1000.00"}],
    )  # fmt: skip
    apply_event(stores, rate("EUR", "USD", "1.10", date(2026, 6, 1)), None)
    q2, june = rows()
    assert (q2["volume"], q2["status"], q2["shortfall"], q2["unconverted"]) == (
        "4100.00", "short", "900.00", [],
    )  # fmt: skip
    assert (june["volume"], june["progress"], june["status"]) == ("1100.00", "11.0000", "met")


def test_a_closed_commitment_converts_at_its_day_s_rate_as_known_at_the_close() -> None:
    """The same 5,000.00 USD a quarter: 3,000.00 USD on May 4 and 1,000.00 EUR on June 4.
    The rate arrives after Q2 closed (recorded July 10) and after "now" (July 2, a clock
    that has not moved with the rates): Q2 converts at it all the same, 1.10: short by
    900.00. A correction to 1.20 recorded July 20 leaves closed Q2 as it was."""
    commitments = [
        {"period": "quarter", "basis": "sell_in", "measure": "revenue", "minimum": "5000.00"}
    ]
    stores = channel(
        signed(commitments=commitments),
        shipment(1, 300, date(2026, 5, 4)),
        shipment(2, 100, date(2026, 6, 4), currency="EUR"),
    )
    july_2 = datetime(2026, 7, 2, tzinfo=UTC)

    def q2() -> tuple[Any, ...]:
        row = next(r for r in commitment_rows(stores, july_2, "D1") if r["period"] == "2026-Q2")
        return row["volume"], row["status"], row["shortfall"], row["unconverted"]

    assert q2() == ("3000.00", "unconverted", None, [{"currency": "EUR", "amount": "1000.00"}])
    late = datetime(2026, 7, 10, tzinfo=UTC)
    arrived = rate("EUR", "USD", "1.10", date(2026, 6, 1), recorded_at=late, published_at=late)
    apply_event(stores, arrived, None)
    assert q2() == ("4100.00", "short", "900.00", [])
    fixed = datetime(2026, 7, 20, tzinfo=UTC)
    correction = rate(
        "EUR", "USD", "1.20", date(2026, 6, 1), 2, recorded_at=fixed, published_at=fixed
    )
    apply_event(stores, correction, None)
    assert q2() == ("4100.00", "short", "900.00", [])  # not 4,200.00: Q2 closed on 1.10
