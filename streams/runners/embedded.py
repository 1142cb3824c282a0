"""The embedded runner: the same projections in-process, with an SQLite event store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from domain.business_time import TimeRules
from domain.scorecard_score import DEFAULT_SCORE, ScoreConfig
from infra.eventstore import open_audit_log
from projections.cap_inputs import CapLogHandler, cap_log_handlers, cap_messages
from projections.channel import DEFAULT_RULES
from projections.keyvalue import DictStore
from projections.known_at import is_known, line_recorded_at
from projections.snapshot import (
    Snapshot,
    build_snapshot,
    now_of,
    protection_claims,
    rebate_statements,
)
from projections.stores import ChannelStores
from schemas.deadletter import DeadLetter
from schemas.events import Envelope
from streams.ingest.deadletters import LetterQuery, StoredDeadLetter, page_of
from streams.kafka.messages import Message, bundled, message_of
from streams.runners.processing import (
    BatchResult,
    Input,
    process_batch,
    record_facts,
    record_statements,
)
from streams.runners.rebate_closing import apply_automatic_closes

V = TypeVar("V")

#: days after a period's end before it closes by itself (the default of
#: CHANNELFLOW_REBATE_GRACE_DAYS, which the replay follows as the worker does)
REBATE_GRACE_DAYS = 15


class ObservedStore(DictStore[V]):
    """A store that tells its channel which keys it stored (what the read models need of
    the history stores, like the worker's commit does)."""

    def __init__(self, name: str, channel: EmbeddedChannel) -> None:
        super().__init__()
        self.name = name
        self.channel = channel

    def put(self, key: str, value: V) -> None:
        super().put(key, value)
        self._noted(key)

    def delete(self, key: str) -> None:
        super().delete(key)
        self._noted(key)

    def _noted(self, key: str) -> None:
        if self.channel.on_stored is not None:
            self.channel.on_stored(self.name, 0, key)


class EmbeddedChannel:
    def __init__(
        self,
        eventstore_url: str = "sqlite:///:memory:",
        rebate_grace_days: int = REBATE_GRACE_DAYS,
        rules: TimeRules = DEFAULT_RULES,
        score: ScoreConfig = DEFAULT_SCORE,
    ) -> None:
        self.rebate_grace_days = rebate_grace_days
        self.rules = rules
        self.score = score
        #: told (store, partition, key) of every violation and unpriced line stored
        self.on_stored: Callable[[str, int, str], None] | None = None
        self.stores = ChannelStores(
            violations=ObservedStore("violations", self), unpriced=ObservedStore("unpriced", self)
        )
        self.audit = open_audit_log(eventstore_url)
        self.dead_letters: list[DeadLetter] = []
        #: called after every feed (the PostgreSQL read models, streams/runners/readmodel_sink.py)
        self.after_feed: Callable[[BatchResult], None] | None = None
        #: a replay from Kafka: the handlers of the recorded cap logs (`follow_cap_logs`)
        self.cap_logs: dict[str, CapLogHandler] | None = None

    def follow_cap_logs(self, prefix: str) -> None:
        """Replay Kafka's history as the workers ran it: a cap several distributors share
        is given out as its recorded `claim-caps` log says, and each line is finished by
        its recorded grant (docs/CLAIMS.md, "The cap, in a worker"); what this channel
        would send on the logs is dropped, the logs recorded it."""
        self.stores.every_distributor = False
        self.cap_logs = cap_log_handlers(prefix)

    def feed(self, inputs: Iterable[Input], until: datetime | None = None) -> BatchResult:
        """Apply the inputs, then record what they gave rise to in the event store."""
        result = self.apply(inputs, until)
        self.record(result, until)
        result.count()
        return result

    def apply(self, inputs: Iterable[Input], until: datetime | None = None) -> BatchResult:
        """Apply the inputs to the projections only; `record` the result when the history
        is complete (a replay read in chunks records once, at its end, as the live system
        would have: a statement from the period's moves, not the first chunk's)."""
        result = process_batch(self.stores, inputs, until, rules=self.rules, internal=self.cap_logs)
        if self.cap_logs is not None:
            cap_messages(self.stores)  # recorded on the logs already
        apply_automatic_closes(self.stores, self.rebate_grace_days, self.rules)
        self.dead_letters.extend(result.dead_letters)
        return result

    def record(self, result: BatchResult, until: datetime | None = None) -> None:
        record_facts(self.audit, result.facts)
        now = until or now_of(self.stores)
        record_facts(self.audit, protection_claims(self.stores, now, withdrawn=True))
        record_statements(self.audit, rebate_statements(self.stores))
        if self.after_feed is not None:
            self.after_feed(result)

    def feed_events(self, events: Iterable[Envelope], source: str = "embedded") -> BatchResult:
        """Events as a producer would send them: keyed as on their raw topic, a run of one
        topic and key in one bundle."""
        bundles = bundled(map(message_of, events))
        return self.feed(Input(b.value, b.key.decode(), source) for b in bundles)

    async def submit(self, messages: Sequence[Message]) -> None:
        """Events published to the runner (a period close, an ingest batch), applied in
        order like any other input, with the key they have on their topic, bundled as
        the Kafka publishers bundle them."""
        self.feed(Input(b.value, b.key.decode(), b.topic) for b in bundled(messages))

    async def stored_dead_letters(self, query: LetterQuery) -> list[StoredDeadLetter]:
        """A page of the run's dead letters, numbered in order (partition 0: there is no
        topic here)."""
        numbered = [
            StoredDeadLetter(0, number, letter) for number, letter in enumerate(self.dead_letters)
        ]
        return page_of(numbered, query)

    def snapshot(self, as_of: datetime | None = None) -> Snapshot:
        return build_snapshot(self.stores, as_of, self.audit.statuses(), self.score)


def file_inputs(path: Path, known_at: datetime | None = None) -> Iterator[Input]:
    """Lines of a JSON Lines file as inputs, the line number as offset; blank lines skipped
    (and, with `known_at`, lines recorded after it: projections/known_at.py)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            raw = line.rstrip(b"\r\n")
            if known_at is None or is_known(line_recorded_at(raw), known_at):
                yield Input(raw, None, path.name, None, number)
