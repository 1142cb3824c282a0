"""A parallel replay's shares: which raw inputs each of its jobs applies.

A distributor's state depends on its own movement inputs (all keyed by distributor_id) and
on the reference data (catalog, prices, programs and closes, rates), never on another
distributor's (docs/DESIGN.md, "The auditor's replay"). So the movement inputs are split by
partition, and every job reads every reference input, in order. Each input comes tagged
`shared` (every job reads it) or not (this job's alone).

- From Kafka: partition p of every movement topic belongs to job p mod jobs (a distributor's
  movements are all in one partition number, whatever the topic).
- From a file: a line belongs to job `kafka_partition_of(distributor_id, jobs)`; a line that
  is not movement events of one job (reference data, unreadable, a bundle across jobs) is
  shared. A shared line that touches a distributor leaves that distributor in every job: the
  replay notices (`held_distributors`) and replays in one process instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import orjson

from projections.price_proposal import PriceProposal
from schemas.topics import RAW_TOPICS, topic_name
from streams.config import Settings
from streams.kafka.io import kafka_partition_of
from streams.runners.embedded import file_inputs
from streams.runners.kafka_replay import MOVEMENT_PHASE, EndOffsets, raw_history
from streams.runners.processing import Input
from streams.runners.proposed_prices import with_proposal, with_proposal_async

#: event types of the movement topics (keyed by distributor_id)
MOVEMENT_TYPES = frozenset(t for topic in MOVEMENT_PHASE for t in RAW_TOPICS.get(topic, ()))

Tagged = tuple[bool, Input]
TaggedRun = tuple[bool, list[Input]]


@dataclass(frozen=True)
class Share:
    """Job `job` of `jobs`."""

    job: int
    jobs: int

    def owns(self, partition: int) -> bool:
        return partition % self.jobs == self.job


@lru_cache(maxsize=65_536)
def _partition_of(key: str, partitions: int) -> int:
    return kafka_partition_of(key, partitions)


def line_partition(raw: bytes, partitions: int) -> int | None:
    """The partition of a file line's movement events (one event, or a bundle whose events
    all fall in one partition); None for any other line."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    found = None
    for value in data if isinstance(data, list) and data else [data]:
        if not isinstance(value, dict) or value.get("event_type") not in MOVEMENT_TYPES:
            return None
        key = value.get("distributor_id")
        if not isinstance(key, str):
            return None
        partition = _partition_of(key, partitions)
        if found is not None and partition != found:
            return None
        found = partition
    return found


def file_share(
    path: Path,
    share: Share,
    known_at: datetime | None = None,
    proposal: PriceProposal | None = None,
) -> Iterator[Tagged]:
    """The job's lines of a JSON Lines file, in file order, tagged shared or not (with
    `known_at`, those recorded by then; with `proposal`, under a proposed price list)."""
    for item in with_proposal(file_inputs(path, known_at), proposal):
        partition = line_partition(item.raw, share.jobs)
        if partition is None:
            yield True, item
        elif share.owns(partition):
            yield False, item


async def kafka_share(
    settings: Settings,
    share: Share,
    ends: EndOffsets,
    distributor: str | None = None,
    known_at: datetime | None = None,
    proposal: PriceProposal | None = None,
) -> AsyncIterator[Tagged]:
    """The job's raw messages up to `ends`, in `raw_history`'s order: every reference
    message (shared), then its movement partitions merged by broker timestamp (with
    `proposal`, under a proposed price list: its prices shared, first)."""
    movement = {topic_name(settings.topic_prefix, t) for t in MOVEMENT_PHASE}
    partitions = {p for topic, p in ends if topic in movement and share.owns(p)}
    history = raw_history(settings, distributor, ends, partitions, known_at)
    async for item in with_proposal_async(history, proposal):
        yield item.source not in movement, item


async def tagged_runs(tagged: AsyncIterator[Tagged], size: int) -> AsyncIterator[TaggedRun]:
    """Consecutive inputs of the same tag, at most `size` at a time."""
    run: list[Input] = []
    shared_run = False
    async for shared, item in tagged:
        if run and (shared != shared_run or len(run) == size):
            yield shared_run, run
            run = []
        shared_run = shared
        run.append(item)
    if run:
        yield shared_run, run


async def as_async(items: Iterable[Tagged]) -> AsyncIterator[Tagged]:
    for item in items:
        yield item
