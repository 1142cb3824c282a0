"""The worker's state read by another process: the API process (`channelflow api`).

A worker applies and serves in one process, so a request waits whenever a batch is
applied or written (bench/README.md, "History scaling"). The API process answers beside
it instead: it opens each of the worker's partition databases as a RocksDB *secondary
instance* (read-only, following the worker's writes each time it catches up with them),
and reads them the way a worker's reading thread does (`CommittedReader`). The worker
writes each partition's batch in one atomic RocksDB batch, so a catch-up shows whole
batches only.

Decoded values are remembered by their stored bytes (`MemoDecoder`): the entity stores
(inventory, reports, resellers, ...) are read whole by many endpoints, and a value the
worker has not changed since is not decoded again.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, cast

from rocksdict import AccessType, Options, Rdict

from projections.stores import ChannelStores
from streams.config import Settings
from streams.kafka.worker_topics import STATE_TABLE
from streams.worker.readers import CommittedReader, MemoDecoder, json_decoder
from streams.worker.stores import REFERENCE_STORES, store_layouts


def state_directory(settings: Settings) -> Path:
    """Where a worker keeps its state table's databases (faust's `tabledir` for the
    worker's app: tests/unit/test_secondary_state.py holds them equal)."""
    return Path(settings.data_dir) / settings.app_id / "v1" / "tables"


class SecondaryState:
    """The partition databases of a worker's state table, opened as secondary instances.

    `open_new()` opens the databases that appeared since (a partition assigned to the
    worker), `catch_up(partition)` follows the worker's writes to one; `stores()` reads them.
    """

    def __init__(self, directory: Path, partitions: int) -> None:
        self.directory = directory
        self.partitions = partitions
        self.dbs: dict[int, Rdict] = {}
        self._scratch = Path(tempfile.mkdtemp(prefix="channelflow-secondary-"))
        self._layouts = store_layouts(partitions)
        self._decoders = {
            name: MemoDecoder(json_decoder(at.decode)) if at.cached else json_decoder(at.decode)
            for name, at in self._layouts.items()
        }
        self._pattern = re.compile(rf"^{STATE_TABLE}-(\d+)\.db$")

    def open_new(self) -> None:
        """Open the partition databases that appeared since the last time."""
        for path in sorted(self.directory.glob(f"{STATE_TABLE}-*.db")):
            found = self._pattern.match(path.name)
            if found is None or not (path / "CURRENT").exists():
                continue
            partition = int(found.group(1))
            if partition not in self.dbs and partition < self.partitions:
                self.dbs[partition] = self._open(path, partition)

    def catch_up(self, partition: int) -> None:
        """Catch one partition's database up with the worker's writes. RocksDB holds the
        GIL meanwhile (rocksdict 0.3): a partition at a time keeps the holds short."""
        self.dbs[partition].try_catch_up_with_primary()

    def _open(self, path: Path, partition: int) -> Rdict:
        options = Options(raw_mode=True)
        options.set_max_open_files(-1)  # a secondary must keep the files it has opened
        secondary = self._scratch / f"{STATE_TABLE}-{partition}"
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
        for db in self.dbs.values():
            db.close()
        self.dbs.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)
