"""The worker's state read by another process: the API process (`channelflow api`).

A worker applies and serves in one process, so a request waits whenever a batch is
applied or written (bench/README.md, "History scaling"). The API process answers beside
it instead: it opens each of the worker's partition databases as a RocksDB *secondary
instance* (read-only, following the worker's writes each time it catches up with them),
and reads them the way a worker's reading thread does (`CommittedReader`). The worker
writes each partition's batch in one atomic RocksDB batch, so a catch-up shows whole
batches only.

Several workers on one machine (each its own data directory) share the partitions: the
process can read all their directories, and then answers for the whole channel. A
partition's database may be in more than one of them (a worker keeps the database of a
partition it gave up in a rebalance, as it was); each is a prefix of the partition's
changelog, so the copy holding the furthest changelog offset is the current one, and that is
the one read (`freshest`). A copy left behind is therefore never read once its successor has
caught up with it.

Decoded values are remembered by their stored bytes (`MemoDecoder`): the entity stores
(inventory, reports, resellers, ...) are read whole by many endpoints, and a value the
worker has not changed since is not decoded again.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from faust.stores.rocksdb import Store as FaustRocksDB
from rocksdict import AccessType, Options, Rdict

from projections.stores import ChannelStores
from streams.config import Settings
from streams.kafka.worker_topics import STATE_TABLE
from streams.worker.readers import CommittedReader, MemoDecoder, json_decoder
from streams.worker.stores import REFERENCE_STORES, store_layouts

#: the key under which a partition's database holds the changelog offset it has applied
OFFSET_KEY: bytes = FaustRocksDB.offset_key


def state_directory(settings: Settings, data_dir: str | None = None) -> Path:
    """Where a worker keeps its state table's databases (faust's `tabledir` for the
    worker's app: tests/unit/test_secondary_state.py holds them equal)."""
    return Path(data_dir or settings.data_dir) / settings.app_id / "v1" / "tables"


def state_directories(settings: Settings) -> list[Path]:
    """The state directories `channelflow api` reads: those of the workers' data
    directories it is given (`api_data_dirs`), or of `data_dir`, the worker's beside it."""
    given = [d.strip() for d in settings.api_data_dirs.split(",") if d.strip()]
    return [state_directory(settings, data_dir) for data_dir in given or [settings.data_dir]]


def freshest(offsets: Mapping[int, int | None], current: int | None) -> int:
    """Which copy of a partition's database to read (copies by index, each with the
    changelog offset it holds, None: none yet): the furthest; on a tie, the one read now
    (no switching between equal copies), else the first."""
    return max(offsets, key=lambda copy: (_offset(offsets[copy]), copy == current, -copy))


def _offset(offset: int | None) -> int:
    return -1 if offset is None else offset


class SecondaryState:
    """The partition databases of the workers' state tables, opened as secondary instances.

    `open_new()` opens the databases that appeared since (a partition assigned to a worker),
    `catch_up(partition)` follows the writes to each copy of one and chooses the copy to
    read; `stores()` reads the chosen ones (`dbs`).
    """

    def __init__(self, directories: Sequence[Path], partitions: int) -> None:
        self.directories = list(directories)
        self.partitions = partitions
        #: partition -> the copy read (the freshest at its last catch-up)
        self.dbs: dict[int, Rdict] = {}
        #: partition -> directory index -> that directory's copy
        self.copies: dict[int, dict[int, Rdict]] = {}
        self._scratch = Path(tempfile.mkdtemp(prefix="channelflow-secondary-"))
        self._layouts = store_layouts(partitions)
        self._decoders = {
            name: MemoDecoder(json_decoder(at.decode)) if at.cached else json_decoder(at.decode)
            for name, at in self._layouts.items()
        }
        self._pattern = re.compile(rf"^{STATE_TABLE}-(\d+)\.db$")

    def absent(self) -> list[Path]:
        """The state directories that do not exist (yet): no worker of this app id has
        written there, or the directory or app id given is not a worker's."""
        return [directory for directory in self.directories if not directory.is_dir()]

    def open_new(self) -> None:
        """Open the partition databases that appeared since the last time."""
        for index, directory in enumerate(self.directories):
            for path in sorted(directory.glob(f"{STATE_TABLE}-*.db")):
                found = self._pattern.match(path.name)
                if found is None or not (path / "CURRENT").exists():
                    continue
                partition = int(found.group(1))
                if partition >= self.partitions:
                    continue
                copies = self.copies.setdefault(partition, {})
                if index not in copies:
                    copies[index] = self._open(path, index, partition)
                    self._choose(partition)

    def catch_up(self, partition: int) -> None:
        """Catch each copy of one partition's database up with its worker's writes, then
        read the freshest. RocksDB holds the GIL meanwhile (rocksdict 0.3): a partition at a
        time keeps the holds short."""
        for db in self.copies[partition].values():
            db.try_catch_up_with_primary()
        self._choose(partition)

    def _choose(self, partition: int) -> None:
        copies = self.copies[partition]
        offsets = {index: _held_offset(db) for index, db in copies.items()}
        read = self.dbs.get(partition)
        now = next((index for index, db in copies.items() if db is read), None)
        self.dbs[partition] = copies[freshest(offsets, now)]

    def _open(self, path: Path, index: int, partition: int) -> Rdict:
        options = Options(raw_mode=True)
        options.set_max_open_files(-1)  # a secondary must keep the files it has opened
        secondary = self._scratch / f"{index}-{STATE_TABLE}-{partition}"
        return Rdict(str(path), options, access_type=AccessType.secondary(str(secondary)))

    def stores(self, reference: ChannelStores) -> ChannelStores:
        """The state as last caught up, with the reference data given."""
        views: dict[str, Any] = {
            name: CommittedReader(
                at.prefix.encode(), self._decoders[name], at.partition_of, self.dbs, {}
            )
            for name, at in self._layouts.items()
        }
        for name in REFERENCE_STORES:
            views[name] = getattr(reference, name)
        return ChannelStores(**cast(Any, views))

    def close(self) -> None:
        for copies in self.copies.values():
            for db in copies.values():
                db.close()
        self.copies.clear()
        self.dbs.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)


def _held_offset(db: Rdict) -> int | None:
    """The changelog offset a partition's database has applied (None: none yet)."""
    raw = db.get(OFFSET_KEY)
    return None if raw is None else int(raw)
