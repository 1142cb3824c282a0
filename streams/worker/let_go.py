"""Records faust's consumer took from aiokafka and let go: read again at once.

faust's `Consumer.getmany` takes a whole fetch from aiokafka (whose position moves past the
records as it hands them over) and yields its records one by one; it drops the rest of the
fetch without a word when its flow stops or the consumer generation changes under it, and
the records of a partition it no longer counts active. Nothing fetches those again until a
seek. The recovery at the end of a rebalance seeks every partition, but records let go after
that seek waited for a later record of their partition to show the gap (the gate), or for
the whole worker to apply nothing for 15 s (the tail watch): a partition late by 26-38 s
after a takeover in the kill probe, its read offset where the recovery's seek put it and
aiokafka's position at its end.

So the worker's consumer notes where each fetch left its partitions (`Taken`) and what of
it was handed over; a partition of the worker's input with records let go is sought back to
the first of them at once, unless its position moved since the fetch (a seek, the
recovery's, the gate's or the tail watch's, or a new assignment has placed it already).
Only records never handed over are read again; the stores' positions make any re-read
idempotent all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faust.types import TP


@dataclass(frozen=True, slots=True)
class Span:
    """One partition's records in a fetch, and the position the fetch left it at."""

    first: int
    last: int
    position: int | None


@dataclass(frozen=True, slots=True)
class Taken:
    """What one fetch took from aiokafka, by partition."""

    spans: Mapping[TP, Span]

    def let_go(
        self, handed: Mapping[TP, int], position: Callable[[TP], int | None]
    ) -> dict[TP, int]:
        """From the last offset handed over by partition and the positions now: partition
        -> the first offset of the fetch not handed over, for the partitions still where
        the fetch left them."""
        back = {}
        for tp, span in self.spans.items():
            last = handed.get(tp)
            if last is not None and last >= span.last:
                continue
            if span.position is None or position(tp) != span.position:
                continue  # placed since by a seek or a new assignment
            back[tp] = span.first if last is None else last + 1
        return back


def taken(
    records: Mapping[TP, Sequence[Any]],
    position: Callable[[TP], int | None],
    ours: Callable[[TP], bool],
) -> Taken:
    """What a fetch (faust's records by partition, each with its `offset`) took of the
    partitions `ours` says are the worker's input, and where it left them."""
    return Taken(
        {
            tp: Span(batch[0].offset, batch[-1].offset, position(tp))
            for tp, batch in records.items()
            if batch and ours(tp)
        }
    )
