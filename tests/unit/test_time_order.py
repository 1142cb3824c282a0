"""The worker's broker-time order of a partition's topics (streams/runners/time_order.py)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.runners.processing import Input
from streams.runners.time_order import (
    Behind,
    Fetch,
    Marks,
    Source,
    Standing,
    TimeOrder,
    broker_order,
)
from streams.worker.app import _described

SALES, COUNTS, IDENTITY, GRANTS, PRICES = (
    "t.sales",
    "t.inventory",
    "t.identity",
    "t.claim-grants",
    "t.prices",
)
ORDERED = frozenset({SALES, COUNTS, IDENTITY, GRANTS})
LOGS = frozenset({GRANTS})
START = datetime(2026, 10, 1, tzinfo=UTC)
FOREVER = 1e9


def at(millis: int) -> float:
    """A fetch's time, as the consumer gives it: ms since the epoch."""
    return START.timestamp() * 1000 + millis


def order(wait: float = FOREVER, stall: float = FOREVER) -> TimeOrder:
    return TimeOrder(wait, stall, ORDERED, LOGS)


def message(topic: str, partition: int, offset: int, millis: int) -> Input:
    # as faust gives the broker's timestamp: seconds, a float
    stamp = (START + timedelta(milliseconds=millis)).timestamp()
    recorded = datetime.fromtimestamp(stamp, UTC)
    return Input(b"{}", "d1", topic, partition, offset, recorded)


def key(item: Input) -> tuple[int, bool, str, int, int]:
    millis = round((item.recorded_at - START).total_seconds() * 1000)  # type: ignore[operator]
    return broker_order(millis, item.source, item.partition or 0, item.offset or 0, LOGS)


def source(item: Input) -> Source:
    return (item.source, item.partition or 0)


#: per source, the broker timestamps of its messages (ms, non-decreasing: append time)
histories = st.dictionaries(
    st.tuples(st.sampled_from(sorted(ORDERED)), st.integers(0, 2)),
    st.lists(st.integers(0, 5), min_size=1, max_size=8).map(
        lambda steps: [sum(steps[: i + 1]) for i in range(len(steps))]
    ),
    min_size=1,
    max_size=6,
)


def published(history: dict[Source, list[int]]) -> dict[Source, list[Input]]:
    return {
        (topic, p): [message(topic, p, offset, ms) for offset, ms in enumerate(stamps)]
        for (topic, p), stamps in history.items()
    }


def arrival(logs: dict[Source, list[Input]], rnd: random.Random) -> list[list[Input]]:
    """The messages as faust may hand them over: each source in order, sources interleaved
    at random, in batches of random sizes."""
    heads = {s: list(items) for s, items in logs.items()}
    flat: list[Input] = []
    while heads:
        chosen = rnd.choice(sorted(heads))
        flat.append(heads[chosen].pop(0))
        if not heads[chosen]:
            del heads[chosen]
    batches, at = [], 0
    while at < len(flat):
        size = rnd.randint(1, 5)
        batches.append(flat[at : at + size])
        at += size
    return batches


def behind(*sources: Source, leader: bool = True) -> dict[Source, Standing]:
    return dict.fromkeys(sources, Behind(None, leader))


def unread(
    logs: dict[Source, list[Input]], given: int, batches: list[list[Input]]
) -> dict[Source, Standing]:
    """The sources with messages beyond those in the first `given` batches: behind."""
    seen: dict[Source, int] = {}
    for batch in batches[:given]:
        for item in batch:
            seen[source(item)] = seen.get(source(item), 0) + 1
    return behind(*(s for s, items in logs.items() if seen.get(s, 0) < len(items)))


