"""Sync points: a batch is applied only once the reference replica has read every reference
record appended before the batch was received, at the cost of at most one end-offsets
query per batch."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from streams.kafka.sync_points import SyncPoints

PARTITIONS = ("prices:0", "prices:1", "rates:0")


def test_a_batch_waits_for_a_query_issued_after_it_was_received():
    sync: SyncPoints[str] = SyncPoints()
    moment = sync.moment()
    assert not sync.satisfied(moment)
    assert not sync.due()  # nobody waits yet
    sync.want(moment)
    assert sync.due()
    query = sync.issue()
    assert not sync.due()  # one query serves every batch received before it was issued
    sync.answered(query, {"prices:0": 3})
    assert not sync.advance({"prices:0": 2})
    assert not sync.satisfied(moment)
    assert sync.behind({"prices:0": 2}) == 1
    assert sync.advance({"prices:0": 3})
    assert sync.satisfied(moment)
    assert sync.behind({"prices:0": 3}) == 0


def test_a_query_in_flight_does_not_serve_a_batch_received_after_it_was_issued():
    sync: SyncPoints[str] = SyncPoints()
    sync.want(sync.moment())
    first = sync.issue()
    later = sync.moment()  # received while the first query is on its way
    sync.want(later)
    sync.answered(first, {"prices:0": 1})
    assert sync.advance({"prices:0": 1})
    assert not sync.satisfied(later)
    assert sync.due()  # the next query, for it
    second = sync.issue()
    sync.answered(second, {"prices:0": 5})
    assert not sync.advance({"prices:0": 4})
    assert sync.advance({"prices:0": 5}) and sync.satisfied(later)


def test_an_empty_topic_is_reached_at_once():
    sync: SyncPoints[str] = SyncPoints()
    moment = sync.moment()
    sync.want(moment)
    sync.answered(sync.issue(), {"prices:0": 0, "rates:0": 0})
    assert sync.advance({}) and sync.satisfied(moment)


@dataclass
class Broker:
    """The reference partitions, the replica reading them, and the batches received."""

    sync: SyncPoints[str] = field(default_factory=SyncPoints)
    ends: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PARTITIONS, 0))
    positions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PARTITIONS, 0))
    #: (moment, the end offsets when the batch was received)
    batches: list[tuple[int, dict[str, int]]] = field(default_factory=list)
    in_flight: int | None = None
    queries: int = 0

    def step(self, op: str, partition: str) -> None:
        if op == "append":
            self.ends[partition] += 1
        elif op == "read" and self.positions[partition] < self.ends[partition]:
            self.positions[partition] += 1
            self.sync.advance(self.positions)
        elif op == "receive":
            moment = self.sync.moment()
            self.batches.append((moment, dict(self.ends)))
            self.sync.want(moment)
        elif op == "issue" and self.in_flight is None and self.sync.due():
            self.in_flight = self.sync.issue()
            self.queries += 1
        elif op == "answer" and self.in_flight is not None:
            # answered later than issued: it may include what was appended in between
            self.sync.answered(self.in_flight, dict(self.ends))
            self.in_flight = None
            self.sync.advance(self.positions)

    def settle(self) -> None:
        """Everything read, every query wanted issued and answered."""
        while True:
            self.positions = dict(self.ends)
            self.step("answer", "")
            self.step("issue", "")
            if self.in_flight is None:
                self.sync.advance(self.positions)
                return


OPS = st.lists(
    st.tuples(
        st.sampled_from(("append", "read", "receive", "issue", "answer")),
        st.sampled_from(PARTITIONS),
    ),
    max_size=80,
)


@given(OPS)
def test_a_satisfied_batch_never_misses_a_record_appended_before_it_was_received(ops):
    broker = Broker()
    for op, partition in ops:
        broker.step(op, partition)
        for moment, ends in broker.batches:
            if broker.sync.satisfied(moment):
                assert all(broker.positions[p] >= end for p, end in ends.items())


@given(OPS)
def test_every_batch_is_served_in_the_end_with_at_most_one_query_each(ops):
    broker = Broker()
    for op, partition in ops:
        broker.step(op, partition)
    broker.settle()
    assert all(broker.sync.satisfied(moment) for moment, _ in broker.batches)
    assert broker.queries <= len(broker.batches)
