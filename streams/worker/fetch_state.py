"""What the consumer's last fetch of a partition found: its end, and when; and its position.

faust gives the high watermark (`Consumer.highwater`) but not the time of the fetch that
brought it; aiokafka keeps both (`highwater`, `last_poll_timestamp`) in the consumer faust
runs on a thread of its own. Reading them from the event loop is what faust's own
`highwater` does: attributes of the partition's fetch state. The worker reads committed
records only (streams/worker/committed.py), so a partition's end is its last stable
offset (the high watermark beside it says whether a transaction is still open before it);
the position is the next offset the consumer fetches, past any transaction marker or
aborted record its fetches met. Whether the consumer knows a leader to fetch a partition
from is in its client's cluster metadata (-1: none, None: not known yet).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from faust.types import TP


class Fetched(NamedTuple):
    """A partition's fetch state; each None until fetched."""

    #: the last stable offset: records before it are committed (or not transactional)
    end: int | None
    #: the time of the fetch that gave it, ms since the epoch
    polled: int | None
    #: the next offset the consumer fetches
    position: int | None
    #: the high watermark: beyond `end` up to it, records of a transaction still open
    highwater: int | None


NOT_ASSIGNED = Fetched(None, None, None, None)

FetchState = Callable[[TP], Fetched]


def fetch_state(consumer: Any) -> FetchState:
    """The fetch state of faust's aiokafka consumer, by partition."""
    kafka = consumer._thread._ensure_consumer()

    def fetched(tp: TP) -> Fetched:
        try:
            state = kafka._subscription.subscription.assignment.state_value(tp)
            position = state.position if state.has_valid_position else None
            end, polled = kafka.last_stable_offset(tp), kafka.last_poll_timestamp(tp)
            return Fetched(end, polled, position, kafka.highwater(tp))
        except (AssertionError, AttributeError):  # no longer assigned: a rebalance has begun
            return NOT_ASSIGNED

    return fetched


def has_leader(consumer: Any) -> Callable[[TP], bool]:
    """Whether faust's aiokafka consumer knows a leader to fetch a partition from."""
    cluster = consumer._thread._ensure_consumer()._client.cluster

    def leader(tp: TP) -> bool:
        node = cluster.leader_for_partition(tp)
        return node is not None and node >= 0

    return leader