@settings(max_examples=300)
@given(histories, st.randoms(use_true_random=False))
def test_nothing_missing_gives_broker_time_order_per_partition(
    history: dict[Source, list[int]], rnd: random.Random
) -> None:
    """Each source in order, the sources interleaved anyhow: with the lag known, every
    partition's inputs come out in the replay's order, each once, nothing left held."""
    logs = published(history)
    batches = arrival(logs, rnd)
    timed = order()
    out: list[Input] = []
    for i, batch in enumerate(batches):
        out += timed.take(batch, unread(logs, i + 1, batches), 0.0).inputs
    assert timed.holding() == 0 and timed.due_in(0.0) is None
    assert sorted(out, key=key) == sorted((m for ms in logs.values() for m in ms), key=key)
    for partition in {p for _, p in logs}:
        mine = [item for item in out if item.partition == partition]
        assert mine == sorted(mine, key=key)


@settings(max_examples=300)
@given(histories, st.randoms(use_true_random=False), st.floats(0, 3))
def test_each_source_stays_in_order_whatever_the_lag_and_the_bound(
    history: dict[Source, list[int]], rnd: random.Random, wait: float
) -> None:
    """Lag reported anyhow (even wrongly), holds released by the bound: a source's inputs
    still leave in offset order, each once; once nothing is unread, all have left."""
    logs = published(history)
    timed = order(wait)
    sources = sorted(logs)
    out: list[Input] = []
    for step, batch in enumerate(arrival(logs, rnd)):
        lagging = behind(*(s for s in sources if rnd.random() < 0.5))
        out += timed.take(batch, lagging, float(step)).inputs
    out += timed.take([], {}, FOREVER).inputs
    for s, items in logs.items():
        assert [item for item in out if source(item) == s] == items
    assert len(out) == sum(len(items) for items in logs.values())


def test_equal_timestamps_break_as_the_replay_does() -> None:
    """At one timestamp: the movement topics by name, then partition and offset, and a
    log of caps after them (kafka_replay's heap key is `broker_order` too)."""
    batch = [
        message(GRANTS, 0, 0, 10),
        message(SALES, 0, 1, 10),
        message(SALES, 0, 0, 10),
        message(COUNTS, 0, 0, 10),
        message(IDENTITY, 0, 0, 9),
    ]
    got = order().take(batch, {}, 0.0).inputs
    assert [(i.source, i.offset) for i in got] == [
        (IDENTITY, 0),
        (COUNTS, 0),
        (SALES, 0),
        (SALES, 1),
        (GRANTS, 0),
    ]


def test_a_topic_behind_holds_its_partition_only() -> None:
    timed = order()
    sale, other = message(SALES, 0, 0, 50), message(SALES, 1, 0, 50)
    got = timed.take([sale, other], behind((COUNTS, 0)), 0.0)
    assert got.inputs == [other] and timed.holding() == 1
    count = message(COUNTS, 0, 0, 20)
    assert timed.take([count], {}, 0.1).inputs == [count, sale]
    assert timed.holding() == 0


def test_a_topic_behind_is_waited_for_however_long_it_takes() -> None:
    """Known lag, or not fetched since assigned: its data is on the broker and will come,
    so the bound does not release past it (Kafka Streams since KIP-695)."""
    timed = order(wait=1.0)
    sale = message(SALES, 0, 0, 50)
    assert timed.take([sale], behind((COUNTS, 0)), 10.0).inputs == []
    for now in (11.0, 100.0, 1000.0):
        released = timed.take([], {(COUNTS, 0): Behind(3)}, now)
        assert released.inputs == [] and released.expired == () and released.stalled == ()
        assert timed.due_in(now) == 1.0  # looked at again, no busy loop
    assert timed.held_for(1000.0) == 990.0 and timed.waiting == {(COUNTS, 0)}
    count = message(COUNTS, 0, 0, 20)
    assert timed.take([count], {(COUNTS, 0): at(60)}, 1000.5).inputs == [count, sale]
    assert timed.held_for(1000.5) == 0.0 and timed.waiting == set()


def test_a_caught_up_topic_holds_up_to_the_bound() -> None:
    """Nothing unread in the counts, last fetched at 40 ms: a sale at 50 waits for the next
    fetch up to the bound, then goes (a count appended meanwhile would come after it)."""
    timed = order(wait=1.0)
    sale = message(SALES, 0, 0, 50)
    caught_up = {(COUNTS, 0): at(40)}
    assert timed.take([sale], caught_up, 10.0).inputs == []
    assert timed.due_in(10.25) == 0.75
    assert timed.take([], caught_up, 10.5).inputs == []
    released = timed.take([], caught_up, 11.0)
    assert released.inputs == [sale] and released.expired == (0,) and released.stalled == ()
    assert timed.due_in(11.0) is None


