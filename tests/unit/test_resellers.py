"""The reseller network: onboarded, active in 90 days, new this quarter, top, growth."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from projections.channel import apply_event
from projections.keyvalue import DictStore
from projections.positions import Position
from projections.resellers import (
    DayCount,
    ResellerState,
    ResoldLine,
    active_at,
    network_rows,
    onboard,
    record_lines,
)
from projections.snapshot import build_snapshot, reseller_growth_of, top_resellers_of
from projections.stores import ChannelStores
from schemas.events import Envelope, ResellerOnboarded, SaleReported
from tests.unit.catalog import catalog_stores

NOW = datetime(2026, 9, 30, 18, tzinfo=UTC)  # last day of 2026-Q3


def onboarded(n: int, reseller: str, at: datetime, distributor: str = "D01") -> ResellerOnboarded:
    return ResellerOnboarded(
        event_id=UUID(int=n, version=4),
        occurred_at=at,
        source="api",
        distributor_id=distributor,
        reseller_id=reseller,
        name=f"{reseller} Systems",
        onboarded_at=at,
    )


def sale(
    n: int,
    reseller: str,
    at: datetime,
    quantity: int = 2,
    price: str = "10.00",
    distributor: str = "D01",
    currency: str = "USD",
) -> SaleReported:
    return SaleReported(
        event_id=UUID(int=1000 + n, version=4),
        occurred_at=at,
        source="api",
        distributor_id=distributor,
        transaction_id=f"T{n}",
        reseller_id=reseller,
        sku="SKU-1",
        quantity=quantity,
        unit_price=Decimal(price),
        currency=currency,
        sold_at=at,
    )


def stores_with(*events: Envelope) -> ChannelStores:
    stores = catalog_stores("SKU-1")
    for event in events:
        apply_event(stores, event, None)
    return stores


def network(stores: ChannelStores, now: datetime = NOW) -> list[dict[str, Any]]:
    return build_snapshot(stores, now)["resellers"]


def test_active_means_a_sale_on_one_of_the_90_days_ending_today() -> None:
    today = NOW.date()
    edge = datetime.combine(today - timedelta(days=89), datetime.min.time(), UTC)
    stores = stores_with(
        sale(1, "IN", edge),  # the 90th day back, at 00:00: active
        sale(2, "OUT", edge - timedelta(seconds=1)),  # the 91st day back: not
        sale(3, "RETURN_ONLY", NOW, quantity=-1),  # a return is not a sale
        sale(4, "TODAY", NOW.replace(hour=23, minute=59)),  # later today: still today
    )
    (row,) = network(stores)
    assert row["active_90d"] == 2
    assert network(stores, NOW + timedelta(days=1))[0]["active_90d"] == 1  # IN dropped out
    # a sale after "now" is not counted as of now
    assert network(stores, edge - timedelta(days=1))[0]["active_90d"] == 1  # OUT only


def test_new_this_quarter_is_a_first_sale_in_nows_quarter() -> None:
    stores = stores_with(
        sale(1, "OLD", datetime(2026, 6, 30, 23, tzinfo=UTC)),  # Q2 ...
        sale(2, "OLD", datetime(2026, 7, 2, tzinfo=UTC)),  # ... so not new in Q3
        sale(3, "NEW", datetime(2026, 7, 1, tzinfo=UTC)),
        sale(4, "LATER", datetime(2026, 10, 1, tzinfo=UTC)),  # Q4: not yet as of NOW
    )
    (row,) = network(stores)
    assert row["new_this_quarter"] == 1
    assert network(stores, datetime(2026, 10, 1, 12, tzinfo=UTC))[0]["new_this_quarter"] == 1


def test_onboarded_and_selling_without_onboarding() -> None:
    stores = stores_with(
        onboarded(1, "A", datetime(2026, 7, 1, tzinfo=UTC)),
        onboarded(2, "B", datetime(2026, 7, 3, tzinfo=UTC)),
        onboarded(3, "C", datetime(2026, 7, 5, tzinfo=UTC), distributor="D02"),
        sale(1, "A", datetime(2026, 7, 10, tzinfo=UTC)),
        sale(2, "GHOST", datetime(2026, 7, 11, tzinfo=UTC)),
    )
    assert network(stores) == [
        {
            "distributor_id": "D01",
            "onboarded": 2,
            "active_90d": 2,
            "new_this_quarter": 2,
            "not_onboarded": 1,
        },
        {
            "distributor_id": "D02",
            "onboarded": 1,
            "active_90d": 0,
            "new_this_quarter": 0,
            "not_onboarded": 0,
        },
    ]


def test_onboarding_and_sales_commute_and_the_earliest_onboarding_stands() -> None:
    events: list[Envelope] = [
        onboarded(1, "A", datetime(2026, 7, 9, tzinfo=UTC)),
        sale(1, "A", datetime(2026, 7, 10, tzinfo=UTC)),
        onboarded(2, "A", datetime(2026, 7, 1, tzinfo=UTC)),
    ]
    forward = build_snapshot(stores_with(*events), NOW)
    backward = build_snapshot(stores_with(*reversed(events)), NOW)
    assert forward == backward
    (state,) = stores_with(*events).resellers.values()
    assert state.onboarded_at == datetime(2026, 7, 1, tzinfo=UTC)


def test_top_resellers_by_revenue_per_currency_and_period() -> None:
    stores = stores_with(
        sale(1, "A", datetime(2026, 7, 1, tzinfo=UTC), 10, "10.00"),  # 100.00
        sale(2, "B", datetime(2026, 7, 2, tzinfo=UTC), 3, "50.00"),  # 150.00
        sale(3, "A", datetime(2026, 8, 2, tzinfo=UTC), 10, "10.00"),  # A: 200.00
        sale(4, "A", datetime(2026, 8, 3, tzinfo=UTC), -1, "10.00"),  # return: A 190.00
        sale(5, "C", datetime(2026, 8, 4, tzinfo=UTC), 1, "5.00", distributor="D02"),
        sale(6, "E", datetime(2026, 8, 4, tzinfo=UTC), 1, "7.00", currency="EUR"),
    )
    top = top_resellers_of(stores, "D01", n=2)
    assert [(r["currency"], r["reseller_id"], r["revenue"], r["lines"]) for r in top] == [
        ("EUR", "E", "7.00", 1),
        ("USD", "A", "190.00", 2),
        ("USD", "B", "150.00", 1),
    ]
    assert top[1]["first_sale"] == "2026-07-01" and top[1]["last_sale"] == "2026-08-02"
    july = top_resellers_of(stores, "D01", n=5, period="2026-07")
    assert [(r["reseller_id"], r["revenue"]) for r in july] == [("B", "150.00"), ("A", "100.00")]
    assert [r["reseller_id"] for r in top_resellers_of(stores, None, 9, "2026-Q3")] == [
        "E",
        "A",
        "B",
        "C",
    ]
    assert top_resellers_of(stores, "D01", n=5, period="2025") == []
    assert top_resellers_of(stores, "D01", n=0) == []


def test_growth_per_month_with_running_totals() -> None:
    stores = stores_with(
        onboarded(1, "A", datetime(2026, 6, 20, tzinfo=UTC)),
        onboarded(2, "B", datetime(2026, 7, 20, tzinfo=UTC)),
        onboarded(3, "C", datetime(2026, 8, 20, tzinfo=UTC)),
        sale(1, "A", datetime(2026, 7, 1, tzinfo=UTC)),
        sale(2, "B", datetime(2026, 8, 1, tzinfo=UTC)),
        sale(3, "A", datetime(2026, 8, 2, tzinfo=UTC)),
        sale(4, "D", datetime(2026, 8, 2, tzinfo=UTC), distributor="D02"),
    )
    assert reseller_growth_of(stores, "D01") == [
        {
            "month": "2026-06",
            "onboarded": 1,
            "first_sales": 0,
            "onboarded_total": 1,
            "selling_total": 0,
        },
        {
            "month": "2026-07",
            "onboarded": 1,
            "first_sales": 1,
            "onboarded_total": 2,
            "selling_total": 1,
        },
        {
            "month": "2026-08",
            "onboarded": 1,
            "first_sales": 1,
            "onboarded_total": 3,
            "selling_total": 2,
        },
    ]
    assert reseller_growth_of(stores)[-1]["selling_total"] == 3


def test_state_is_position_checked_and_round_trips_through_json() -> None:
    position = Position("channelflow.sales:1", 7)
    line = ResoldLine(datetime(2026, 7, 1, 9, tzinfo=UTC), 3, Decimal("2.50"), "USD")
    resellers: DictStore[ResellerState] = DictStore()
    days: DictStore[DayCount] = DictStore()

    def record(lines: tuple[ResoldLine, ...], at: Position, reversal: bool = False) -> None:
        record_lines(resellers, days, "D01", "A", lines, at, reversal)

    record((line, line), position)
    state = resellers.get("D01|A")
    record((line,), position)  # redelivered: skipped
    assert resellers.get("D01|A") is state and state is not None
    assert (state.first_sale_day, state.last_sale_day, state.lines) == (
        "2026-07-01",
        "2026-07-01",
        {"2026-07": 2},
    )
    assert days.get("D01|A|2026-07-01") == DayCount(2, {"channelflow.sales:1": 7})
    assert state.revenue == {"2026-07|USD": Decimal("15.00")}
    state = onboard(state, "A Systems", datetime(2026, 6, 1, tzinfo=UTC), None)
    resellers.put("D01|A", state)
    assert ResellerState.from_json(state.to_json()) == state
    record((line, line), Position("channelflow.sales:1", 8), True)
    reversed_ = resellers.get("D01|A")
    assert reversed_ is not None
    assert (reversed_.first_sale_day, reversed_.lines, reversed_.revenue) == (
        None,
        {},
        {"2026-07|USD": Decimal("0.00")},
    )
    assert network_rows([reversed_], NOW, days)[0]["active_90d"] == 0


def test_a_reversal_of_the_first_or_last_sale_day_finds_the_next_one() -> None:
    resellers: DictStore[ResellerState] = DictStore()
    days: DictStore[DayCount] = DictStore()
    sales = [
        ResoldLine(datetime(2026, 7, day, 9, tzinfo=UTC), 1, Decimal("2.00"), "USD")
        for day in (1, 3, 9)
    ]
    for offset, line in enumerate(sales):
        record_lines(resellers, days, "D01", "A", (line,), Position("s:0", offset))
    record_lines(resellers, days, "D01", "A", (sales[0], sales[2]), Position("s:0", 3), True)
    state = resellers.get("D01|A")
    assert state is not None
    assert (state.first_sale_day, state.last_sale_day) == ("2026-07-03", "2026-07-03")
    # activity as of a date before the last sale reads the days themselves
    assert active_at(state, date(2026, 7, 2), days) is False
    assert active_at(state, date(2026, 7, 3), days) is True
