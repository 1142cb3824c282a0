"""A batch through the channel projection: bad input and failures become dead letters."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from uuid import UUID

from projections.keyvalue import DictStore
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores
from schemas.codec import encode_event
from schemas.events import LineRejected
from streams.generator import generate_sales, sales_catalog
from streams.runners.processing import PROCESSING_ERROR, Input, process_batch


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


def rejection(n: int, original: str, **changes: object) -> LineRejected:
    fields: dict[str, object] = {
        "event_id": UUID(int=n, version=4),
        "occurred_at": datetime(2026, 7, 14, 9, tzinfo=UTC),
        "source": "csv",
        "source_ref": "weekly.csv:42",
        "distributor_id": "D01",
        "reason": "bad_quantity",
        "detail": "quantity: not an integer",
        "original_b64": base64.b64encode(original.encode()).decode(),
        "report_id": "D01-2026W28",
    }
    fields.update(changes)
    return LineRejected.model_validate(fields)


def test_a_rejected_line_is_counted_and_dead_lettered_with_its_original_bytes():
    stores = ChannelStores()
    line = "D01,INV-7,RES-1,SKU-0001,,ten,,12.50,USD,2026-07-08,,D01-2026W28"
    event = rejection(1, line)
    result = process_batch(stores, [Input(encode_event(event), "D01", "rejections", 2, 5)])
    (letter,) = result.dead_letters
    assert letter.original == line.encode()
    assert (letter.reason, letter.detail) == (
        "bad_quantity",
        "weekly.csv:42: quantity: not an integer",
    )
    assert (letter.source, letter.partition, letter.offset, letter.key) == (
        "rejections",
        2,
        5,
        "D01",
    )
    (row,) = build_snapshot(stores)["quality"]
    assert (row["rejected"], row["rejected_by_reason"]) == (1, {"bad_quantity": 1})
    assert build_snapshot(stores)["dead_letters"] == [{"reason": "bad_quantity", "count": 1}]

    # the same rejection again (the file uploaded twice, or republished): counted once
    again = process_batch(stores, [Input(encode_event(event), "D01", "rejections", 2, 9)])
    assert again.dead_letters == []
    assert build_snapshot(stores)["quality"][0]["rejected"] == 1
    # redelivered from its own position after a crash: dead-lettered again, counted once
    crash = process_batch(stores, [Input(encode_event(event), "D01", "rejections", 2, 5)])
    assert [letter.original for letter in crash.dead_letters] == [line.encode()]
    assert build_snapshot(stores)["quality"][0]["rejected"] == 1


def test_a_rejection_without_valid_base64_keeps_the_rejection_itself():
    stores = ChannelStores()
    event = rejection(2, "x", original_b64="%%% not base64", source_ref=None)
    (letter,) = process_batch(
        stores, [Input(encode_event(event), "D01", "rejections")]
    ).dead_letters
    assert letter.original == encode_event(event)
    assert letter.detail.startswith("quantity: not an integer (original_b64 is not valid base64")


def test_an_input_counts_its_weight_once_and_it_takes_no_part_in_equality() -> None:
    bundle = b'[{"event_type":"SaleReported"},{"event_type":"SaleReported"}]'
    counted = Input(bundle, "D01", "sales", 0, 4)
    fresh = Input(bundle, "D01", "sales", 0, 4)
    assert counted.weight == 2 and counted.weight == 2  # the second read is the cached count
    assert counted == fresh and hash(counted) == hash(fresh)
    assert Input(b'{"x": 1}', None, "sales").weight == 1  # at least one
