"""A parallel replay's shares: which raw inputs each of its jobs applies.

A distributor's state depends on its own movement inputs (all keyed by distributor_id) and
on the reference data (catalog, prices, programs and closes, rates), never on another
distributor's (docs/DESIGN.md, "The auditor's replay"). So the movement inputs are split by
partition, and every job reads every reference input, in order. Each input comes tagged
`shared` (every job reads it) or not (this job's alone).

- From Kafka: partition p of every movement topic belongs to job p mod jobs (a distributor's
  movements are all in one partition number, whatever the topic).
- From a file: the parent reads the file once before the jobs start (`file_owners`) and
  gives each distributor's movement lines to one job, the distributors with most lines
  first, each to the job with fewest lines so far (any split by distributor gives the same
  result; this one gives the jobs about the same work). A line that is not movement events
  of one distributor (reference data, unreadable, a bundle of several) is shared. A
  shared line that touches a distributor leaves that distributor in every job: the replay
  notices (`held_distributors`) and replays in one process instead. The jobs look each
  line's job up by its number: none parses a line to route it.
"""

from __future__ import annotations

from array import array
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from projections.price_proposal import PriceProposal
from schemas.topics import RAW_TOPICS, topic_name
from streams.config import Settings
from streams.runners.embedded import file_inputs
from streams.runners.kafka_replay import MOVEMENT_PHASE, EndOffsets, raw_history
from streams.runners.processing import Input
from streams.runners.proposed_prices import PROPOSAL_SOURCE, with_proposal, with_proposal_async

#: event types of the movement topics (keyed by distributor_id)
MOVEMENT_TYPES = frozenset(t for topic in MOVEMENT_PHASE for t in RAW_TOPICS.get(topic, ()))

Tagged = tuple[bool, Input]
TaggedRun = tuple[bool, list[Input]]


#: a file line's job in `FileOwners`: every job's
SHARED = -1


@dataclass(frozen=True)
class Share:
    """Job `job` of `jobs`."""

    job: int
    jobs: int

    def owns(self, partition: int) -> bool:
        return partition % self.jobs == self.job


def line_distributor(raw: bytes) -> str | None:
    """The distributor of a file line's movement events (one event, or a bundle of one
    distributor's); None for any other line."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    found = None
    for value in data if isinstance(data, list) and data else [data]:
        if not isinstance(value, dict) or value.get("event_type") not in MOVEMENT_TYPES:
            return None
        key = value.get("distributor_id")
        if not isinstance(key, str) or (found is not None and key != found):
            return None
        found = key
    return found


@dataclass(frozen=True)
class FileOwners:
    """Each line's job (by line number; `SHARED`: every job's) of a file's replay."""

    jobs: array[int]

    def job_of(self, item: Input) -> int:
        """The job of a line; an input that is no line of the file (a proposed price) is
        shared."""
        return SHARED if item.source == PROPOSAL_SOURCE else self.jobs[item.offset or 0]


def file_owners(
    path: Path,
    jobs: int,
    known_at: datetime | None = None,
    proposal: PriceProposal | None = None,
) -> FileOwners:
    """The lines of each job: a distributor's movement lines to one job, the distributors
    with most lines first, each to the job with fewest lines so far."""
    numbers = array("i")
    by_distributor: dict[str, list[int]] = {}
    for item in with_proposal(file_inputs(path, known_at), proposal):
        if item.source == PROPOSAL_SOURCE:
            continue
        number = item.offset or 0
        if len(numbers) <= number:
            numbers.extend([SHARED] * (number + 1 - len(numbers)))
        distributor = line_distributor(item.raw)
        if distributor is not None:
            by_distributor.setdefault(distributor, []).append(number)
    load = [0] * jobs
    biggest_first = sorted(by_distributor.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    for _, lines in biggest_first:
        job = load.index(min(load))
        load[job] += len(lines)
        for number in lines:
            numbers[number] = job
    return FileOwners(numbers)


def file_share(
    path: Path,
    share: Share,
    owners: FileOwners,
    known_at: datetime | None = None,
    proposal: PriceProposal | None = None,
) -> Iterator[Tagged]:
    """The job's lines of a JSON Lines file, in file order, tagged shared or not (with
    `known_at`, those recorded by then; with `proposal`, under a proposed price list)."""
    job = share.job
    for item in with_proposal(file_inputs(path, known_at), proposal):
        owner = owners.job_of(item)
        if owner == SHARED:
            yield True, item
        elif owner == job:
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
