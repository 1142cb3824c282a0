"""Bundles: a message that carries many events is applied as its events one by one would be,
each judged on its own, each at a position of its own."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.keyvalue import DictStore
from projections.snapshot import build_snapshot
from projections.stores import ChannelStores
from schemas.codec import MAX_BUNDLE, bundle_bytes, bundle_elements, encode_event
from schemas.events import ProductDefined, SaleReported
from streams.generator import generate_channel
from streams.kafka.messages import BUNDLE_BYTES, BUNDLE_EVENTS, Message, bundled, message_of
from streams.metrics import REGISTRY
from streams.runners.processing import BatchResult, Input, process_batch
from tests.unit.test_properties import build_all, count_specs, movement_specs

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@cache
def channel_messages() -> tuple[Message, ...]:
    return tuple(message_of(e) for e in generate_channel(seed=3, weeks=3))


def as_inputs(runs: Iterable[Sequence[Message]], positioned: bool = True) -> list[Input]:
    """Each run as one message (a bundle when it holds several), numbered per topic (or,
    not `positioned`, as from a file: without positions)."""
    offsets: dict[str, int] = {}
    inputs = []
    for run in runs:
        topic = run[0].topic
        offset = offsets[topic] = offsets.get(topic, -1) + 1
        value = run[0].value if len(run) == 1 else bundle_bytes([m.value for m in run])
        partition, at = (0, offset) if positioned else (None, None)
        inputs.append(Input(value, run[0].key.decode(), topic, partition, at, NOW))
    return inputs


def contents(stores: ChannelStores) -> dict[str, list[tuple[str, object]]]:
    """Every stored value, store by store."""
    return {
        name: list(store.scan())
        for name, store in vars(stores).items()
        if isinstance(store, DictStore)
    }


def applied(inputs: Iterable[Input]) -> tuple[ChannelStores, BatchResult]:
    stores = ChannelStores()
    return stores, process_batch(stores, inputs)


def random_runs(messages: Sequence[Message], rng: random.Random) -> list[list[Message]]:
    """Consecutive messages of one topic and key cut into runs of random length."""
    runs: list[list[Message]] = []
    for message in messages:
        last = runs[-1] if runs else None
        same = last is not None and (last[0].topic, last[0].key) == (message.topic, message.key)
        if same and last is not None and rng.random() < 0.8:
            last.append(message)
        else:
            runs.append([message])
    return runs


@settings(max_examples=8)
@given(st.integers(min_value=0, max_value=2**32))
def test_bundled_or_one_by_one_the_channel_is_the_same(seed: int) -> None:
    rng = random.Random(seed)
    messages = channel_messages()
    one_by_one, alone = applied(as_inputs([m] for m in messages))
    runs = random_runs(messages, rng)
    assert any(len(run) > 1 for run in runs)
    bundled_stores, together = applied(as_inputs(runs))
    assert build_snapshot(bundled_stores) == build_snapshot(one_by_one)
    assert sorted(map(repr, together.facts)) == sorted(map(repr, alone.facts))
    assert together.consumed == alone.consumed
    # without positions (which differ: a bundle's events share its offset) every value
    # stored is the same
    unpositioned = contents(applied(as_inputs(runs, positioned=False))[0])
    assert unpositioned == contents(applied(as_inputs(([m] for m in messages), False))[0])


def sale(txn: str, quantity: int = 3, distributor: str = "D01", **changes: object) -> bytes:
    event = SaleReported(
        event_id=uuid.uuid4(), occurred_at=NOW, source="kafka", distributor_id=distributor,
        transaction_id=txn, reseller_id="R1", sku="SKU-1", quantity=quantity,
        unit_price=Decimal("10.00"), currency="USD", sold_at=NOW,
    )  # fmt: skip
    data = orjson.loads(encode_event(event))
    data.update(changes)
    return orjson.dumps(data)


def catalog() -> Input:
    product = ProductDefined(
        event_id=uuid.uuid4(), occurred_at=NOW, source="erp", sku="SKU-1", base_unit="EA"
    )
    return Input(encode_event(product), "SKU-1", "t.products", 0, 0, NOW)


def sales(raw: bytes, offset: int = 0) -> Input:
    return Input(raw, "D01", "t.sales", 0, offset, NOW)


def quality(stores: ChannelStores) -> dict[str, object]:
    """D01's counts."""
    (row,) = [r for r in build_snapshot(stores)["quality"] if r["distributor_id"] == "D01"]
    return dict(row)


