"""The worker's databases read by another process (streams/worker/secondary.py): where they
are, what a secondary instance sees and when, and the decoder that remembers values."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import orjson
import pytest
from rocksdict import Options, Rdict

from projections.catalog import Product
from projections.quality import DeadLetterCount
from projections.stores import ChannelStores
from streams.cli.main import build_parser
from streams.config import Settings
from streams.worker.api_process import ApiProcess
from streams.worker.app import faust_app
from streams.worker.readers import MemoDecoder
from streams.worker.secondary import (
    OFFSET_KEY,
    SecondaryState,
    freshest,
    state_directories,
    state_directory,
)


def test_the_state_directory_is_faust_s_table_directory_for_the_worker(tmp_path: Path):
    settings = Settings(data_dir=str(tmp_path / "data"), app_id="acme-channel")
    assert state_directory(settings) == Path(faust_app(settings).conf.tabledir)


def caught_up(state: SecondaryState) -> None:
    """As the API process follows the worker: new databases opened, each caught up."""
    state.open_new()
    for partition in list(state.dbs):
        state.catch_up(partition)


def letter(reason: str, count: int) -> bytes:
    return orjson.dumps(DeadLetterCount("D01", reason, count).to_json())


def test_a_secondary_sees_the_worker_s_writes_once_caught_up(tmp_path: Path):
    primary = Rdict(str(tmp_path / "state-1.db"), Options(raw_mode=True))
    primary[b"dl|D01|bad_quantity"] = letter("bad_quantity", 2)
    (tmp_path / "state-x.db").mkdir()  # not a partition's database: passed over
    state = SecondaryState([tmp_path], partitions=4)
    try:
        caught_up(state)
        assert sorted(state.dbs) == [1]
        letters = state.stores(ChannelStores()).dead_letters
        assert [v.count for v in letters.values()] == [2]

        primary[b"dl|D01|bad_quantity"] = letter("bad_quantity", 3)
        primary[b"dl|D01|unknown_sku"] = letter("unknown_sku", 1)
        assert [v.count for v in letters.values()] == [2]  # not caught up yet
        caught_up(state)
        assert [(v.reason, v.count) for v in letters.values()] == [
            ("bad_quantity", 3),
            ("unknown_sku", 1),
        ]
    finally:
        state.close()
        primary.close()


def test_partitions_beyond_the_count_are_passed_over_and_reference_data_is_as_given(
    tmp_path: Path,
):
    Rdict(str(tmp_path / "state-9.db"), Options(raw_mode=True)).close()
    state = SecondaryState([tmp_path], partitions=4)
    reference = ChannelStores()
    try:
        caught_up(state)
        assert state.dbs == {}  # partition 9 of 4: another deployment's leftovers
        assert state.stores(reference).products is reference.products
    finally:
        state.close()


def test_the_api_process_reads_the_data_directories_it_is_given_or_the_worker_s(tmp_path: Path):
    settings = Settings(data_dir=str(tmp_path / "w0"), app_id="acme")
    assert state_directories(settings) == [state_directory(settings)]
    given = settings.model_copy(update={"api_data_dirs": f"{tmp_path}/w1, {tmp_path}/w2,"})
    assert state_directories(given) == [
        tmp_path / "w1" / "acme" / "v1" / "tables",
        tmp_path / "w2" / "acme" / "v1" / "tables",
    ]
    args = build_parser().parse_args(
        ["api", "--worker-data-dir", "/var/w1", "--worker-data-dir", "/var/w2"]
    )
    assert args.worker_data_dir == ["/var/w1", "/var/w2"]


def test_the_api_process_says_which_data_directory_holds_no_worker_state(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A typo in --worker-data-dir, or another app id than the worker's: /health said "ok"
    and every page was empty, with nothing in the log."""
    worker = Settings(data_dir=str(tmp_path / "w1"), app_id="acme")
    state_directory(worker).mkdir(parents=True)
    given = worker.model_copy(update={"api_data_dirs": f"{tmp_path}/w1,{tmp_path}/w2"})
    api = ApiProcess(given.model_copy(update={"eventstore_url": "sqlite:///:memory:"}))

    async def a_round() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(api.follow(), 0.2)

    asyncio.run(a_round())
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [
        f"no worker state at {tmp_path}/w2/acme/v1/tables yet: a worker with this data "
        "directory and CHANNELFLOW_APP_ID=acme writes it; until then none of its partitions "
        "is answered (check --worker-data-dir / CHANNELFLOW_API_DATA_DIRS and "
        "CHANNELFLOW_APP_ID)"
    ]


