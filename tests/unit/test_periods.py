"""Period keys, sell-in vs sell-through rollups, and top SKUs from the inventory rows."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.inventory import Move
from projections.movements import record_moves
from projections.periods import (
    channel_totals,
    inventory_by_distributor,
    sell_in_vs_through,
    top_skus,
    value_currency,
)
from projections.stores import ChannelStores
from projections.tallies import partial_period, period_key

# --- period keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 7, 6), "2026-W28"),  # Monday
        (date(2026, 7, 12), "2026-W28"),  # Sunday of the same ISO week
        (date(2026, 7, 13), "2026-W29"),
        (date(2026, 12, 31), "2026-W53"),
        (date(2027, 1, 1), "2026-W53"),
        (date(2027, 1, 3), "2026-W53"),
        (date(2027, 1, 4), "2027-W01"),
        (date(2025, 12, 29), "2026-W01"),  # a Monday of December in the next ISO year
        (date(2026, 1, 1), "2026-W01"),
    ],
)
def test_iso_week_keys(day: date, key: str) -> None:
    assert period_key(day, "week") == key
    iso = day.isocalendar()
    assert key == f"{iso.year}-W{iso.week:02d}"


@pytest.mark.parametrize(
    ("day", "month", "quarter"),
    [
        (date(2026, 1, 1), "2026-01", "2026-Q1"),
        (date(2026, 3, 31), "2026-03", "2026-Q1"),
        (date(2026, 4, 1), "2026-04", "2026-Q2"),
        (date(2026, 7, 15), "2026-07", "2026-Q3"),
        (date(2026, 9, 30), "2026-09", "2026-Q3"),
        (date(2026, 10, 1), "2026-10", "2026-Q4"),
        (date(2026, 12, 31), "2026-12", "2026-Q4"),
        (date(2027, 1, 1), "2027-01", "2027-Q1"),
    ],
)
def test_month_and_quarter_keys(day: date, month: str, quarter: str) -> None:
    assert period_key(day, "month") == month
    assert period_key(day, "quarter") == quarter


def test_unknown_granularity_is_refused() -> None:
    with pytest.raises(ValueError, match="granularity"):
        period_key(date(2026, 1, 1), "year")  # type: ignore[arg-type]


@settings(max_examples=200)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_week_key_matches_isocalendar_and_monday_starts(day: date) -> None:
    iso = day.isocalendar()
    assert period_key(day, "week") == f"{iso.year:04d}-W{iso.week:02d}"
    monday = day - timedelta(days=day.weekday())
    assert period_key(monday, "week") == period_key(day, "week")
    assert period_key(day, "quarter")[:4] == period_key(day, "month")[:4] == f"{day.year:04d}"


# --- rollups ---------------------------------------------------------------------------------


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def moved(
    stores: ChannelStores, dist: str, sku: str, when: datetime, qty_in: int, out: int
) -> None:
    """One movement through the projection's own path (a shipment or a sale)."""
    stamp = when.isoformat()
    reseller = None if qty_in else "R1"
    move = Move(stamp, qty_in, out, "1.00", "USD", f"e{next(_ids)}", stamp, None, None, reseller)
    record_moves(stores, dist, ((sku, when, move),), None)


_ids = itertools.count(1)


def channel(*moves: tuple[str, str, str, int, int]) -> ChannelStores:
    stores = ChannelStores()
    for dist, sku, day, sell_in, sell_through in moves:
        moved(stores, dist, sku, at(day), sell_in, sell_through)
    return stores


STORES = channel(
    ("D1", "S1", "2026-06-29", 100, 0),  # Monday, 2026-W27, June
    ("D1", "S1", "2026-07-05", 0, 30),  # Sunday, 2026-W27, July
    ("D1", "S1", "2026-07-06", 0, 20),  # Monday, 2026-W28
    ("D1", "S1", "2026-07-07", 0, -5),  # a return
    ("D1", "S2", "2026-07-06", 50, 0),
    ("D1", "S2", "2026-07-06", 0, 10),
    ("D1", "S2", "2026-10-01", 5, 0),
    ("D2", "S1", "2026-07-01", 40, 0),
    ("D2", "S1", "2026-07-10", 0, 15),
)
DISTRIBUTORS = ["D1", "D2"]


def rollup(granularity: Any, distributors: list[str] = DISTRIBUTORS, sku: str | None = None) -> Any:
    return sell_in_vs_through(STORES.periods, STORES.day_totals, distributors, granularity, sku)


def test_sell_in_vs_through_by_week() -> None:
    assert rollup("week") == [
        {"distributor_id": "D1", "period": "2026-W27", "sell_in": 100, "sell_through": 30},
        {"distributor_id": "D1", "period": "2026-W28", "sell_in": 50, "sell_through": 25},
        {"distributor_id": "D1", "period": "2026-W40", "sell_in": 5, "sell_through": 0},
        {"distributor_id": "D2", "period": "2026-W27", "sell_in": 40, "sell_through": 0},
        {"distributor_id": "D2", "period": "2026-W28", "sell_in": 0, "sell_through": 15},
    ]