def test_a_bad_event_of_a_bundle_is_dead_lettered_alone_with_its_own_bytes_and_index() -> None:
    good = [sale("T1"), sale("T2")]
    bad = [
        b'{"event_type": "SaleReported",  "sku": "SKU-1"}',  # spaces kept as sent
        sale("T3", distributor="D02"),  # under D01's key
        sale("T4", sold_at="2062-08-18T00:00:00Z"),
    ]
    raw = b"[" + b",\n ".join([good[0], bad[0], bad[1], good[1], bad[2]]) + b"]"
    stores, result = applied([catalog(), sales(raw)])
    letters = [(d.index, d.reason, d.original) for d in result.dead_letters]
    assert letters == [
        (1, "schema_violation", bad[0]),
        (2, "wrong_message_key", bad[1]),
        (4, "future_date", bad[2]),
    ]
    assert all(d.offset == 0 and d.partition == 0 for d in result.dead_letters)
    counts = quality(stores)
    assert counts["accepted"] == 2
    assert counts["rejected_by_reason"] == {"future_date": 1, "schema_violation": 1}
    (row,) = build_snapshot(stores)["inventory"]
    assert row["sell_through"] == 6


def test_a_bundle_delivered_again_changes_nothing_and_a_repeat_within_it_is_a_duplicate() -> None:
    first = sale("T1")
    repeat = orjson.loads(first)
    repeat["event_id"] = str(uuid.uuid4())  # the same line sent again in the same report
    bundle = bundle_bytes([first, sale("T2", 4), orjson.dumps(repeat)])
    stores = ChannelStores()
    process_batch(stores, [catalog(), sales(bundle)])
    before = build_snapshot(stores)
    assert (quality(stores)["accepted"], quality(stores)["duplicates"]) == (2, 1)
    again = process_batch(stores, [sales(bundle)])  # redelivered after a crash: same offset
    assert build_snapshot(stores) == before
    assert not again.dead_letters
    process_batch(stores, [sales(bundle, offset=1)])  # the producer sent it twice
    assert build_snapshot(stores)["inventory"] == before["inventory"]


def test_a_bundle_read_again_once_stored_is_counted_once() -> None:
    """A worker reads a bundle again after its effects were stored (a restart, a rewind):
    its lines are applied without effect and counted once, the message as redelivered, and
    its bad line is not dead-lettered again."""
    topic = "count-once.sales"
    late = sale("T3", sold_at="2062-08-18T00:00:00Z")
    message = Input(bundle_bytes([sale("T1"), sale("T2", 4), late]), "D01", topic, 0, 5, NOW)
    checkpoint = {f"{topic}:0": -1}  # the worker's: the last offset whose effects are stored

    def stored(item: Input) -> bool:
        return item.offset is not None and item.offset <= checkpoint[f"{topic}:0"]

    def counted() -> tuple[float, float, float, float]:
        accepted = {"topic": topic, "event_type": "SaleReported", "verdict": "accepted"}
        return (
            REGISTRY.get_sample_value("channelflow_events_consumed_total", accepted) or 0.0,
            REGISTRY.get_sample_value("channelflow_dead_letters_total", {"reason": "future_date"})
            or 0.0,
            REGISTRY.get_sample_value("channelflow_messages_redelivered_total", {"topic": topic})
            or 0.0,
            REGISTRY.get_sample_value(
                "channelflow_ingest_to_projection_seconds_count", {"topic": topic}
            )
            or 0.0,
        )

    stores = ChannelStores()
    process_batch(stores, [catalog()])
    before = counted()
    first = process_batch(stores, [message], stored=stored)
    first.count()
    checkpoint[f"{topic}:0"] = 5  # stored
    snapshot = build_snapshot(stores)
    again = process_batch(stores, [message], stored=stored)
    again.count()
    assert build_snapshot(stores) == snapshot
    assert (len(first.dead_letters), first.recorded) == (1, Counter({(topic, NOW): 2}))
    assert (again.consumed, again.dead_letters, again.recorded) == (Counter(), [], Counter())
    assert again.redelivered == Counter({topic: 1}) and again.applied == 1
    after = counted()
    # the two lines accepted, their latency observed once for both (the bundle's stamp)
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1, 2]


def test_an_empty_or_oversized_bundle_is_refused_whole() -> None:
    too_many = bundle_bytes([sale(f"T{n}") for n in range(MAX_BUNDLE + 1)])
    stores, result = applied([catalog(), sales(b"[]"), sales(too_many, 1)])
    assert [(d.reason, d.index, d.original) for d in result.dead_letters] == [
        ("invalid_bundle", None, b"[]"),
        ("invalid_bundle", None, too_many),
    ]
    assert "at most 1000 events; this one holds 1001" in result.dead_letters[1].detail
    assert not build_snapshot(stores)["inventory"]


def test_a_dead_letter_the_worker_judges_names_where_the_line_was_read() -> None:
    unknown = sale("T1", sku="SKU-404", source_ref="w14.edi 867 R-17 segment 20")
    changed = sale("T2", quantity=4, source_ref="w15.csv:3")
    bare = sale("T3", sku="SKU-404")  # no source_ref: the detail alone
    _, result = applied([catalog(), sales(bundle_bytes([unknown, sale("T2"), changed, bare]), 1)])
    assert [(d.reason, d.detail) for d in result.dead_letters] == [
        ("unknown_sku", "w14.edi 867 R-17 segment 20: sku: 'SKU-404' is not a known SKU, "
         "UPC or part number"),
        ("conflicting_duplicate", "w15.csv:3: transaction_id 'T2' was accepted before with "
         "other content (the first stands): a new sale needs a transaction_id of its own"),
        ("unknown_sku", "sku: 'SKU-404' is not a known SKU, UPC or part number"),
    ]  # fmt: skip


