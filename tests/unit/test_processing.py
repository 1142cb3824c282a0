"""A batch through the channel projection: bad input and failures become dead letters."""

from __future__ import annotations

from projections.keyvalue import DictStore
from projections.stores import ChannelStores
from schemas.codec import encode_event
from streams.generator import generate_sales, sales_catalog
from streams.processing import PROCESSING_ERROR, Input, process_batch


class BrokenInventory(DictStore[object]):
    """A store that fails on write: stands in for a bug in a reducer."""

    def put(self, key: str, value: object) -> None:
        raise RuntimeError("disk on fire")


def test_a_failing_input_is_dead_lettered_and_the_batch_goes_on():
    stores = ChannelStores()
    catalog = [Input(encode_event(p), None, "products") for p in sales_catalog()]
    process_batch(stores, catalog)
    sales = list(generate_sales(3, seed=1))
    healthy_inventory = stores.inventory
    stores.inventory = BrokenInventory()  # type: ignore[assignment]
    result = process_batch(stores, [Input(encode_event(sales[0]), None, "sales", 0, 7)])
    (letter,) = result.dead_letters
    assert letter.reason == PROCESSING_ERROR
    assert "RuntimeError: disk on fire" in letter.detail
    assert (letter.source, letter.offset) == ("sales", 7)
    assert letter.original == encode_event(sales[0])

    stores.inventory = healthy_inventory
    result = process_batch(stores, [Input(encode_event(s), None, "sales") for s in sales[1:]])
    assert result.dead_letters == []
    assert sum(state.sell_through for state in stores.inventory.values()) == sum(
        s.quantity for s in sales[1:]
    )


def test_bad_bytes_are_dead_lettered_with_their_reason():
    result = process_batch(ChannelStores(), [Input(b"\xff\xfe not json", "D01", "sales", 3, 11)])
    (letter,) = result.dead_letters
    assert letter.reason == "invalid_json"
    assert letter.original == b"\xff\xfe not json"
    assert (letter.partition, letter.offset, letter.key) == (3, 11, "D01")
