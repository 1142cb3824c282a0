"""Candidate generation ("blocking") over the master parties, and matching in a stream.

Scoring every alias against every master is n × m: 10^10 pairs for 100,000 of each. The
index files each master under a few block keys and scores an alias only against the
masters sharing one of its keys:

- `t|country|tax id` and `d|duns`: the identifiers, exact;
- `p|country|postal prefix|word` for each word of the normalised name (of 3 letters or
  more, or the only word): the same name word in the same postal area;
- `w|country|word` for each such word whose block holds at most `max_block` masters: a
  rare word finds a party that moved or whose postal code was mistyped, while common
  words ("electronics", "systems") are left to the postal blocks.

At most `max_candidates` are scored per alias: those sharing the most keys, then the
smallest master ids. The index holds the masters' normalised records and their keys:
its size follows the number of masters, never the number of aliases matched, and
`match_stream` reads aliases one at a time, so matching 100,000 aliases holds one in
memory. Deterministic, no I/O; rebuilt from the masters' registrations when a process
starts (`projections.party_aliases.MasterState`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sortedcontainers import SortedList

from domain.party_matching import (
    DEFAULT_CONFIG,
    MatchConfig,
    MatchDecision,
    PartyRecord,
    decide,
)
from projections.keyvalue import DictStore
from projections.party_aliases import MasterState


@dataclass(frozen=True, slots=True)
class BlockingConfig:
    """How wide the blocks are (docs/IDENTITY.md)."""

    postal_prefix: int = 3
    min_word: int = 3
    max_block: int = 50
    max_candidates: int = 50


DEFAULT_BLOCKING = BlockingConfig()


def block_keys(record: PartyRecord, config: BlockingConfig = DEFAULT_BLOCKING) -> list[str]:
    """Every block key of a record (the rare-word keys among them are checked on lookup)."""
    keys: list[str] = []
    if record.tax_id is not None:
        keys.append(f"t|{record.country}|{record.tax_id}")
    if record.duns is not None:
        keys.append(f"d|{record.duns}")
    words = record.name.split()
    usable = [word for word in words if len(word) >= config.min_word] or words[:1]
    area = record.postal[: config.postal_prefix]
    for word in dict.fromkeys(usable):
        if area:
            keys.append(f"p|{record.country}|{area}|{word}")
        keys.append(f"w|{record.country}|{word}")
    return keys


class BlockingIndex:
    """Masters by block key. Adding a master again under its id replaces its record."""

    def __init__(self, config: BlockingConfig = DEFAULT_BLOCKING) -> None:
        self.config = config
        self._records: dict[str, PartyRecord] = {}
        self._blocks: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: PartyRecord) -> None:
        self.discard(record.party_id)
        self._records[record.party_id] = record
        for key in block_keys(record, self.config):
            self._blocks.setdefault(key, set()).add(record.party_id)

    def discard(self, master_id: str) -> None:
        record = self._records.pop(master_id, None)
        if record is None:
            return
        for key in block_keys(record, self.config):
            block = self._blocks[key]
            block.discard(master_id)
            if not block:
                del self._blocks[key]

    def record(self, master_id: str) -> PartyRecord | None:
        return self._records.get(master_id)

    def candidates(self, record: PartyRecord) -> list[PartyRecord]:
        """The masters `record` is scored against (see the module docstring)."""
        shared: Counter[str] = Counter()
        for key in block_keys(record, self.config):
            block = self._blocks.get(key)
            if block is None or (key.startswith("w|") and len(block) > self.config.max_block):
                continue
            shared.update(block)
        best = sorted(shared.items(), key=lambda item: (-item[1], item[0]))
        return [self._records[master_id] for master_id, _ in best[: self.config.max_candidates]]


def match_one(
    index: BlockingIndex, record: PartyRecord, config: MatchConfig = DEFAULT_CONFIG
) -> tuple[MatchDecision, int]:
    """The decision for one alias, and how many candidates were scored for it."""
    candidates = index.candidates(record)
    return decide(record, candidates, config), len(candidates)


def match_stream(
    index: BlockingIndex, records: Iterable[PartyRecord], config: MatchConfig = DEFAULT_CONFIG
) -> Iterator[tuple[MatchDecision, int]]:
    """`match_one` for each alias in turn, read lazily: memory does not grow with them."""
    for record in records:
        yield match_one(index, record, config)


class IndexedMasters(DictStore[MasterState]):
    """The masters store with its blocking index kept in step: every registration put
    (from the raw topic, a restart's replay of it, a snapshot) re-files its master, so the
    index is rebuilt with the masters when a process starts and follows each correction.
    What the match step (`projections.match_proposals`) finds candidates in."""

    def __init__(self, config: BlockingConfig = DEFAULT_BLOCKING) -> None:
        super().__init__()
        self.index = BlockingIndex(config)
        #: (known_since, master_id) of the masters with a first recorded time, in order
        self._by_time: SortedList = SortedList()

    def put(self, key: str, value: MasterState) -> None:
        self._unlist(key)
        super().put(key, value)
        self.index.add(value.record)
        if value.known_since is not None:
            self._by_time.add((value.known_since, key))

    def delete(self, key: str) -> None:
        self._unlist(key)
        super().delete(key)
        self.index.discard(key)

    def _unlist(self, key: str) -> None:
        before = self.get(key)
        if before is not None and before.known_since is not None:
            self._by_time.discard((before.known_since, key))

    def known_between(self, after: datetime, until: datetime) -> list[str]:
        """The masters first recorded after `after` and by `until`, in that order (then by
        id): what re-matching reads (`projections.rematch`), never every master."""
        start = self._by_time.bisect_right((after, "\uffff"))
        end = self._by_time.bisect_right((until, "\uffff"))
        return [master_id for _, master_id in self._by_time[start:end]]
