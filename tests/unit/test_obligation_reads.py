"""The obligations an agreement's stock breaks, hand-computed (docs/AGREEMENTS.md,
"Obligations"), through the channel projection: over-stock on weeks of supply, over-age
by FIFO lots, each under the version that governs the day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from projections.channel import apply_event
from projections.obligation_reads import obligation_rows
from projections.stores import ChannelStores
from tests.unit.agreement_events import amended, signed
from tests.unit.test_aging_wiring import priced_stores, receipt, send, sold

MAY_15 = datetime(2026, 5, 15, 12, tzinfo=UTC)
D01 = {"distributor_id": "D01"}
TERMS: dict[str, Any] = {
    "distributor_id": "D01",
    "inventory": {
        "stocking_targets": [{"sku": "X", "max_weeks_of_supply": "6"}],
        "max_age_days": 30,
    },
}


def channel() -> ChannelStores:
    """D01 holds 90 of X on May 15: 50 left of 100 received March 1 (FIFO: the 50 sold on
    May 1 came from that lot) and 40 received April 25; 50 sold in the last 28 days."""
    stores = priced_stores()
    for offset, event in enumerate(
        [receipt(1, 100, date(2026, 3, 1)), receipt(2, 40, date(2026, 4, 25)),
         sold(3, 50, date(2026, 5, 1))]
    ):  # fmt: skip
        send(stores, offset, event)
    return stores


def by_kind(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["kind"]: row for row in rows}


def test_over_stock_and_over_age_are_found_with_the_figures_by_hand() -> None:
    stores = channel()
    apply_event(stores, signed(**TERMS), None)
    found = by_kind(obligation_rows(stores, MAY_15, None))
    # 90 held, 50 sold in 28 days: 12.5 a week, 7.2 weeks; 6 weeks allow 75: 15 too many
    assert found["over_stock"] == {
        "distributor_id": "D01",
        "agreement_id": "AG-1",
        "version_id": "AG-1",
        "as_of": "2026-05-15",
        "kind": "over_stock",
        "scope": "sku",
        "ref": "X",
        "on_hand": 90,
        "target_weeks": "6",
        "weeks_of_supply": "7.2",
        "excess_units": 15,
        "max_age_days": None,
        "units": None,
        "value": None,
        "currency": None,
    }
    # the 50 of March 1 are 75 days old, over 30; the 40 of April 25 are 20 days old
    over_age = found["over_age"]
    assert (over_age["ref"], over_age["max_age_days"], over_age["units"]) == ("X", 30, 50)
    # valued at D01's cost: the list's 12.50 less AG-1's 5 % on X's group (11.875: 11.88)
    assert (over_age["value"], over_age["currency"]) == ("594.00", "USD")  # 50 × 11.88


def test_the_version_in_effect_on_the_day_judges() -> None:
    stores = channel()
    apply_event(stores, signed(**TERMS), None)
    looser = {"stocking_targets": [{"sku": "X", "max_weeks_of_supply": "8"}], "max_age_days": 90}
    apply_event(
        stores, amended("M1", date(2026, 5, 10), inventory=looser).model_copy(update=D01), None
    )
    assert obligation_rows(stores, MAY_15, "D01") == []  # 7.2 ≤ 8 weeks, 75 ≤ 90 days
    before = obligation_rows(stores, datetime(2026, 5, 9, 12, tzinfo=UTC), "D01")
    assert {(row["kind"], row["version_id"]) for row in before} == {
        ("over_stock", "AG-1"),
        ("over_age", "AG-1"),
    }


def test_no_agreement_in_effect_no_obligations() -> None:
    stores = channel()
    assert obligation_rows(stores, MAY_15, None) == []  # none signed
    apply_event(stores, signed(**TERMS, term_start=date(2026, 6, 1)), None)
    assert obligation_rows(stores, MAY_15, None) == []  # not begun on May 15
    assert obligation_rows(stores, None, None) == []  # nothing recorded: no "now"