def test_the_bound_runs_once_no_topic_behind_stops_the_group() -> None:
    timed = order(wait=1.0)
    sale = message(SALES, 0, 0, 50)
    both: dict[Source, Standing] = {(COUNTS, 0): Behind(2), (IDENTITY, 0): at(40)}
    assert timed.take([sale], both, 0.0).inputs == []
    assert timed.take([], both, 5.0).inputs == []
    count = message(COUNTS, 0, 0, 55)  # the counts caught up: the identity stops the sale
    caught_up: dict[Source, Standing] = {(COUNTS, 0): at(60), (IDENTITY, 0): at(40)}
    assert timed.take([count], caught_up, 5.5).inputs == []
    released = timed.take([], caught_up, 6.0)
    assert released.inputs == [sale, count] and released.expired == (0,)


def test_a_topic_behind_without_a_leader_is_passed_after_the_stall_bound() -> None:
    """The liveness valve: nothing can be fetched from a partition without a leader."""
    timed = order(wait=1.0, stall=30.0)
    sale, other = message(SALES, 0, 0, 50), message(SALES, 1, 0, 50)
    assert timed.take([sale], behind((COUNTS, 0), leader=False), 0.0).inputs == []
    assert timed.take([], behind((COUNTS, 0), leader=False), 29.0).inputs == []
    assert timed.take([], behind((COUNTS, 0)), 40.0).inputs == []  # a leader again: waits
    assert timed.take([other], behind((COUNTS, 0), leader=False), 41.0).inputs == [other]
    assert timed.take([], behind((COUNTS, 0), leader=False), 70.0).inputs == []
    released = timed.take([], behind((COUNTS, 0), leader=False), 71.0)
    assert released.inputs == [sale] and released.stalled == ((COUNTS, 0),)
    assert released.expired == ()


def test_no_wait_releases_every_hold_at_once() -> None:
    """0: each batch in broker-time order within itself, nothing held."""
    timed = order(wait=0.0)
    sale, count = message(SALES, 0, 0, 50), message(COUNTS, 0, 0, 60)
    released = timed.take([count, sale], behind((IDENTITY, 0)), 0.0)
    assert released.inputs == [sale, count] and released.expired == (0,)
    assert released.stalled == () and timed.holding() == 0


def test_release_in_order_restarts_the_wait() -> None:
    timed = order(wait=1.0)
    first, second = message(SALES, 0, 0, 50), message(SALES, 0, 1, 80)
    count = message(COUNTS, 0, 0, 60)
    assert timed.take([first, second], behind((COUNTS, 0)), 0.0).inputs == []
    released = timed.take([count], behind((COUNTS, 0)), 0.5)  # the count: more of it unread
    assert released.inputs == [first, count] and released.expired == ()
    assert timed.due_in(0.5) == 1.0


def test_reference_data_passes_first_and_a_rebalance_drops_what_is_held() -> None:
    timed = order()
    price, sale = message(PRICES, 0, 0, 90), message(SALES, 0, 0, 10)
    assert timed.take([sale, price], behind((COUNTS, 0)), 0.0).inputs == [price]
    timed.drop()
    assert timed.holding() == 0 and timed.due_in(0.0) is None
    assert timed.take([], {}, 0.0).inputs == []


def test_an_input_given_again_is_applied_once_in_its_place() -> None:
    """Inputs left unapplied by a rebalance are given again with what is held since."""
    timed = order()
    a, b = message(SALES, 0, 0, 10), message(SALES, 0, 1, 20)
    assert timed.take([a, b], {}, 0.0).inputs == [a, b]
    timed.take([message(SALES, 0, 2, 30)], behind((SALES, 0), (COUNTS, 0)), 0.0)
    got = timed.take([b, b], {}, 0.0).inputs
    assert [i.offset for i in got] == [1, 2]


