"""The worker's state views over real RocksDB databases: a batch's writes are seen by its
own reads and scans, laid over what is stored, and behave like the in-memory store."""

from __future__ import annotations

import contextvars
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rocksdict import Options, Rdict

from projections.keyvalue import DictStore
from streams.worker.state import APPLYING, StateTable, View, Writes, write_batches


class Databases:
    """What a View uses of the state table: a RocksDB database per held partition."""

    def __init__(self, root: Path, partitions: int = 2) -> None:
        self.dbs = {
            p: Rdict(str(root / f"state-{p}.db"), Options(raw_mode=True)) for p in range(partitions)
        }
        self.views: list[View[Any]] = []
        self.app = SimpleNamespace(in_recovery=False)

    def held(self) -> dict[int, Any]:
        return dict(self.dbs)

    def db(self, partition: int) -> Any:
        return self.dbs[partition]

    def store(self, writes: Writes) -> None:
        write_batches(self.db, writes)

    def close(self) -> None:
        for db in self.dbs.values():
            db.close()


class OpeningDatabases(Databases):
    """`db` as faust's store has it: a database that is missing is opened, and held."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.root = root

    def db(self, partition: int) -> Any:
        if partition not in self.dbs:
            self.dbs[partition] = Rdict(
                str(self.root / f"state-{partition}.db"), Options(raw_mode=True)
            )
        return self.dbs[partition]


@pytest.fixture
def databases(tmp_path: Path) -> Any:
    found = Databases(tmp_path)
    yield found
    found.close()


def view(databases: Databases, cached: bool = False) -> View[int]:
    table = cast(StateTable, databases)
    return View(table, "n|", int, int, cached, lambda key: 0 if key.startswith("D1") else 1)


def commit(databases: Databases, *views: View[Any]) -> None:
    writes: Writes = {}
    for one in views:
        one.encoded(writes)
    databases.store(writes)
    for one in views:
        one.committed()
    APPLYING.set(None)


@pytest.mark.parametrize("cached", [False, True], ids=["history", "entity"])
def test_a_batch_sees_its_own_writes_over_the_stored_ones(
    databases: Databases, cached: bool
) -> None:
    store = view(databases, cached)
    APPLYING.set(0)
    for key, value in {"D1|a": 1, "D1|b": 2, "D10|a": 3}.items():
        store.put(key, value)
    commit(databases, store)
    assert store.get("D1|a") == 1  # outside a batch: the owned partitions
    APPLYING.set(0)
    store.put("D1|c", 5)
    store.put("D1|a", 6)
    store.delete("D1|b")
    assert store.get("D1|a") == 6 and store.get("D1|b") is None
    assert list(store.scan("D1|")) == [("D1|a", 6), ("D1|c", 5)]
    assert list(store.scan("D1|", reverse=True)) == [("D1|c", 5), ("D1|a", 6)]
    # a request served while the batch waits for the broker runs in a task of its own:
    # it sees committed state only, of every owned partition
    request = contextvars.Context()
    assert request.run(store.get, "D1|a") == 1
    assert request.run(lambda: list(store.scan("D1|"))) == [("D1|a", 1), ("D1|b", 2)]
    assert request.run(lambda: [k for k, _ in store.scan("D")]) == ["D10|a", "D1|a", "D1|b"]
    store.discard()  # a failed batch: nothing of it remains
    APPLYING.set(None)
    assert list(store.scan("D1|")) == [("D1|a", 1), ("D1|b", 2)]


def test_scans_outside_a_batch_merge_the_owned_partitions_in_key_order(
    databases: Databases,
) -> None:
    store = view(databases)
    for partition, key, value in [(0, "D1|x", 1), (1, "D2|a", 2), (0, "D1|a", 3), (1, "D3|b", 4)]:
        APPLYING.set(partition)
        store.put(key, value)
    commit(databases, store)
    assert [key for key, _ in store.scan()] == ["D1|a", "D1|x", "D2|a", "D3|b"]
    assert [key for key, _ in store.scan(start="D1|b")] == ["D1|x", "D2|a", "D3|b"]
    assert [key for key, _ in store.scan(start="D2|a", reverse=True)] == ["D2|a", "D1|x", "D1|a"]
    reader = store.reader()  # another thread's view: the databases alone
    assert list(reader.scan("D")) == list(store.scan("D"))
    assert reader.get("D2|a") == 2 and reader.get("D9|z") is None


def test_an_entity_cache_keeps_committed_values_and_is_dropped_on_request(
    databases: Databases,
) -> None:
    store = view(databases, cached=True)
    APPLYING.set(0)
    store.put("D1|a", 1)
    commit(databases, store)
    assert store.get("D1|a") == 1  # loads partition 0's values
    databases.store({0: {b"n|D1|a": b"7"}})  # written underneath (what recovery does)
    assert store.get("D1|a") == 1
    store.forget([0])
    assert store.get("D1|a") == 7


def test_an_entity_cache_follows_a_standby_partitions_changelog(databases: Databases) -> None:
    store = view(databases, cached=True)
    other = View(cast(StateTable, databases), "m|", int, int, cached=True)
    assert store.get("D2|a") is None and other.get("x") is None  # both partitions loaded
    changelog: Writes = {1: {b"n|D2|a": b"5", b"m|x": b"9"}, 0: {b"n|D1|z": b"3"}}
    databases.store(changelog)  # what applying a standby's changelog records does
    for one in (store, other):
        one.follow(changelog)
    assert store.get("D2|a") == 5 and store.get("D1|z") == 3 and other.get("x") == 9
    deleted: Writes = {1: {b"n|D2|a": None}}
    databases.store(deleted)
    store.follow(deleted)
    assert store.get("D2|a") is None
    assert [key for key, _ in store.scan()] == [key for key, _ in store.reader().scan()]


def test_a_history_store_keeps_the_last_batchs_writes_until_the_databases_change(
    databases: Databases,
) -> None:
    store = view(databases)
    APPLYING.set(0)
    store.put("D1|a", 1)
    commit(databases, store)
    databases.store({0: {b"n|D1|a": b"7"}})  # written underneath, untold
    APPLYING.set(0)
    assert store.get("D1|a") == 1  # the next batch reads the value it knows decoded
    store.discard()  # a failed batch: what it knew goes too
    APPLYING.set(0)
    assert store.get("D1|a") == 7
    store.put("D1|a", 2)
    commit(databases, store)
    changelog: Writes = {0: {b"n|D1|a": b"8"}}
    databases.store(changelog)  # a changelog applied (recovery, a standby partition)
    store.follow(changelog)
    APPLYING.set(0)
    assert store.get("D1|a") == 8
    store.put("D1|a", 3)
    commit(databases, store)
    databases.store({0: {b"n|D1|a": b"9"}})
    store.forget([1])  # a rebalance
    APPLYING.set(0)
    assert store.get("D1|a") == 9
    APPLYING.set(None)


def test_a_reader_of_some_partitions_reads_those_alone(databases: Databases) -> None:
    store = view(databases)
    for partition, key in [(0, "D1|a"), (1, "D2|a")]:
        APPLYING.set(partition)
        store.put(key, 1)
    commit(databases, store)
    assert [key for key, _ in store.reader([1]).scan()] == ["D2|a"]
    assert store.reader([1]).get("D1|a") is None and store.reader([0, 7]).get("D1|a") == 1


def test_writing_outside_a_batch_is_a_bug(databases: Databases) -> None:
    with pytest.raises(RuntimeError, match="inside a batch"):
        view(databases).put("D1|a", 1)


KEYS = st.sampled_from(["D1|a", "D1|b", "D1|b|x", "D1|c", "D2|a", "D2|b"])
ONE_PARTITION = st.sampled_from(["D1|a", "D1|b", "D1|b|x", "D1|c"])
SCANS = st.tuples(
    st.sampled_from(["", "D1|", "D1|b", "D2|"]), st.one_of(st.none(), KEYS), st.booleans()
)


def run(
    databases: Databases, cached: bool, ops: list[tuple[str, str, int]]
) -> tuple[View[int], DictStore[int]]:
    store, expected = view(databases, cached), DictStore[int]()
    for op, key, value in ops:
        APPLYING.set(0 if key.startswith("D1") else 1)
        if op == "put":
            store.put(key, value)
            expected.put(key, value)
        elif op == "delete":
            store.delete(key)
            expected.delete(key)
        else:
            commit(databases, store)
    return store, expected


def ops_of(keys: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[str, str, int]]]:
    return st.lists(
        st.tuples(st.sampled_from(["put", "put", "delete", "commit"]), keys, st.integers(0, 9)),
        max_size=40,
    )


PROPERTY = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(ops=ops_of(KEYS), scan=SCANS, cached=st.booleans())
def test_committed_state_reads_like_the_in_memory_store(
    tmp_path_factory: pytest.TempPathFactory,
    ops: list[tuple[str, str, int]],
    scan: tuple[str, str | None, bool],
    cached: bool,
) -> None:
    databases = Databases(tmp_path_factory.mktemp("views"))
    try:
        store, expected = run(databases, cached, ops)
        commit(databases, store)
        assert list(store.scan(*scan)) == list(expected.scan(*scan))
        assert list(store.reader().scan(*scan)) == list(expected.scan(*scan))
        for key in ("D1|a", "D1|b", "D2|b"):
            assert store.get(key) == expected.get(key)
    finally:
        databases.close()


@PROPERTY
@given(ops=ops_of(ONE_PARTITION), scan=SCANS, cached=st.booleans())
def test_a_batch_reads_its_writes_like_the_in_memory_store(
    tmp_path_factory: pytest.TempPathFactory,
    ops: list[tuple[str, str, int]],
    scan: tuple[str, str | None, bool],
    cached: bool,
) -> None:
    databases = Databases(tmp_path_factory.mktemp("views"))
    try:
        store, expected = run(databases, cached, ops)
        APPLYING.set(0)  # the batch goes on: what it wrote is not stored yet
        assert list(store.scan(*scan)) == list(expected.scan(*scan))
        for key in ("D1|a", "D1|b", "D1|c"):
            assert store.get(key) == expected.get(key)
    finally:
        databases.close()


def test_a_reader_copies_the_loaded_caches_and_reads_the_rest_from_the_databases(
    databases: Databases,
) -> None:
    store = view(databases, cached=True)
    for partition, key, value in [(0, "D1|a", 1), (0, "D1|b", 2), (1, "D2|a", 3)]:
        APPLYING.set(partition)
        store.put(key, value)
    commit(databases, store)
    assert store.get("D1|a") == 1  # loads partition 0's cache alone
    reader = store.reader()
    databases.store({0: {b"n|D1|a": b"7"}, 1: {b"n|D2|a": b"8"}})  # under both
    assert reader.get("D1|a") == 1 and list(reader.scan("D1|", reverse=True)) == [
        ("D1|b", 2),
        ("D1|a", 1),
    ]  # partition 0: the cache as copied
    assert reader.get("D2|a") == 8  # partition 1 was not loaded: its database
    APPLYING.set(0)
    store.put("D1|c", 4)
    commit(databases, store)  # a later batch changes the cache, not the copy
    assert [key for key, _ in reader.scan()] == ["D1|a", "D1|b", "D2|a"]


def test_warming_loads_an_entity_caches_partition_once(databases: Databases) -> None:
    store, history = view(databases, cached=True), view(databases)
    APPLYING.set(0)
    store.put("D1|a", 1)
    commit(databases, store)
    assert store.warm(0) and not store.warm(0) and not history.warm(0)
    databases.store({0: {b"n|D1|a": b"7"}})  # underneath: the loaded cache is what is read
    assert store.get("D1|a") == 1 and store.reader().get("D1|a") == 1


@pytest.mark.parametrize("cached", [False, True], ids=["history", "entity"])
def test_a_read_outside_a_batch_never_opens_a_partition_given_up(
    tmp_path: Path, cached: bool
) -> None:
    """A rebalance gives partition 1 up while a reader goes on with the partitions it
    listed before (the cache warmer, `streams/worker/upkeep.py`, awaits between two):
    its reads find nothing there and leave it closed, where opening it again would keep
    it held for good and read its stale rows as the worker's own."""
    databases = OpeningDatabases(tmp_path)
    try:
        store = view(databases, cached)
        for partition, key in ((0, "D1|a"), (1, "D2|b")):
            APPLYING.set(partition)
            store.put(key, partition + 1)
            commit(databases, store)
        databases.dbs.pop(1).close()  # revoked
        store.forget([1])
        store.warm(1)  # the cache warmer's list of partitions was taken before
        assert store.get("D2|b") is None and store.get("D1|a") == 1
        assert list(store.scan()) == [("D1|a", 1)]
        assert sorted(databases.held()) == [0]
    finally:
        databases.close()
