"""An input whose handler fails half way (a bug) leaves no state at all: every store holds,
byte for byte, what the batch without it leaves, and its dead letter carries its bytes.
In memory (the embedded runner, a replay) and over the worker's views of RocksDB."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import projections.channel
import projections.movement_lines
from projections.keyvalue import DictStore
from projections.party_index import IndexedMasters
from projections.stores import ChannelStores
from schemas.codec import encode_event
from schemas.events import ReportSubmitted, SaleReported
from streams.runners.processing import PROCESSING_ERROR, BatchResult, Input, process_batch
from streams.worker.state import APPLYING, StateTable, Writes, write_batches
from streams.worker.stores import store_layouts, store_views
from tests.unit.test_bundles import (
    NOW,
    as_inputs,
    catalog,
    channel_messages,
    file_lines,
    random_runs,
    sale,
)
from tests.unit.test_properties import count_specs, movement_specs
from tests.unit.test_state_views import Databases

LAYOUTS = store_layouts(1)


def stored(stores: ChannelStores) -> dict[str, list[tuple[str, bytes]]]:
    """Every value of every store, as the worker's changelog encodes it (the reference
    stores, which it does not hold, by their repr), and the masters' blocking index."""
    out: dict[str, list[tuple[str, bytes]]] = {}
    for name, store in vars(stores).items():
        if not isinstance(store, DictStore):
            continue
        layout = LAYOUTS.get(name)
        out[name] = [
            (key, repr(value).encode() if layout is None else orjson.dumps(layout.encode(value)))
            for key, value in store.scan()
        ]
    masters = cast(IndexedMasters, stores.masters)
    index = masters.index
    blocks = {key: sorted(ids) for key, ids in index._blocks.items()}
    out["masters' index"] = [(repr(index._records), repr(sorted(blocks.items())).encode())]
    out["masters by time"] = [("", repr(list(masters._by_time)).encode())]
    return out


def failing_on(monkeypatch: pytest.MonkeyPatch, transaction_id: str) -> None:
    """A bug deep in the sale reducer: the line of `transaction_id` fails once it was
    deduplicated, projected and flagged, just before its claims are looked at."""
    real = projections.movement_lines.sale_arrived

    def sale_arrived(stores: ChannelStores, event: SaleReported, *args: Any) -> Any:
        if event.transaction_id == transaction_id:
            raise RuntimeError(f"planted bug at {transaction_id}")
        return real(stores, event, *args)

    monkeypatch.setattr(projections.movement_lines, "sale_arrived", sale_arrived)


def letters(result: BatchResult) -> list[tuple[Any, ...]]:
    return [(d.reason, d.original, d.offset, d.index) for d in result.dead_letters]


def sales_input(lines: Sequence[bytes], offset: int, positioned: bool) -> Input:
    raw = lines[0] if len(lines) == 1 else b"[" + b",".join(lines) + b"]"
    return Input(raw, None, "sales", 0 if positioned else None, offset)


@pytest.mark.parametrize("positioned", [True, False])
def test_a_bundle_failing_at_its_third_line_leaves_what_the_batch_without_it_leaves(
    monkeypatch: pytest.MonkeyPatch, positioned: bool
) -> None:
    """A bundle of D01's lines then D02's fails at its fourth line: its first lines were
    deduplicated and kept, and (without positions) switching to D02 recorded what the
    run kept of the lines before it. None of it stays: a resent line is new, not a
    duplicate, and the lines before the bundle are recorded once."""
    before = sales_input([sale("T1"), sale("T2", distributor="D02")], 1, positioned)
    failing = sales_input(
        [sale("T3"), sale("T4"), sale("T5", distributor="D02"), sale("T6", distributor="D02")],
        2,
        positioned,
    )
    after = sales_input([sale("T7"), sale("T5", quantity=4, distributor="D02")], 3, positioned)
    resent = sales_input([sale("T3"), sale("T4")], 4, positioned)
    failing_on(monkeypatch, "T6")
    stores = ChannelStores()
    result = process_batch(stores, [catalog(), before, failing, after, resent])
    assert letters(result) == [(PROCESSING_ERROR, failing.raw, 2, None)]
    assert "RuntimeError: planted bug at T6" in result.dead_letters[0].detail
    without = ChannelStores()
    alone = process_batch(without, [catalog(), before, after, resent])
    assert stored(stores) == stored(without)
    assert list(map(repr, result.facts)) == list(map(repr, alone.facts))
    inventory = {key: state.sell_through for key, state in stores.inventory.scan()}
    assert inventory == {"D01|SKU-1": 12, "D02|SKU-1": 7}  # T1, T7, T3, T4; T2, T5 at 4


