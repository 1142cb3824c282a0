"""The worker's RocksDB databases open with faust's options as configured, plus a bloom
filter on each memtable (streams/worker/state.py, `StateOptions`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from streams.config import Settings
from streams.worker.app import faust_app
from streams.worker.state import MEMTABLE_BLOOM_RATIO, StateOptions
from streams.worker.stores import state_table


def options_file(database: Path) -> str:
    """The options RocksDB wrote when it opened the database (its newest OPTIONS file)."""
    return sorted(database.glob("OPTIONS-*"))[-1].read_text()


def test_the_state_databases_have_memtable_blooms_and_the_configured_sizes(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), state_write_buffer_mb=3)
    store = cast(Any, state_table(faust_app(settings), settings).data)
    assert isinstance(store.rocksdb_options, StateOptions)
    db = store.rocksdb_options.open(tmp_path / "state-0.db")
    db.close()
    written = options_file(tmp_path / "state-0.db")
    assert "memtable_whole_key_filtering=true" in written
    assert f"memtable_prefix_bloom_size_ratio={MEMTABLE_BLOOM_RATIO:f}" in written
    assert f"write_buffer_size={3 * 1024 * 1024}" in written


def test_a_partitions_database_is_faust_s_opened_once(tmp_path: Path) -> None:
    """`StateTable.db` answers from faust's open databases, and opens one that is not
    (a partition given up and read again gets a new one, as from faust's own store)."""
    settings = Settings(data_dir=str(tmp_path / "data"))
    table = state_table(faust_app(settings), settings)
    first = table.db(2)
    store = cast(Any, table.data)
    assert table.db(2) is first is store._db_for_partition(2)
    assert table.held() == {2: first}
    store._dbs.pop(2).close()  # what faust does when the partition is revoked
    again = table.db(2)
    assert again is not first and table.held() == {2: again}
    again.close()
