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
from projections.snapshot import price_rows
from projections.stores import ChannelStores
from schemas.events import PriceChanged
from tests.unit.agreement_events import signed
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import sale
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
    # a named list's drop is not a price-protection drop (17.00 < 18.00)
    assert [drop.event_id for drop in book.drops] == []


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
