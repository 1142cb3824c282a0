"""Prefix scans over the projection stores: the dict store and the Faust table store agree."""

from __future__ import annotations

from typing import Any, cast

import orjson

from projections.keyvalue import DictStore
from streams.tables import PartitionedTable, TableStore


class FakeTable:
    """What TableStore uses of a PartitionedTable: a dict of JSON bytes per key."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = {key: orjson.dumps(value) for key, value in data.items()}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def keys(self) -> list[str]:
        return list(self.data)

    def put_in_partition(self, key: str, value: bytes, partition: int) -> None:
        self.data[key] = value


def table_store(data: dict[str, Any]) -> TableStore[Any]:
    table = cast(PartitionedTable, FakeTable(data))
    return TableStore(table, lambda raw: raw, lambda value: value)


def test_a_scan_sees_the_batch_writes_and_only_the_prefix() -> None:
    store = table_store({"D1|a": 1, "D1|b": 2, "D10|a": 3, "D2|a": 4})
    store.put("D1|c", 5)  # written by the batch, not flushed yet
    store.put("D1|a", 6)  # a newer value than the table's
    assert sorted(store.items("D1|")) == [("D1|a", 6), ("D1|b", 2), ("D1|c", 5)]
    store.flush()
    assert sorted(store.items("D1|")) == [("D1|a", 6), ("D1|b", 2), ("D1|c", 5)]

    dicts: DictStore[int] = DictStore()
    for key, value in {"D1|a": 6, "D1|b": 2, "D1|c": 5, "D10|a": 3}.items():
        dicts.put(key, value)
    assert sorted(dicts.items("D1|")) == sorted(store.items("D1|"))


def test_a_scan_outside_a_batch_leaves_no_stale_cache_behind() -> None:
    store = table_store({"D1|a": 1})
    assert list(store.items("D1|")) == [("D1|a", 1)]
    cast(FakeTable, store.table).data["D1|a"] = orjson.dumps(7)  # e.g. recovered from changelog
    assert store.get("D1|a") == 7
