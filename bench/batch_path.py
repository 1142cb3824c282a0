"""The worker's batch path in one process, each step's CPU apart (issue 14).

The slice benchmark's sales (`generate_sales`, bundled per distributor and day, keyed to 4
partitions) go through what `ChannelWorker.stored` does with a batch, without Kafka or
faust: `process_batch` over the worker's state views (`store_views`) on real RocksDB
databases opened with the worker's options (`StateOptions`), in batches of ~2,000 lines
and slices of 50 messages; then the commit's steps: the views' encoding (`View.encoded`),
the changelog records and packs handed to aiokafka's batch builder (`changelog_records`,
`produce_batches`, with a producer that acknowledges at once), the RocksDB write batches
(`write_batches`) and the end of the batch (`View.committed`).

It prints the CPU (`time.process_time`) of each step per line, the values each store
writes a line (and their bytes, key and value), and a digest of everything the databases
hold at the end (key count and sha256 of every key and value in order): two revisions that
store the same bytes print the same digest. `--bundle`, `--distributors` and `--tick`
change the messages' shape (`--tick 500 --distributors 50`: ~10-line messages, as the
latency phase would publish 50 distributors' lines at 10,000 lines/s).

    .venv/bin/python -m bench.batch_path --events 40000
    PYTHONPATH=/tmp/base .venv/bin/python -P -m bench.batch_path   # a base revision, A/B

`-P` (or a working directory outside every checkout) for an A/B: `-m` puts the working
directory first on the path, ahead of PYTHONPATH, and run from a checkout it measures
that checkout's code whatever PYTHONPATH names.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from aiokafka.producer.message_accumulator import BatchBuilder

from bench.common import positive_int
from bench.throughput_latency import ticks
from projections.stores import ChannelStores
from streams.generator import generate_sales, sales_catalog
from streams.kafka.io import kafka_partition_of
from streams.kafka.messages import BUNDLE_EVENTS, bundled, message_of
from streams.runners.processing import GC_THRESHOLD, Input, grouped, process_batch
from streams.worker import state
from streams.worker.app import PRODUCER_BATCH_BYTES, SLICE
from streams.worker.stores import store_views

STEPS = ("process", "encode", "changelog", "write", "end")
MIB = 1024 * 1024


class Databases:
    """What the views use of the state table: a database per partition, the worker's
    options (`StateOptions` where the revision has them)."""

    def __init__(self, root: Path, partitions: int) -> None:
        kind = getattr(state, "StateOptions", state.RocksDBOptions)
        options = kind(
            write_buffer_size=8 * MIB,
            max_write_buffer_number=2,
            block_cache_size=8 * MIB,
            use_rocksdict=True,
        )
        self.dbs = {p: options.open(root / f"state-{p}.db") for p in range(partitions)}
        self.views: list[Any] = []
        self.app = SimpleNamespace(in_recovery=False)

    def held(self) -> dict[int, Any]:
        return dict(self.dbs)

    def db(self, partition: int) -> Any:
        return self.dbs[partition]

    def digest(self) -> str:
        hashed, keys = hashlib.sha256(), 0
        for partition in sorted(self.dbs):
            for key, value in self.dbs[partition].items():
                if key.startswith(b"__faust"):
                    continue
                hashed.update(len(key).to_bytes(4, "big") + key)
                hashed.update(len(value).to_bytes(4, "big") + value)
                keys += 1
        return f"{keys:,} keys, sha256 {hashed.hexdigest()}"

    def close(self) -> None:
        for db in self.dbs.values():
            db.close()


class Producer:
    """aiokafka's batch builder, each batch acknowledged at once."""

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(PRODUCER_BATCH_BYTES, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        acknowledged = asyncio.get_running_loop().create_future()
        acknowledged.set_result(SimpleNamespace(offset=0))
        return acknowledged


@dataclass(frozen=True)
class Shape:
    """How the sales go into messages: the generator's distributors, the most lines a
    message, and `tick` (0: none): lines in the latency phase's ticks of that many
    (`bench/throughput_latency.py`), each tick bundled per distributor."""

    distributors: int = 8
    bundle: int = BUNDLE_EVENTS
    tick: int = 0


def inputs_of(events: int, seed: int, partitions: int, shape: Shape = Shape()) -> list[Input]:
    """The catalog, then the sales as the slice benchmark publishes them (a distributor's
    lines of a day together) or in ticks, each bundle at the next offset of its partition,
    recorded a millisecond after the one before."""
    sales = list(generate_sales(events, seed=seed, distributors=shape.distributors))
    bundles = list(bundled(message_of(e) for e in sales_catalog()))
    if shape.tick:
        timed = sorted(sales, key=lambda e: (e.sold_at, e.distributor_id))
        for tick in ticks(timed, shape.tick):
            bundles += bundled(tick, shape.bundle)
    else:
        daily = sorted(sales, key=lambda e: (e.sold_at.date(), e.distributor_id))
        bundles += bundled((message_of(e) for e in daily), shape.bundle)
    offsets: dict[tuple[str, int], int] = {}
    start = datetime(2026, 12, 1, tzinfo=UTC)
    inputs = []
    for n, bundle in enumerate(bundles):
        key = bundle.key.decode()
        partition = kafka_partition_of(key, partitions)
        offset = offsets.get((bundle.topic, partition), 0)
        offsets[(bundle.topic, partition)] = offset + 1
        recorded = start + timedelta(milliseconds=n)
        inputs.append(Input(bundle.value, key, bundle.topic, partition, offset, recorded))
    return inputs


def route_to(item: Input) -> None:
    """As `WorkerStores.route_to`: the input's partition is where the batch reads and
    writes."""
    state.APPLYING.set(item.partition or 0)


def stored(
    databases: Databases,
    stores: ChannelStores,
    batch: list[Input],
    spent: dict[str, float],
    written: Written,
) -> None:
    """One batch applied and committed as the worker does it, each step's CPU added up, and
    the values and bytes it writes by store prefix (counted outside the steps)."""
    loop = asyncio.new_event_loop()
    clock = time.process_time
    started = clock()
    for part in grouped(batch, SLICE):
        process_batch(stores, part, before_each=route_to)
    marks = [clock()]
    writes: state.Writes = {}
    for view in databases.views:
        view.encoded(writes)
    marks.append(clock())
    packed = tuple(view.prefix for view in databases.views if view.packed)

    async def send() -> dict[int, int]:
        pending = []
        for partition, keyed in writes.items():
            records = state.changelog_records(keyed, packed)
            pending += await state.produce_batches(Producer(), "changelog", partition, records)
        return await state.acknowledged(pending)

    offsets = loop.run_until_complete(send())
    loop.close()
    marks.append(clock())
    offset_marks = {p: (b"__faust\0offset__", str(o).encode()) for p, o in offsets.items()}
    state.write_batches(databases.db, writes, offset_marks)
    marks.append(clock())
    for view in databases.views:
        view.committed()
    state.APPLYING.set(None)
    marks.append(clock())
    for step, begun, ended in zip(STEPS, [started, *marks[:-1]], marks, strict=True):
        spent[step] += ended - begun
    for keyed in writes.values():
        for key, value in keyed.items():
            prefix = key[: key.index(b"|") + 1]
            written.values[prefix] += 1
            written.sizes[prefix] += len(key) + len(value or b"")


class Written:
    """The values a run writes (to the changelog and the databases) and their bytes (key
    and value), by store prefix."""

    def __init__(self) -> None:
        self.values: Counter[bytes] = Counter()
        self.sizes: Counter[bytes] = Counter()

    def per_line(self, lines: int) -> str:
        """The stores that write at least a value in 100 lines, most first: values and
        bytes a line; then the values a line in all."""
        parts = [
            f"{prefix.decode()} {count / lines:.2f} ({self.sizes[prefix] / lines:.0f} B)"
            for prefix, count in self.values.most_common()
            if count / lines >= 0.01
        ]
        return f"{', '.join(parts)}; total {self.values.total() / lines:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="batch_path", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=positive_int, default=40_000, help="default 40000")
    parser.add_argument("--partitions", type=positive_int, default=4, help="default 4")
    parser.add_argument("--batch-size", type=positive_int, default=2000, help="default 2000")
    parser.add_argument("--seed", type=int, default=7, help="default 7")
    parser.add_argument(
        "--distributors", type=positive_int, default=8, help="the sales' distributors (default 8)"
    )
    parser.add_argument(
        "--bundle", type=positive_int, default=BUNDLE_EVENTS, help="lines a message at most"
    )
    parser.add_argument(
        "--tick",
        type=positive_int,
        help="lines in ticks of this many, each tick bundled per distributor, as the latency "
        "phase publishes them (default: a distributor's lines of a day together)",
    )
    args = parser.parse_args(argv)
    gc.set_threshold(*GC_THRESHOLD)
    shape = Shape(args.distributors, args.bundle, args.tick or 0)
    inputs = inputs_of(args.events, args.seed, args.partitions, shape)
    spent = dict.fromkeys(STEPS, 0.0)
    written = Written()
    with tempfile.TemporaryDirectory(prefix="batch-path-") as root:
        databases = Databases(Path(root), args.partitions)
        try:
            views = store_views(cast(Any, databases), args.partitions)
            stores = ChannelStores(**cast(Any, views))
            stores.every_distributor = False  # as the worker's (`WorkerStores`)
            for batch in grouped(inputs, args.batch_size):
                stored(databases, stores, batch, spent, written)
            digest = databases.digest()
        finally:
            databases.close()
    lines = sum(item.weight for item in inputs)
    steps = ", ".join(f"{step} {seconds / lines * 1e6:.1f}" for step, seconds in spent.items())
    total = sum(spent.values()) / lines * 1e6
    sold = [item.weight for item in inputs if item.source == "sales"]
    made = f"{lines:,} lines, {sum(sold) / len(sold):.1f} a sales message"
    print(f"{made}; CPU µs a line: {steps}; total {total:.1f}")
    print(f"values a line, by store: {written.per_line(lines)}")
    print(f"stored: {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
