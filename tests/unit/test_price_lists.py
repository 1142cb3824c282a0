"""Named price lists (docs/AGREEMENTS.md, "The distributor's cost under an agreement"): a
`PriceChanged` on a named list has a history of its own; the lists an agreement binds
price its distributor (cost and floor) before the standard list; other distributors, and
days no agreement governs, keep the standard list."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from projections.channel import apply_event
from projections.costs import bound_lists, unit_cost
from projections.price_book import PriceHistory, apply_price, price_in_effect
from projections.price_rules import ViolationDetected
from projections.snapshot import price_rows, protection_claims
from projections.stores import ChannelStores
from schemas.events import PriceChanged
from tests.unit.agreement_events import signed
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import sale, shipment
from tests.unit.price_events import price

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)


def listed(n: int, cost: str, floor: str, at: datetime, name: str | None = None) -> PriceChanged:
    return price(n, cost, floor, at, sku="X", price_list=name)


def history(*events: PriceChanged) -> PriceHistory:
    book = PriceHistory("X")
    for event in events:
        book, _ = apply_price(book, event, None, None)
    return book


def test_each_named_list_has_its_own_history_and_the_bound_ones_come_first() -> None:
    book = history(
        listed(1, "20.00", "25.00", JAN_1),
        listed(2, "18.00", "22.00", JAN_1, "GOLD"),
        listed(3, "19.00", "23.00", JAN_1, "SILVER"),
        listed(4, "17.00", "21.00", MAR_1, "GOLD"),
        price(5, "16.00", "20.00", MAR_1, distributor_id="D1", sku="X"),
    )
    feb, apr = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)

    def cost(at: datetime, lists: tuple[str, ...], distributor: str | None = None) -> Decimal:
        entry = price_in_effect(book, at, distributor, None, lists=lists)
        assert entry is not None
        return entry.distributor_cost

    assert cost(feb, ()) == Decimal("20.00")  # the standard list
    assert cost(feb, ("GOLD",)) == Decimal("18.00")
    assert cost(apr, ("GOLD",)) == Decimal("17.00")  # GOLD's own history
    assert cost(apr, ("SILVER", "GOLD")) == Decimal("19.00")  # in the agreement's order
    assert cost(apr, ("BRONZE",)) == Decimal("20.00")  # a list without a price: the standard
    assert cost(apr, ("GOLD",), "D1") == Decimal("16.00")  # the distributor's own still wins
    assert cost(feb, ("GOLD",), "D1") == Decimal("18.00")  # before it took effect
    assert book.named_lists and not history(listed(1, "20.00", "25.00", JAN_1)).named_lists
    # a named list's drop is compared with that list's earlier price (17.00 < 18.00)
    assert [(d.price_list, d.old_cost, d.new_cost) for d in book.drops] == [
        ("GOLD", Decimal("18.00"), Decimal("17.00"))
    ]


def test_a_price_is_a_lists_or_a_distributors() -> None:
    with pytest.raises(ValidationError, match="price_list"):
        price(1, "20.00", "25.00", JAN_1, sku="X", distributor_id="D1", price_list="GOLD")


def stores_with_gold() -> ChannelStores:
    """X: standard 20.00 (floor 25.00), LIST-2026 18.00 (floor 22.00); D1's agreement binds
    LIST-2026 for 2026 with 5 % off group G-NET (X, Y)."""
    stores = catalog_stores("X")
    apply_event(stores, listed(1, "20.00", "25.00", JAN_1), None)
    apply_event(stores, listed(2, "18.00", "22.00", JAN_1, "LIST-2026"), None)
    apply_event(stores, signed(), None)
    return stores


def test_the_distributor_cost_follows_the_bound_list() -> None:
    stores = stores_with_gold()
    may = datetime(2026, 5, 15, tzinfo=UTC)
    # 18.00 less 5 % = 17.10 for D1; D2 has no agreement: the standard 20.00
    assert unit_cost(stores, "X", "D1", may) == (Decimal("17.10"), "USD")
    assert unit_cost(stores, "X", "D2", may) == (Decimal("20.00"), "USD")
    # 2027: no agreement governs, the standard list again
    assert unit_cost(stores, "X", "D1", datetime(2027, 2, 1, tzinfo=UTC)) == (
        Decimal("20.00"),
        "USD",
    )
    assert list(bound_lists(stores, stores.prices.get("X"), "D1", may)) == ["LIST-2026"]


def sold(n: int, distributor: str, unit_price: str) -> Any:
    when = datetime(2026, 5, 15, 12, tzinfo=UTC)
    return sale(
        n, f"T{n}", 2, sku="X", distributor_id=distributor, unit_price=Decimal(unit_price),
        sold_at=when, occurred_at=when, recorded_at=when,
    )  # fmt: skip


def test_a_sale_is_judged_against_the_bound_lists_floor() -> None:
    stores = stores_with_gold()
    # 23.00: above LIST-2026's floor of 22.00 for D1, below the standard 25.00 for D2
    assert not apply_event(stores, sold(10, "D1", "23.00"), None).facts
    [violation] = apply_event(stores, sold(11, "D2", "23.00"), None).facts
    assert isinstance(violation, ViolationDetected)
    assert violation.floor_price == Decimal("25.00")
    [below] = apply_event(stores, sold(12, "D1", "21.00"), None).facts
    assert isinstance(below, ViolationDetected) and below.floor_price == Decimal("22.00")
    assert below.price_event_id == listed(2, "18.00", "22.00", JAN_1, "LIST-2026").event_id


def test_the_price_rows_name_the_list() -> None:
    rows = price_rows(stores_with_gold())
    named = sorted((row["price_list"] or "", row["distributor_cost"]) for row in rows)
    assert named == [("", "20.00"), ("LIST-2026", "18.00")]


def test_a_day_the_agreement_does_not_govern_reads_the_standard_list() -> None:
    stores = stores_with_gold()
    before = datetime(2025, 12, 20, tzinfo=UTC)
    assert list(bound_lists(stores, stores.prices.get("X"), "D1", before)) == []
    assert unit_cost(stores, "X", "D1", before) == (None, None)  # no price yet either


# --- price protection under the bound lists -----------------------------------------------

JUL_10 = datetime(2026, 7, 10, tzinfo=UTC)
JUN_1 = datetime(2026, 6, 1, tzinfo=UTC)


def stocked(stores: ChannelStores) -> ChannelStores:
    """D1 holds 10 X and D2 5 X from June 1."""
    for n, distributor, units in ((20, "D1", 10), (21, "D2", 5)):
        apply_event(stores, shipment(
            n, f"SH{n}", units, sku="X", distributor_id=distributor,
            occurred_at=JUN_1, shipped_at=JUN_1,
        ), None)  # fmt: skip
    return stores


def owed(stores: ChannelStores, *drops: PriceChanged) -> list[tuple[str, int, str, str, str]]:
    for event in drops:
        apply_event(stores, event, None)
    now = datetime(2027, 6, 1, tzinfo=UTC)
    return [
        (c.distributor_id, c.units, str(c.old_cost), str(c.new_cost), str(c.amount))
        for c in protection_claims(stores, now)
    ]


def test_a_named_list_drop_is_owed_to_the_distributors_bound_to_it() -> None:
    """LIST-2026 18.00 -> 16.00: D1 (bound, 5 % off) is owed (17.10 - 15.20) x 10 = 19.00;
    D2, on the standard list, nothing."""
    stores = stocked(stores_with_gold())
    drop = listed(5, "16.00", "20.00", JUL_10, "LIST-2026")
    assert owed(stores, drop) == [("D1", 10, "17.10", "15.20", "19.00")]


def test_a_standard_drop_is_not_owed_to_a_distributor_a_bound_list_prices() -> None:
    """Standard 20.00 -> 19.00: D2 is owed 1.00 x 5; D1 buys at LIST-2026 (unchanged)."""
    stores = stocked(stores_with_gold())
    assert owed(stores, listed(5, "19.00", "24.00", JUL_10)) == [
        ("D2", 5, "20.00", "19.00", "5.00")
    ]


def test_a_standard_drop_is_owed_at_the_discounted_cost_when_no_bound_list_prices() -> None:
    """AG-1 binds no list: D1 buys at the standard list less 5 %, 19.00 -> 18.05, owed
    0.95 x 10 = 9.50; a drop on LIST-2026 then concerns nobody."""
    stores = catalog_stores("X")
    apply_event(stores, listed(1, "20.00", "25.00", JAN_1), None)
    apply_event(stores, listed(2, "18.00", "22.00", JAN_1, "LIST-2026"), None)
    apply_event(stores, signed(price_lists=[]), None)
    stocked(stores)
    assert owed(stores, listed(5, "16.00", "20.00", JUL_10, "LIST-2026")) == []
    assert owed(stores, listed(6, "19.00", "24.00", JUL_10 + (JUL_10 - JUN_1))) == [
        ("D1", 10, "19.00", "18.05", "9.50"),
        ("D2", 5, "20.00", "19.00", "5.00"),
    ]


def test_a_drop_on_a_day_no_agreement_governs_reads_the_standard_list() -> None:
    """2027: AG-1 ended, so D1 buys at the standard list again and is owed 1.00 x 10."""
    stores = stocked(stores_with_gold())
    later = datetime(2027, 2, 1, tzinfo=UTC)
    assert owed(stores, listed(5, "19.00", "24.00", later)) == [
        ("D1", 10, "20.00", "19.00", "10.00"),
        ("D2", 5, "20.00", "19.00", "5.00"),
    ]