def test_a_caught_up_topic_holds_what_is_stamped_after_its_last_fetch() -> None:
    """The counts were last fetched at 40 ms with nothing more: a sale stamped at 30 passes,
    one at 50 waits, since a count appended at 45 may not have been fetched yet; a fetch at
    60 that finds none releases it, with no new input."""
    timed = order()
    early, late = message(SALES, 0, 0, 30), message(SALES, 0, 1, 50)
    assert timed.take([early, late], {(COUNTS, 0): at(40)}, 0.0).inputs == [early]
    assert timed.take([], {(COUNTS, 0): at(45)}, 0.1).inputs == []
    count = message(COUNTS, 0, 0, 45)
    assert timed.take([count], {(COUNTS, 0): at(46)}, 0.2).inputs == [count]
    assert timed.take([], {(COUNTS, 0): at(60)}, 0.3).inputs == [late]


def drained_in_order(
    timed: TimeOrder,
    logs: dict[Source, list[Input]],
    handed: dict[Source, int],
    final: float,
    out: list[Input],
) -> None:
    """The rest of each log handed over with every source caught up at `final`: nothing is
    left held, every input came out once, each partition's in the replay's order."""
    rest = [item for s, items in logs.items() for item in items[handed[s] :]]
    out += timed.take(rest, dict.fromkeys(logs, final), 0.0).inputs
    assert timed.holding() == 0
    assert sorted(out, key=key) == sorted((m for ms in logs.values() for m in ms), key=key)
    for partition in {p for _, p in logs}:
        mine = [item for item in out if item.partition == partition]
        assert mine == sorted(mine, key=key)


@settings(max_examples=400)
@given(histories, st.randoms(use_true_random=False))
def test_fetches_at_any_time_give_broker_time_order_per_partition(
    history: dict[Source, list[int]], rnd: random.Random
) -> None:
    """Messages appended over time, each source fetched now and then (a fetch at t hands
    over what was appended before t, or only part of it, and says so by the high
    watermark): every partition's inputs come out in the replay's order, each once."""
    logs = published(history)
    handed = dict.fromkeys(logs, 0)
    horizons: dict[Source, Standing] = behind(*logs)  # not fetched yet
    timed = order()
    out: list[Input] = []
    for now in range(max(m for ms in history.values() for m in ms) + 2):
        batch = []
        for s, items in logs.items():
            if rnd.random() < 0.4:  # fetched at `now`
                appended = sum(1 for item in items if key(item)[0] < now)
                upto = rnd.randint(handed[s], appended) if rnd.random() < 0.3 else appended
                batch += items[handed[s] : upto]
                handed[s] = upto
                horizons[s] = at(now) if upto == appended else Behind(appended - upto)
        out += timed.take(batch, horizons, 0.0).inputs
    final = max(m for ms in history.values() for m in ms) + 2
    drained_in_order(timed, logs, handed, at(final), out)


def test_marks_give_the_last_fetch_whose_end_was_reached_as_the_horizon() -> None:
    """A fetch at 40 ms ended at offset 3, reached: 40 is the horizon. A transaction opens at
    offset 3 (the high watermark 5 at 50, 7 at 60): records up to offset 4 were appended
    before 50, so the horizon stays at 40 until offset 5 is reached, then moves to 50; a
    next offset taken back before an end makes that horizon unknown."""
    marks = Marks().seen(Fetch(at(40), 3), 3)
    assert marks.horizon(3) == at(40)
    marks = marks.seen(Fetch(at(50), 5), 3).seen(Fetch(at(60), 7), 3)
    assert marks.horizon(3) == at(40)
    marks = marks.seen(Fetch(at(70), 7), 5)
    assert marks.horizon(5) == at(50) and marks.pending == Fetch(at(70), 7)
    assert marks.horizon(4) == -math.inf
    assert Marks().horizon(0) == -math.inf


