"""The inventory summary in one pass is the summary of the inventory rows, with each
distributor's supply summed over its states."""

from __future__ import annotations

from typing import Any

import pytest

from domain.inventory import weeks_of_supply
from projections.inventory_summary import inventory_summary
from projections.periods import inventory_by_distributor
from projections.snapshot import inventory_rows, now_of
from projections.stores import ChannelStores
from projections.supply import sold_last_4_weeks
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel


@pytest.fixture(scope="module")
def stores() -> ChannelStores:
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=5, weeks=6))
    return channel.stores


def recomputed(stores: ChannelStores, wanted: str | None, n: int) -> list[dict[str, Any]]:
    now = now_of(stores)
    rows = inventory_by_distributor(inventory_rows(stores, now, wanted), n)
    for row in rows:
        states = [s for s in stores.inventory.values() if s.distributor_id == row["distributor_id"]]
        sold = sum(sold_last_4_weeks(s, now, stores.day_totals) for s in states)
        weeks = weeks_of_supply(sum(s.expected_on_hand for s in states), sold)
        row["sold_last_4_weeks"] = sold
        row["weeks_of_supply"] = None if weeks is None else str(weeks)
    return rows


@pytest.mark.parametrize("n", [0, 1, 5])
def test_the_channels_summary_is_that_of_its_rows(stores: ChannelStores, n: int) -> None:
    found = inventory_summary(stores, now_of(stores), None, lambda _: True, n)
    assert len(found) > 1 and any(row["sold_last_4_weeks"] for row in found)
    assert found == recomputed(stores, None, n)


def test_one_distributor_and_the_readable_ones(stores: ChannelStores) -> None:
    first, *others = [row["distributor_id"] for row in recomputed(stores, None, 5)]
    now = now_of(stores)
    assert inventory_summary(stores, now, first, lambda _: True) == recomputed(stores, first, 5)
    mine = inventory_summary(stores, now, None, lambda d: d != first)
    assert [row["distributor_id"] for row in mine] == others
    assert inventory_summary(stores, now, first, lambda d: d != first) == []
