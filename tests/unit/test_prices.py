"""Price history: specificity, effective dates, late prices, idempotency, severity, protection."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pytest

from projections.positions import Position
from projections.price_book import CostDrop, PriceEntry, PriceHistory, apply_price, price_in_effect
from projections.price_protection_claims import price_protection_amount
from projections.price_rules import Severity, violation_severity
from tests.unit.price_events import T0, US, D, history_of, price, uid

PRICES = "channelflow.prices:0"


def floor_at(history: PriceHistory, at: datetime, dist: str | None, res: str | None) -> str | None:
    entry = price_in_effect(history, at, dist, res)
    return None if entry is None else str(entry.floor_price)


# --- specificity ---------------------------------------------------------------------------


def test_reseller_beats_distributor_beats_list() -> None:
    history = history_of(
        price(1, floor="15.00"),
        price(2, floor="14.00", distributor_id="D1"),
        price(3, floor="12.00", distributor_id="D1", reseller_id="R1"),
    )
    assert floor_at(history, T0, "D1", "R1") == "12.00"
    assert floor_at(history, T0, "D1", "R2") == "14.00"
    assert floor_at(history, T0, "D2", "R1") == "15.00"
    assert floor_at(history, T0, None, None) == "15.00"


def test_reseller_spa_for_another_distributor_does_not_apply() -> None:
    history = history_of(
        price(1, floor="15.00"), price(2, floor="9.00", distributor_id="D2", reseller_id="R1")
    )
    assert floor_at(history, T0, "D1", "R1") == "15.00"
    assert floor_at(history, T0, "D2", "R1") == "9.00"
    # a reseller alone (no distributor) never matches a reseller-specific entry
    assert floor_at(history, T0, None, "R1") == "15.00"


def test_older_specific_price_still_beats_newer_list_price() -> None:
    history = history_of(
        price(1, floor="14.00", distributor_id="D1"),
        price(2, floor="16.00", at=T0 + 10 * D),
    )
    assert floor_at(history, T0 + 20 * D, "D1", "R1") == "14.00"
    assert floor_at(history, T0 + 20 * D, "D2", "R1") == "16.00"


def test_specific_price_not_yet_in_effect_falls_back_to_list() -> None:
    history = history_of(
        price(1, floor="15.00"), price(2, floor="14.00", at=T0 + D, distributor_id="D1")
    )
    assert floor_at(history, T0 + D - US, "D1", None) == "15.00"
    assert floor_at(history, T0 + D, "D1", None) == "14.00"


# --- effective dates -------------------------------------------------------------------------


def test_effective_date_boundaries() -> None:
    history = history_of(price(1, floor="15.00"), price(2, floor="16.00", at=T0 + D))
    assert price_in_effect(history, T0 - US, "D1", "R1") is None
    assert floor_at(history, T0, "D1", "R1") == "15.00"
    assert floor_at(history, T0 + D - US, "D1", "R1") == "15.00"
    assert floor_at(history, T0 + D, "D1", "R1") == "16.00"


def test_nothing_in_effect_on_empty_history() -> None:
    assert price_in_effect(PriceHistory("SKU-1"), T0, "D1", "R1") is None


def test_same_effective_time_later_arrival_wins() -> None:
    history = history_of(price(1, floor="15.00"), price(2, floor="15.50"), price(3, floor="14.50"))
    assert floor_at(history, T0, "D1", None) == "14.50"
    assert [entry.event_id for entry in history.entries] == [uid(1), uid(2), uid(3)]


def test_entries_sorted_by_effective_time_whatever_the_arrival() -> None:
    history = history_of(price(1, at=T0 + 2 * D), price(2, at=T0), price(3, at=T0 + D))
    assert [entry.event_id for entry in history.entries] == [uid(2), uid(3), uid(1)]
    assert history.latest_effective == T0 + 2 * D


def test_non_utc_lookup_time_is_normalized_and_naive_rejected() -> None:
    history = history_of(price(1, floor="15.00"))
    plus_two = timezone(timedelta(hours=2))
    assert floor_at(history, datetime(2026, 7, 1, 2, tzinfo=plus_two), "D1", None) == "15.00"
    with pytest.raises(ValueError, match="naive"):
        price_in_effect(history, datetime(2026, 7, 1), "D1", None)  # noqa: DTZ001


# --- late prices ---------------------------------------------------------------------------


def test_late_price_is_applied_from_arrival_and_flagged() -> None:
    history = history_of(price(1, floor="15.00"))
    judged = T0 + 5 * D
    history, _ = apply_price(history, price(2, floor="13.00", at=T0 + 2 * D), None, judged)
    late = history.entries[-1]
    assert late.arrived_late is True
    assert late.effective_from == judged
    assert late.declared_from == T0 + 2 * D
    assert history.late_entries == 1
    # never back-dated: sales between its declared time and its arrival keep the old floor
    assert floor_at(history, T0 + 3 * D, "D1", None) == "15.00"
    assert floor_at(history, judged - US, "D1", None) == "15.00"
    assert floor_at(history, judged, "D1", None) == "13.00"


def test_price_effective_exactly_at_seen_until_or_later_is_not_late() -> None:
    history = PriceHistory("SKU-1")
    history, _ = apply_price(history, price(1, at=T0), None, T0)
    history, _ = apply_price(history, price(2, at=T0 + D), None, T0)
    assert [entry.arrived_late for entry in history.entries] == [False, False]
    assert [entry.effective_from for entry in history.entries] == [T0, T0 + D]


def test_late_price_sorts_among_entries_by_its_arrival_time() -> None:
    history = history_of(price(1, floor="15.00"), price(2, floor="16.00", at=T0 + 10 * D))
    history, _ = apply_price(history, price(3, floor="12.00", at=T0 + D), None, T0 + 4 * D)
    assert [entry.event_id for entry in history.entries] == [uid(1), uid(3), uid(2)]
    assert floor_at(history, T0 + 4 * D, "D1", None) == "12.00"
    assert floor_at(history, T0 + 10 * D, "D1", None) == "16.00"


# --- idempotency -----------------------------------------------------------------------------


def test_position_already_applied_is_skipped() -> None:
    history = PriceHistory("SKU-1")
    history, _ = apply_price(history, price(1), Position(PRICES, 5), None)
    assert history.applied == {PRICES: 5}
    same, drop = apply_price(history, price(2, cost="8.00"), Position(PRICES, 5), None)
    assert same is history and drop is None
    older, _ = apply_price(history, price(3, cost="8.00"), Position(PRICES, 4), None)
    assert older is history
    newer, _ = apply_price(history, price(4, cost="8.00"), Position(PRICES, 6), None)
    assert len(newer.entries) == 2 and newer.applied == {PRICES: 6}


def test_same_event_id_twice_changes_nothing() -> None:
    history, first = apply_price(
        history_of(price(1, cost="10.00")), price(2, cost="9.00"), None, None
    )
    assert first is not None
    again, drop = apply_price(history, price(2, cost="9.00"), Position(PRICES, 9), None)
    assert again is history and drop is None


def test_apply_price_is_pure() -> None:
    history = history_of(price(1))
    before = history.to_json()
    apply_price(history, price(2, at=T0 + D), Position(PRICES, 1), None)
    assert history.to_json() == before


def test_price_for_another_sku_is_refused() -> None:
    with pytest.raises(ValueError, match="SKU-2"):
        apply_price(PriceHistory("SKU-1"), price(1, sku="SKU-2"), None, None)


# --- serialization ---------------------------------------------------------------------------


def test_to_json_from_json_round_trip() -> None:
    history = PriceHistory("SKU-1")
    history, _ = apply_price(history, price(1, cost="10.125"), Position(PRICES, 0), None)
    history, _ = apply_price(
        history,
        price(2, cost="9.50", distributor_id="D1", reseller_id="R1"),
        Position(PRICES, 1),
        None,
    )
    history, _ = apply_price(history, price(3, at=T0 - D), Position(PRICES, 2), T0 + D)
    wire = orjson.loads(orjson.dumps(history.to_json()))
    restored = PriceHistory.from_json(wire)
    assert restored == history
    assert restored.to_json() == history.to_json()
    assert wire["entries"][0]["cost"] == "10.125"
    assert str(restored.entries[0].distributor_cost) == "10.125"
    assert restored.entries[-1].arrived_late is True


def test_empty_history_round_trip() -> None:
    empty = PriceHistory("SKU-1")
    assert PriceHistory.from_json(orjson.loads(orjson.dumps(empty.to_json()))) == empty


# --- cost drops and price protection ---------------------------------------------------------


def test_first_price_is_no_drop() -> None:
    _, drop = apply_price(PriceHistory("SKU-1"), price(1, cost="10.00"), None, None)
    assert drop is None


def test_cost_drop_detected_rise_not() -> None:
    history = history_of(price(1, cost="12.40"))
    history, drop = apply_price(history, price(2, cost="11.95", at=T0 + D), None, None)
    assert drop == CostDrop(
        sku="SKU-1",
        distributor_id=None,
        effective_from=T0 + D,
        old_cost=Decimal("12.40"),
        new_cost=Decimal("11.95"),
        currency="USD",
        event_id=uid(2),
    )
    _, rise = apply_price(history, price(3, cost="12.00", at=T0 + 2 * D), None, None)
    assert rise is None
    _, equal = apply_price(history, price(4, cost="11.95", at=T0 + 2 * D), None, None)
    assert equal is None


def test_cost_drop_compares_the_same_scope_only() -> None:
    history = history_of(price(1, cost="12.00"))
    # a distributor's first authorization is not a drop of the list price
    history, drop = apply_price(history, price(2, cost="10.00", distributor_id="D1"), None, None)
    assert drop is None
    history, drop = apply_price(
        history, price(3, cost="9.00", at=T0 + D, distributor_id="D1"), None, None
    )
    assert drop is not None and drop.distributor_id == "D1" and drop.old_cost == Decimal("10.00")
    # the list drops against the list, not against D1's lower authorization
    history, drop = apply_price(history, price(4, cost="11.00", at=T0 + D), None, None)
    assert drop is not None and drop.distributor_id is None and drop.old_cost == Decimal("12.00")


def test_reseller_specific_and_currency_change_never_drop() -> None:
    history = history_of(price(1, cost="10.00", distributor_id="D1", reseller_id="R1"))
    _, drop = apply_price(
        history, price(2, cost="8.00", at=T0 + D, distributor_id="D1", reseller_id="R1"), None, None
    )
    assert drop is None
    _, drop = apply_price(
        history_of(price(3, cost="10.00")),
        price(4, cost="8.00", at=T0 + D, currency="EUR"),
        None,
        None,
    )
    assert drop is None


def test_drop_at_same_effective_time_compares_with_the_earlier_arrival() -> None:
    _, drop = apply_price(history_of(price(1, cost="10.00")), price(2, cost="9.00"), None, None)
    assert drop is not None and (drop.old_cost, drop.new_cost) == (
        Decimal("10.00"),
        Decimal("9.00"),
    )


def test_late_cost_drop_is_dated_at_arrival() -> None:
    history = history_of(price(1, cost="10.00"))
    _, drop = apply_price(history, price(2, cost="9.00", at=T0 + D), None, T0 + 3 * D)
    assert drop is not None and drop.effective_from == T0 + 3 * D


def test_price_protection_amount() -> None:
    amount = price_protection_amount(Decimal("12.40"), Decimal("11.95"), 37, "USD")
    assert amount == Decimal("16.65") and str(amount) == "16.65"
    # half a cent rounds up
    assert price_protection_amount(Decimal("1.005"), Decimal("1.000"), 1, "USD") == Decimal("0.01")
    assert price_protection_amount(Decimal("0.333"), Decimal("0.111"), 3, "USD") == Decimal("0.67")
    assert price_protection_amount(Decimal("12.40"), Decimal("11.95"), 0, "USD") == Decimal("0.00")
    assert price_protection_amount(Decimal("12.40"), Decimal("11.95"), -5, "USD") == Decimal("0.00")
    assert price_protection_amount(Decimal("11.95"), Decimal("12.40"), 10, "USD") == Decimal("0.00")


# --- severity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit_price", "expected"),
    [
        ("100.01", None),
        ("100.00", None),
        ("99.99", Severity.MINOR),
        ("95.01", Severity.MINOR),
        ("95.00", Severity.MAJOR),
        ("94.99", Severity.MAJOR),
        ("80.01", Severity.MAJOR),
        ("80.00", Severity.MAJOR),
        ("79.99", Severity.CRITICAL),
        ("0.00", Severity.CRITICAL),
    ],
)
def test_severity_boundaries(unit_price: str, expected: Severity | None) -> None:
    assert violation_severity(Decimal(unit_price), Decimal("100.00"), 1) is expected


def test_severity_is_exact_for_floors_that_do_not_divide_evenly() -> None:
    floor = Decimal("3.00")  # 5 % = 0.15, 20 % = 0.60
    assert violation_severity(Decimal("2.86"), floor, 1) is Severity.MINOR
    assert violation_severity(Decimal("2.85"), floor, 1) is Severity.MAJOR
    assert violation_severity(Decimal("2.40"), floor, 1) is Severity.MAJOR
    assert violation_severity(Decimal("2.399999"), floor, 1) is Severity.CRITICAL


def test_returns_and_zero_lines_are_never_violations() -> None:
    assert violation_severity(Decimal("10.00"), Decimal("100.00"), -1) is None
    assert violation_severity(Decimal("10.00"), Decimal("100.00"), 0) is None


def test_severity_with_a_non_positive_floor() -> None:
    assert violation_severity(Decimal("0.00"), Decimal("0.00"), 1) is None
    assert violation_severity(Decimal("-1.00"), Decimal("0.00"), 1) is Severity.CRITICAL


def test_severity_values_are_the_wire_names() -> None:
    assert [s.value for s in Severity] == ["minor", "major", "critical"]


def test_price_entry_defaults() -> None:
    entry = PriceEntry(T0, Decimal("1"), Decimal("2"), "USD", None, None, uid(1))
    assert entry.arrived_late is False and entry.declared_from is None
    assert PriceEntry.from_json(entry.to_json()) == entry