def test_an_open_transaction_holds_what_is_stamped_after_its_horizon() -> None:
    """The counts read to their last stable offset, a transaction open beyond it, nothing
    of it stamped before 40: a sale at 30 passes, one at 50 waits however long it takes
    (the transaction's records are on the broker and come when it ends)."""
    timed = order(wait=1.0)
    early, late = message(SALES, 0, 0, 30), message(SALES, 0, 1, 50)
    open_ = {(COUNTS, 0): Behind(2, horizon=at(40), uncommitted=True)}
    assert timed.take([early, late], open_, 0.0).inputs == [early]
    released = timed.take([], open_, 100.0)
    assert released.inputs == [] and released.expired == ()
    counts = [message(COUNTS, 0, 0, 45), message(COUNTS, 0, 1, 46)]
    assert timed.take(counts, {(COUNTS, 0): at(60)}, 100.5).inputs == [*counts, late]


@settings(max_examples=400)
@given(histories, st.randoms(use_true_random=False))
def test_open_transactions_give_broker_time_order_per_partition(
    history: dict[Source, list[int]], rnd: random.Random
) -> None:
    """As above, with some messages in transactions committed a few ms after they were
    appended: a fetch hands over what is committed up to the first record still open (the
    last stable offset) and says how far the log goes (the high watermark); each source's
    standing is the worker's, from its `Marks`. Every partition's inputs come out in the
    replay's order, each once."""
    logs = published(history)
    committed = {
        s: [key(item)[0] + rnd.choice((0, 0, 0, 2, 5)) for item in items]
        for s, items in logs.items()
    }
    handed = dict.fromkeys(logs, 0)
    marks = dict.fromkeys(logs, Marks())
    standings: dict[Source, Standing] = behind(*logs)
    timed = order()
    out: list[Input] = []
    final = max(m for ms in history.values() for m in ms) + 8
    for now in range(final):
        batch = []
        for s, items in logs.items():
            if rnd.random() < 0.4:  # fetched at `now`
                highwater = sum(1 for item in items if key(item)[0] < now)
                stable = next((n for n in range(highwater) if committed[s][n] >= now), highwater)
                batch += items[handed[s] : stable]
                handed[s] = stable
                marks[s] = marks[s].seen(Fetch(at(now), highwater), stable)
                standings[s] = (
                    at(now)
                    if highwater == stable
                    else Behind(highwater - stable, True, marks[s].horizon(stable), True)
                )
        out += timed.take(batch, standings, 0.0).inputs
    drained_in_order(timed, logs, handed, at(final), out)


def test_a_hold_names_each_topic_it_waits_for_and_why() -> None:
    standings: dict[Source, Standing] = {
        (SALES, 0): at(100),
        (COUNTS, 0): Behind(12),
        (IDENTITY, 0): Behind(None),
        (GRANTS, 0): Behind(3, leader=False),
        (SALES, 1): Behind(4, horizon=at(90), uncommitted=True),
    }
    assert _described(sorted(standings), standings, at(350)) == [
        "t.claim-grants:0 behind by 3, no leader",
        "t.identity:0 not fetched since assigned or resumed",
        "t.inventory:0 behind by 12",
        "t.sales:0 fetched 250 ms before",
        "t.sales:1 4 records of a transaction still open",
    ]


@settings(max_examples=300)
@given(histories, st.randoms(use_true_random=False), st.floats(0.001, 3))
def test_nothing_behind_is_passed_whatever_the_bound(
    history: dict[Source, list[int]], rnd: random.Random, wait: float
) -> None:
    """Every source eventually delivers and says truly whether it has more: whatever the
    bound and however long between batches, every partition's inputs come out in the
    replay's order, each once."""
    logs = published(history)
    batches = arrival(logs, rnd)
    timed = order(wait, stall=wait)
    out: list[Input] = []
    now = 0.0
    for i, batch in enumerate(batches):
        now += rnd.choice([0.0, 0.01, wait, 10 * wait])
        out += timed.take(batch, unread(logs, i + 1, batches), now).inputs
    assert timed.holding() == 0
    assert sorted(out, key=key) == sorted((m for ms in logs.values() for m in ms), key=key)
    for partition in {p for _, p in logs}:
        mine = [item for item in out if item.partition == partition]
        assert mine == sorted(mine, key=key)