def test_publishers_bundle_runs_of_one_topic_and_key_in_order_within_the_limits() -> None:
    def message(key: str, n: int, size: int = 10) -> Message:
        return Message("sales", key.encode(), b"x" * size + str(n).encode(), "SaleReported")

    runs = [message("D1", n) for n in range(BUNDLE_EVENTS + 3)]
    messages = [*runs, message("D2", 0), message("D1", 999)]
    bundles = list(bundled(messages))
    assert [(b.key, len(b.members)) for b in bundles] == [
        (b"D1", BUNDLE_EVENTS), (b"D1", 3), (b"D2", 1), (b"D1", 1),
    ]  # fmt: skip
    assert [m for b in bundles for m in b.members] == messages
    assert bundles[2].value == messages[-2].value  # one event goes as itself
    large = [message("D1", n, size=BUNDLE_BYTES // 3) for n in range(7)]
    assert [len(b.members) for b in bundled(large)] == [2, 2, 2, 1]
    assert all(len(b.value) <= BUNDLE_BYTES for b in bundled(large))


def file_lines(specs: list[dict[str, Any]], rng: random.Random) -> list[bytes]:
    """A generated channel's events as a file's lines, with the drawn movements and
    counts (two distributors, colliding keys) mixed in at random, a few lines resent,
    unreadable or not an event, and some runs of movements bundled (mostly one
    distributor's)."""
    lines = [m.value for m in channel_messages()]
    for event in build_all(specs):
        lines.insert(rng.randrange(len(lines) + 1), encode_event(event))
    for _ in range(rng.randrange(4)):
        odd = rng.choice([b"{not json", b'{"event_type": "SaleReported"}', b"[]"])
        lines.insert(rng.randrange(len(lines) + 1), rng.choice([odd, rng.choice(lines)]))
    groups: list[tuple[str | None, list[bytes]]] = []
    for line in lines:
        mover = _mover(line)
        last = groups[-1][0] if groups else None
        # now and then a bundle of several distributors' lines
        together = last == mover or rng.random() < 0.1
        if mover is not None and last is not None and together and rng.random() < 0.3:
            groups[-1][1].append(line)
        else:
            groups.append((mover, [line]))
    return [run[0] if len(run) == 1 else bundle_bytes(run) for _, run in groups]


def _mover(line: bytes) -> str | None:
    """The distributor and type of a movement line (what a bundle holds one of)."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict) or event.get("event_type") not in MOVEMENTS:
        return None
    return f"{event['event_type']}|{event.get('distributor_id')}"


MOVEMENTS = {"SaleReported", "ShipmentRecorded"}


@settings(max_examples=25)
@given(
    st.integers(min_value=0, max_value=2**32),
    st.lists(st.one_of(movement_specs(), count_specs()), max_size=30),
    st.booleans(),
)
def test_a_files_lines_in_one_run_or_message_by_message_the_channel_is_the_same(
    seed: int, specs: list[dict[str, Any]], as_of: bool
) -> None:
    """A run of inputs without positions (a file replay's lines) keeps each distributor's
    moves and counts and records them together; applied message by message (a batch
    each, as before) every store holds the same, with the same facts, counts and dead
    letters (each at its own line); and so it does applied event by event."""
    rng = random.Random(seed)
    inputs = [
        Input(line, None, "events.jsonl", None, number)
        for number, line in enumerate(file_lines(specs, rng), start=1)
    ]
    until = datetime(2026, 7, 12, tzinfo=UTC) if as_of else None
    run_stores = ChannelStores()
    together = process_batch(run_stores, inputs, until)
    one_stores = ChannelStores()
    alone = [process_batch(one_stores, [item], until) for item in inputs]
    assert contents(run_stores) == contents(one_stores)
    assert build_snapshot(run_stores, until) == build_snapshot(one_stores, until)
    assert list(map(repr, together.facts)) == [repr(f) for r in alone for f in r.facts]
    assert together.consumed == sum((r.consumed for r in alone), Counter())
    assert together.applied == len(inputs)

    def letters(result: list[BatchResult]) -> list[tuple[Any, ...]]:
        return [(d.offset, d.index, d.reason, d.original) for r in result for d in r.dead_letters]

    assert letters([together]) == letters(alone)
    each_stores = ChannelStores()
    for item in inputs:
        for event in _events_of(item.raw):
            process_batch(each_stores, [Input(event, None, item.source, None, item.offset)], until)
    assert contents(each_stores) == contents(run_stores)


def _events_of(line: bytes) -> list[bytes]:
    """A bundle's events as sent, or the line itself."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return [line]
    return bundle_elements(line) if isinstance(value, list) and value else [line]
