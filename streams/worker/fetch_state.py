"""What the consumer's last fetch of a partition found: its high watermark, and when.

faust gives the high watermark (`Consumer.highwater`) but not the time of the fetch that
brought it; aiokafka keeps both (`highwater`, `last_poll_timestamp`) in the consumer faust
runs on a thread of its own. Reading them from the event loop is what faust's own
`highwater` does: two attributes of the partition's fetch state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faust.types import TP

#: a partition's (high watermark, time of the fetch that gave it in ms), None until fetched
FetchState = Callable[[TP], tuple[int | None, int | None]]


def fetch_state(consumer: Any) -> FetchState:
    """The fetch state of faust's aiokafka consumer, by partition."""
    kafka = consumer._thread._ensure_consumer()

    def fetched(tp: TP) -> tuple[int | None, int | None]:
        try:
            return kafka.highwater(tp), kafka.last_poll_timestamp(tp)
        except AssertionError:  # no longer assigned: a rebalance has begun
            return None, None

    return fetched