def test_sell_in_vs_through_by_month_and_quarter() -> None:
    assert rollup("month") == [
        {"distributor_id": "D1", "period": "2026-06", "sell_in": 100, "sell_through": 0},
        {"distributor_id": "D1", "period": "2026-07", "sell_in": 50, "sell_through": 55},
        {"distributor_id": "D1", "period": "2026-10", "sell_in": 5, "sell_through": 0},
        {"distributor_id": "D2", "period": "2026-07", "sell_in": 40, "sell_through": 15},
    ]
    assert rollup("quarter") == [
        {"distributor_id": "D1", "period": "2026-Q2", "sell_in": 100, "sell_through": 0},
        {"distributor_id": "D1", "period": "2026-Q3", "sell_in": 50, "sell_through": 55},
        {"distributor_id": "D1", "period": "2026-Q4", "sell_in": 5, "sell_through": 0},
        {"distributor_id": "D2", "period": "2026-Q3", "sell_in": 40, "sell_through": 15},
    ]


def test_sell_in_vs_through_filters() -> None:
    assert rollup("quarter", ["D2"]) == [
        {"distributor_id": "D2", "period": "2026-Q3", "sell_in": 40, "sell_through": 15},
    ]
    assert rollup("quarter", sku="S2") == [
        {"distributor_id": "D1", "period": "2026-Q3", "sell_in": 50, "sell_through": 10},
        {"distributor_id": "D1", "period": "2026-Q4", "sell_in": 5, "sell_through": 0},
    ]
    assert rollup("week", ["D3"]) == []


def test_channel_totals() -> None:
    assert channel_totals(STORES.periods, STORES.day_totals, DISTRIBUTORS, "quarter") == [
        {"period": "2026-Q2", "sell_in": 100, "sell_through": 0},
        {"period": "2026-Q3", "sell_in": 90, "sell_through": 70},
        {"period": "2026-Q4", "sell_in": 5, "sell_through": 0},
    ]
    assert channel_totals(STORES.periods, STORES.day_totals, DISTRIBUTORS, "month", "S1") == [
        {"period": "2026-06", "sell_in": 100, "sell_through": 0},
        {"period": "2026-07", "sell_in": 40, "sell_through": 60},
    ]


def test_rollups_agree_with_state_totals() -> None:
    rows = rollup("week")
    states = list(STORES.inventory.values())
    assert sum(row["sell_in"] for row in rows) == sum(s.sell_in for s in states)
    assert sum(row["sell_through"] for row in rows) == sum(s.sell_through for s in states)


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["D1", "D2"]),
            st.sampled_from(["S1", "S2"]),
            st.integers(min_value=0, max_value=400),
            st.integers(min_value=-5, max_value=20),
            st.integers(min_value=-5, max_value=20),
        ),
        max_size=30,
    ),
    st.sampled_from(["week", "month", "quarter"]),
)
def test_every_granularity_preserves_totals(moves: list[Any], granularity: Any) -> None:
    stores = ChannelStores()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for dist, sku, day, sell_in, sell_through in moves:
        when = start + timedelta(days=day)
        moved(stores, dist, sku, when, sell_in, 0)
        moved(stores, dist, sku, when, 0, sell_through)
    per_dist = sell_in_vs_through(stores.periods, stores.day_totals, DISTRIBUTORS, granularity)
    totals = channel_totals(stores.periods, stores.day_totals, DISTRIBUTORS, granularity)
    by_sku = [
        row
        for sku in ("S1", "S2")
        for row in channel_totals(stores.periods, stores.day_totals, DISTRIBUTORS, granularity, sku)
    ]
    states = list(stores.inventory.values())
    expected = (sum(s.sell_in for s in states), sum(s.sell_through for s in states))
    for rows in (per_dist, totals, by_sku):
        assert (sum(r["sell_in"] for r in rows), sum(r["sell_through"] for r in rows)) == expected
    keys = [(r["distributor_id"], r["period"]) for r in per_dist]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


# --- top SKUs --------------------------------------------------------------------------------


def row(dist: str, sku: str, on_hand: int, value: str | None, wos: str | None) -> dict[str, Any]:
    return {
        "distributor_id": dist,
        "sku": sku,
        "expected_on_hand": on_hand,
        "value": value,
        "weeks_of_supply": wos,
    }


ROWS = [
    row("D1", "S1", 10, "120.00", "2.5"),
    row("D1", "S2", 40, None, "10.0"),
    row("D1", "S3", 5, "999.50", None),
    row("D1", "S4", 7, "80.00", "2.5"),
    row("D2", "S1", 3, None, None),
    row("D2", "S2", 100, "1000.00", "4.0"),
]