class PlantedBug:
    """A bug planted in the reducers: the `at`-th write of the input `target` raises, once
    it is made (counted from the input's first event on, the writes its end records
    too). Whether it went off: `fired`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, target: Input, at: int) -> None:
        self.target = target
        self.left = at
        self.current: Input | None = None
        self.armed = False
        self.fired = False
        real_event = projections.channel.apply_event
        real_put = DictStore.put

        def apply_event(stores: ChannelStores, *args: Any) -> Any:
            self.armed = self.current is self.target and not self.fired
            return real_event(stores, *args)

        def put(store: DictStore[Any], key: str, value: Any) -> None:
            real_put(store, key, value)
            if self.armed:
                self.left -= 1
                if self.left == 0:
                    self.armed, self.fired = False, True
                    raise RuntimeError("planted bug")

        monkeypatch.setattr(projections.channel, "apply_event", apply_event)
        monkeypatch.setattr(DictStore, "put", put)

    def before_each(self, item: Input) -> None:
        self.current = item
        self.armed = False


def check_planted(inputs: list[Input], target: int, at: int) -> None:
    """A bug at the `at`-th write of input `target` leaves the stores as the batch without
    that input does (or, when the input makes fewer writes, as the whole batch)."""
    with pytest.MonkeyPatch.context() as patched:
        bug = PlantedBug(patched, inputs[target], at)
        stores = ChannelStores()
        result = process_batch(stores, inputs, before_each=bug.before_each)
        fired = bug.fired
    kept = [item for n, item in enumerate(inputs) if n != target or not fired]
    expected = ChannelStores()
    alone = process_batch(expected, kept)
    assert stored(stores) == stored(expected)
    assert list(map(repr, result.facts)) == list(map(repr, alone.facts))
    failed = [letter for letter in result.dead_letters if letter.reason == PROCESSING_ERROR]
    assert [letter.original for letter in failed] == ([inputs[target].raw] if fired else [])
    others = [letter for letter in result.dead_letters if letter.reason != PROCESSING_ERROR]
    assert [(d.reason, d.original) for d in others] == [
        (d.reason, d.original) for d in alone.dead_letters
    ]


@settings(max_examples=12)
@given(
    st.integers(min_value=0, max_value=2**32),
    st.lists(st.one_of(movement_specs(), count_specs()), max_size=12),
    st.integers(min_value=1, max_value=40),
)
def test_a_bug_anywhere_in_a_files_run_takes_its_input_back_whole(
    seed: int, specs: list[dict[str, Any]], at: int
) -> None:
    """A file's lines (inputs without positions: kept together in a run, recorded when an
    event may read them, possibly in the failing input) with a bug at a random write of
    a random input."""
    rng = random.Random(seed)
    inputs = [
        Input(line, None, "events.jsonl", None, number)
        for number, line in enumerate(file_lines(specs, rng), start=1)
    ]
    check_planted(inputs, rng.randrange(len(inputs)), at)


@settings(max_examples=12)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=60))
def test_a_bug_anywhere_in_a_kafka_batch_takes_its_input_back_whole(seed: int, at: int) -> None:
    """The generated channel as Kafka bundles (at positions), a bug at a random write of a
    random message."""
    rng = random.Random(seed)
    inputs = as_inputs(random_runs(channel_messages(), rng))
    check_planted(inputs, rng.randrange(len(inputs)), at)


# --- the worker: views over RocksDB, written a batch at a time -------------------------


@pytest.fixture
def worker_dbs(tmp_path: Path) -> Iterator[Callable[[str], Databases]]:
    opened: list[Databases] = []

    def open_one(name: str) -> Databases:
        (tmp_path / name).mkdir()
        opened.append(Databases(tmp_path / name))
        return opened[-1]

    yield open_one
    for databases in opened:
        databases.close()


def route_to(item: Input) -> None:
    """As `WorkerStores.route_to`."""
    APPLYING.set(item.partition)


def worker_applied(databases: Databases, batches: list[list[Input]]) -> list[BatchResult]:
    """The batches applied and stored over the worker's state views, as a worker does
    (each batch's writes into the databases; the views go on to the next)."""
    views = store_views(cast(StateTable, databases), 2)
    stores = ChannelStores(**cast(Any, views))
    stores.every_distributor = False
    results = []
    for batch in batches:
        results.append(process_batch(stores, batch, before_each=route_to))
        writes: Writes = {}
        for view in views.values():
            view.encoded(writes)
        write_batches(databases.db, writes)
        for view in views.values():
            view.committed()
        APPLYING.set(None)
    return results


def everything(databases: Databases) -> list[tuple[int, Any, Any]]:
    return [(p, key, value) for p, db in databases.dbs.items() for key, value in db.items()]


def test_the_worker_stores_nothing_of_a_bundle_failing_half_way(
    monkeypatch: pytest.MonkeyPatch, worker_dbs: Callable[[str], Databases]
) -> None:
    """Over the worker's views: the bundle's lines before the bug, read and written in the
    batch (dedup entries, moves kept, values the batch had written already), leave
    nothing in the databases, and a later batch reads them as never written."""
    products = catalog()
    first = [products, sales_input([sale("T1"), sale("T2")], 0, True)]
    failing = sales_input([sale("T1", quantity=5), sale("T3"), sale("T4"), sale("T5")], 1, True)
    second = [failing, sales_input([sale("T6"), sale("T3")], 2, True)]
    third = [sales_input([sale("T3"), sale("T4")], 3, True)]  # T3 a duplicate, T4 new
    failing_on(monkeypatch, "T5")
    bug, plain = worker_dbs("bug"), worker_dbs("plain")
    results = worker_applied(bug, [first, second, third])
    assert letters(results[1]) == [(PROCESSING_ERROR, failing.raw, 1, None)]
    alone = worker_applied(plain, [first, second[1:], third])
    assert everything(bug) == everything(plain)
    assert [list(map(repr, r.facts)) for r in results] == [list(map(repr, r.facts)) for r in alone]
    assert [r.consumed[("sales", "SaleReported", "duplicate")] for r in results] == [0, 0, 1]


def test_an_as_of_replay_forgets_a_late_report_whose_message_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As of a cut, a message holding a report submitted after it (whose lines are then
    left out) and a line that fails: the report is not taken as after the cut, so its
    lines sent later count, as without the message."""
    cut = NOW + timedelta(days=1)
    late = report("R1", submitted_at=cut + timedelta(days=1))
    failing = sales_input([late, sale("T1")], 1, True)
    lines = sales_input([sale("T2", report_id="R1")], 2, True)
    failing_on(monkeypatch, "T1")
    stores = ChannelStores()
    result = process_batch(stores, [catalog(), failing, lines], until=cut)
    assert letters(result) == [(PROCESSING_ERROR, failing.raw, 1, None)]
    assert stores.reports_after_cut == set()
    without = ChannelStores()
    process_batch(without, [catalog(), lines], until=cut)
    assert stored(stores) == stored(without)
    assert [key for key, _ in stores.seen.scan("sale|")] != []  # T2 counted


def report(report_id: str, submitted_at: datetime) -> bytes:
    event = ReportSubmitted(
        event_id=uuid.uuid4(), occurred_at=NOW, source="csv", distributor_id="D01",
        report_id=report_id, period_start=NOW.date(), period_end=NOW.date(), line_count=2,
        submitted_at=submitted_at,
    )  # fmt: skip
    return encode_event(event)
