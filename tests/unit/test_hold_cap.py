"""The cap on what the broker-time order holds per topic partition (streams/runners/hold_cap.py)."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.runners.hold_cap import Fetching, fetching
from streams.runners.processing import Input
from streams.runners.time_order import Behind, Source, Standing
from tests.unit.test_time_order import COUNTS, SALES, histories, key, message, order, published

A, B, C = (SALES, 0), (COUNTS, 0), (SALES, 1)


def test_a_partition_past_the_cap_is_paused_and_resumed_once_back_at_it() -> None:
    assert fetching({A: 11, B: 10}, [], [], 10) == Fetching(pause=frozenset({A}))
    assert fetching({A: 12}, [], [A], 10) == Fetching()
    assert fetching({A: 10}, [], [A], 10) == Fetching(resume=frozenset({A}))
    # a partition paused that holds nothing any more (released past what it waited for)
    assert fetching({}, [], [A, C], 10) == Fetching(resume=frozenset({A, C}))


def test_a_partition_waited_for_is_never_paused() -> None:
    assert fetching({A: 50, B: 50}, [B], [], 10) == Fetching(pause=frozenset({A}))
    assert fetching({B: 50}, [B], [B], 10) == Fetching(resume=frozenset({B}))


def test_the_order_counts_what_it_holds_in_events_by_partition() -> None:
    timed = order()
    bundle = replace(message(SALES, 0, 1, 20), raw=b'[{"event_type":"a"},{"event_type":"b"}]')
    single = message(SALES, 1, 0, 20)
    waiting: dict[Source, Standing] = {B: Behind(3), (COUNTS, 1): Behind(None)}
    timed.take([bundle, single], waiting, 0.0)
    assert timed.held_events() == {A: 2, C: 1}


@settings(max_examples=300)
@given(histories, st.randoms(use_true_random=False), st.integers(1, 4))
def test_paused_fetching_never_stops_the_order(
    history: dict[Source, list[int]], rnd: random.Random, cap: int
) -> None:
    """Each source fetched now and then unless paused, the cap applied after every batch:
    a source waited for is never paused, every partition's inputs come out in the replay's
    order, each once, and once nothing is held nothing stays paused. A source holds at most
    the cap and one fetch more."""
    logs = published(history)
    handed = dict.fromkeys(logs, 0)
    timed, paused = order(), set[Source]()
    out: list[Input] = []
    for _ in range(1000):
        batch = []
        for s, items in logs.items():
            if s not in paused and handed[s] < len(items) and rnd.random() < 0.5:
                upto = min(len(items), handed[s] + rnd.randint(1, 3))
                batch += items[handed[s] : upto]
                handed[s] = upto
        standings: dict[Source, Standing] = {
            s: Behind(len(items) - handed[s]) if handed[s] < len(items) else 1e15
            for s, items in logs.items()
        }
        out += timed.take(batch, standings, 0.0).inputs
        held = timed.held_events()
        assert all(events <= cap + 3 for events in held.values())
        change = fetching(held, timed.waiting, paused, cap)
        assert not change.pause & timed.waiting
        paused = (paused | change.pause) - change.resume
        if all(handed[s] == len(items) for s, items in logs.items()) and not timed.holding():
            break
    assert timed.holding() == 0 and not paused
    assert sorted(out, key=key) == sorted((m for ms in logs.values() for m in ms), key=key)
    for partition in {p for _, p in logs}:
        mine = [item for item in out if item.partition == partition]
        assert mine == sorted(mine, key=key)