def skus(rows: list[Any]) -> list[tuple[str, str]]:
    return [(r["distributor_id"], r["sku"]) for r in rows]


def test_top_skus_by_value_none_last() -> None:
    assert skus(top_skus(ROWS, "value", 10)) == [
        ("D2", "S2"),
        ("D1", "S3"),
        ("D1", "S1"),
        ("D1", "S4"),
        ("D1", "S2"),  # None: last, then by key
        ("D2", "S1"),
    ]
    assert skus(top_skus(ROWS, "value", 2)) == [("D2", "S2"), ("D1", "S3")]
    assert top_skus(ROWS, "value", 0) == []


def test_top_skus_by_weeks_of_supply_ties_by_key() -> None:
    assert skus(top_skus(ROWS, "weeks_of_supply", 4)) == [
        ("D1", "S2"),
        ("D2", "S2"),
        ("D1", "S1"),  # 2.5 tie: by (distributor_id, sku)
        ("D1", "S4"),
    ]


def test_top_skus_compares_decimals_not_strings() -> None:
    rows = [row("D1", "A", 1, "9.00", "9.5"), row("D1", "B", 1, "10.00", "10.0")]
    assert skus(top_skus(rows, "value", 1)) == [("D1", "B")]
    assert skus(top_skus(rows, "weeks_of_supply", 1)) == [("D1", "B")]


def test_top_skus_treats_a_missing_column_as_none_and_refuses_floats() -> None:
    rows = [{"distributor_id": "D1", "sku": "A"}, row("D1", "B", 1, "1.00", None)]
    assert skus(top_skus(rows, "value", 2)) == [("D1", "B"), ("D1", "A")]
    with pytest.raises(TypeError, match="float"):
        top_skus([row("D1", "A", 1, 1.5, None)], "value", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rank"):
        top_skus(ROWS, "sell_in", 1)  # type: ignore[arg-type]


def test_inventory_by_distributor() -> None:
    result = inventory_by_distributor(ROWS, n=2)
    assert [r["distributor_id"] for r in result] == ["D1", "D2"]
    d1, d2 = result
    assert d1["skus"] == 4 and d1["expected_on_hand"] == 62
    assert d1["value"] == "1199.50" and d1["unvalued_skus"] == 1
    assert [t["sku"] for t in d1["top_by_value"]] == ["S3", "S1"]
    assert [t["sku"] for t in d1["top_by_weeks_of_supply"]] == ["S2", "S1"]
    assert d1["top_by_value"][0] == {
        "sku": "S3",
        "expected_on_hand": 5,
        "value": "999.50",
        "weeks_of_supply": None,
    }
    assert d2["expected_on_hand"] == 103 and d2["value"] == "1000.00"
    assert d2["unvalued_skus"] == 1


def test_inventory_by_distributor_without_any_value() -> None:
    result = inventory_by_distributor([row("D9", "S1", 4, None, None)])
    assert result == [
        {
            "distributor_id": "D9",
            "skus": 1,
            "expected_on_hand": 4,
            "value": None,
            "currency": None,
            "unvalued_skus": 1,
            "top_by_value": [
                {"sku": "S1", "expected_on_hand": 4, "value": None, "weeks_of_supply": None}
            ],
            "top_by_weeks_of_supply": [
                {"sku": "S1", "expected_on_hand": 4, "value": None, "weeks_of_supply": None}
            ],
        }
    ]
    assert inventory_by_distributor([]) == []


# --- what a reader needs beside the numbers -------------------------------------------------


def test_the_period_of_the_latest_recorded_time_is_partial() -> None:
    sunday_night = datetime(2026, 7, 12, 23, 59, tzinfo=UTC)
    assert partial_period(sunday_night, "week") == "2026-W28"
    assert partial_period(sunday_night + timedelta(minutes=1), "week") == "2026-W29"
    assert partial_period(sunday_night, "quarter") == "2026-Q3"
    elsewhere = datetime(2026, 7, 13, 1, tzinfo=UTC).astimezone(timezone(timedelta(hours=-5)))
    assert partial_period(elsewhere, "week") == "2026-W29"  # in UTC, whatever the offset
    assert partial_period(None, "month") is None


def test_an_inventory_value_has_one_currency_or_none() -> None:
    usd = {"value": "10.00", "currency": "USD"}
    unvalued = {"value": None, "currency": None}
    assert value_currency([usd, unvalued, usd]) == "USD"
    assert value_currency([usd, {"value": "1.00", "currency": "EUR"}]) is None  # no one sum
    assert value_currency([unvalued]) is None
    rows = [{**row("D1", "S1", 1, "5.00", None), "currency": "EUR"}]
    assert inventory_by_distributor(rows)[0]["currency"] == "EUR"