def test_the_copy_read_is_the_furthest_in_the_changelog_and_stays_on_a_tie():
    assert freshest({0: 10, 1: 12}, current=0) == 1
    assert freshest({0: 12, 1: 10}, current=1) == 0
    assert freshest({0: 12, 1: 12}, current=1) == 1  # equal copies: no switching
    assert freshest({0: 12, 1: 12}, current=None) == 0
    assert freshest({0: None, 1: 0}, current=0) == 1  # a copy that applied nothing yet
    assert freshest({0: None, 1: None}, current=None) == 0


def partition_copy(directory: Path, partition: int, offset: int, count: int) -> Rdict:
    """A worker's database of a partition that has applied the changelog up to `offset`."""
    db = Rdict(str(directory / f"state-{partition}.db"), Options(raw_mode=True))
    db[b"dl|D01|bad_quantity"] = letter("bad_quantity", count)
    db[OFFSET_KEY] = str(offset).encode()
    return db


def test_of_several_workers_copies_of_a_partition_the_freshest_is_read(tmp_path: Path):
    """Partition 1 moved from the first worker to the second: the first keeps its database
    as it was. The second's copy is read once it is further in the changelog, and the
    partitions of both workers are read together: the whole channel."""
    first, second = tmp_path / "w1", tmp_path / "w2"
    first.mkdir()
    second.mkdir()
    given_up = partition_copy(first, 1, offset=40, count=2)
    kept = partition_copy(first, 0, offset=7, count=5)
    taken = partition_copy(second, 1, offset=40, count=2)  # recovered up to where it was
    state = SecondaryState([first, second], partitions=2)
    try:
        caught_up(state)
        assert sorted(state.dbs) == [0, 1]
        assert state.dbs[1] is state.copies[1][0]  # equal copies: the first found stays

        taken[b"dl|D01|bad_quantity"] = letter("bad_quantity", 3)
        taken[OFFSET_KEY] = b"41"  # the new owner applied a batch
        caught_up(state)
        assert state.dbs[1] is state.copies[1][1]
        letters = state.stores(ChannelStores()).dead_letters
        assert sorted(v.count for v in letters.values()) == [3, 5]
    finally:
        state.close()
        for db in (given_up, kept, taken):
            db.close()


def test_the_memo_decoder_decodes_each_stored_value_once_and_stays_bounded():
    calls: list[bytes] = []

    def decode(raw: bytes) -> int:
        calls.append(raw)
        return len(raw)

    memo = MemoDecoder(decode, limit=2)
    assert [memo(b"a"), memo(b"bb"), memo(b"a")] == [1, 2, 1]
    assert calls == [b"a", b"bb"]
    memo(b"ccc")  # a third value: a, bb become the old generation
    memo(b"a")  # found there: kept, not decoded
    assert calls == [b"a", b"bb", b"ccc"]
    memo(b"dddd")  # current (ccc, a) full: it becomes the old one, bb is dropped
    memo(b"bb")
    memo(b"a")
    assert calls == [b"a", b"bb", b"ccc", b"dddd", b"bb"]


def test_the_api_process_reads_the_reference_data_as_of_the_replica_s_last_batch(
    tmp_path: Path,
):
    settings = Settings(
        data_dir=str(tmp_path / "data"), eventstore_url=f"sqlite:///{tmp_path / 'audit.db'}"
    )
    process = ApiProcess(settings)
    try:
        live = process.reference.products
        live.put("SKU-1", Product("SKU-1", "each"))
        assert process.stores().products.get("SKU-1") is None  # the batch is not over yet
        assert process.replica.changed is not None
        process.replica.changed()  # as the replica does after each batch applied
        read = process.stores().products
        assert read is not live and read.get("SKU-1") == Product("SKU-1", "each")
        live.put("SKU-2", Product("SKU-2", "each"))  # the next batch: the copy stays as it was
        assert [key for key, _ in read.scan()] == ["SKU-1"]
    finally:
        process.state.close()
