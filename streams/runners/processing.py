"""One batch of raw inputs through the channel projection; shared by every runner.

The runner supplies the stores and persists what comes back (audit facts to the event
store, dead letters to their topic or list); this module decides nothing of its own.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from domain.business_time import TimeRules
from domain.rebate_statement import RebateStatement
from infra.eventstore import AuditLog
from projections.alias_facts import AliasStepTaken
from projections.cap_inputs import CAP_MESSAGE, CapLogHandler, Mark, drop_since, outgoing
from projections.channel import DEFAULT_RULES, apply_message
from projections.claim_facts import ClaimLinesDecided, ClaimLinesReopened, ClaimSubmitted
from projections.dedup import Verdict
from projections.inventory import Reconciliation
from projections.keyvalue import Journal, journaled, undo
from projections.outcome import AuditFact, Outcome, letter_detail
from projections.pending_moves import PendingRun
from projections.positions import Position, message_position
from projections.price_protection_claims import PriceProtectionClaim
from projections.price_rules import ViolationDetected
from projections.rebate_accruals import StatementPlan
from projections.rotation_facts import (
    RotationCancelled,
    RotationDecided,
    RotationExchanged,
    RotationReturned,
)
from projections.stores import ChannelStores
from schemas.deadletter import DeadLetter
from streams import metrics

log = logging.getLogger("channelflow.processing")

#: inputs without positions whose kept moves are recorded together at most (memory bound)
RUN_MESSAGES = 5_000

#: dead-letter reason for an input the projection failed on (a bug, not bad input)
PROCESSING_ERROR = "processing_error"

#: the collector's first-generation threshold for processes that apply batches (worker,
#: replay): a batch allocates (and frees) millions of small objects; collecting every 700
#: allocations cost ~20 % of the reducers' time
GC_THRESHOLD = (50_000, 20, 100)


@dataclass(frozen=True, slots=True)
class Input:
    """A raw message and where it came from (Kafka topic/partition/offset, or file/line).

    `recorded_at` is the broker's timestamp of a Kafka message (its append time on the raw
    topics): the system's own record of when the event arrived, which replaces whatever
    the producer wrote in the event. Inputs from files keep the event's own.
    """

    raw: bytes
    key: str | None
    source: str
    partition: int | None = None
    offset: int | None = None
    recorded_at: datetime | None = None
    #: `weight` once counted (0: not yet): a worker's batch is grouped twice (into the
    #: batch, then into slices), and counting a bundle's bytes costs ~0.5 µs a line
    _weight: int = field(default=0, init=False, repr=False, compare=False)

    @property
    def weight(self) -> int:
        """About how many events the message carries (a bundle's, counted by their
        `event_type` keys): for sizing batches and slices only, never for accounting."""
        known = self._weight
        if not known:
            known = max(1, self.raw.count(b'"event_type"'))
            object.__setattr__(self, "_weight", known)  # a cache: `raw` never changes
        return known

    @property
    def position(self) -> Position | None:
        """The position of the message's first event (see projections/positions.py)."""
        if self.partition is None or self.offset is None:
            return None
        return message_position(f"{self.source}:{self.partition}", self.offset)


@dataclass
class BatchResult:
    facts: list[AuditFact] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    applied: int = 0
    #: (topic, event type, verdict or reason) -> events, of the inputs applied for the first
    #: time
    consumed: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    #: topic -> messages read again whose effects were all stored already
    redelivered: Counter[str] = field(default_factory=Counter)
    #: (topic, recorded_at) -> accepted events (a bundle's share one recorded_at: the
    #: latency is observed once for them all)
    recorded: Counter[tuple[str, datetime]] = field(default_factory=Counter)
    #: reason -> sales that could not wait for their rate (`Outcome.rate_wait_refused`)
    rate_waits_refused: Counter[str] = field(default_factory=Counter)

    def add(self, other: BatchResult) -> None:
        self.facts += other.facts
        self.dead_letters += other.dead_letters
        self.applied += other.applied
        self.consumed += other.consumed
        self.redelivered += other.redelivered
        self.recorded += other.recorded
        self.rate_waits_refused += other.rate_waits_refused

    def tally(self, item: Input, outcomes: Iterable[Outcome], kind: str, now: datetime) -> None:
        """Add an input's outcomes: what it consumed, its latency, facts, refused rate
        waits and dead letters (`kind`: what an outcome without an event counts as)."""
        source = item.source
        consumed: list[tuple[str, str, str]] = []  # counted at once (C's Counter.update)
        recorded: list[tuple[str, datetime]] = []
        for outcome in outcomes:
            event = outcome.event
            verdict = outcome.verdict  # a StrEnum: the label is its value
            reason = outcome.dead_letter_reason
            label = verdict or reason or "skipped"
            if event is None:
                consumed.append((source, kind, label))
            else:
                consumed.append((source, event.event_type, label))
                if verdict is Verdict.ACCEPTED and event.recorded_at is not None:
                    recorded.append((source, event.recorded_at))
            if outcome.facts:
                self.facts.extend(outcome.facts)
            if outcome.rate_wait_refused is not None:
                self.rate_waits_refused[outcome.rate_wait_refused] += 1
            if reason is not None:
                self.dead_letters.append(
                    DeadLetter.of(
                        item.raw if outcome.original is None else outcome.original,
                        reason,
                        letter_detail(outcome, reason),
                        item.source,
                        now,
                        item.partition,
                        item.offset,
                        item.key,
                        outcome.index,
                        outcome.event,
                    )
                )
        self.consumed.update(consumed)
        self.recorded.update(recorded)

    def count(self) -> None:
        """Count the batch in the metrics: once, when it is stored (a batch retried after
        a failure is counted when it finally is)."""
        for labels, n in self.consumed.items():
            metrics.EVENTS_CONSUMED.labels(*labels).inc(n)
        for topic, n in self.redelivered.items():
            metrics.MESSAGES_REDELIVERED.labels(topic).inc(n)
        reasons = Counter(letter.reason for letter in self.dead_letters)
        for reason, n in reasons.items():
            metrics.DEAD_LETTERS.labels(reason).inc(n)
        for reason, n in self.rate_waits_refused.items():
            metrics.RATE_WAITS_REFUSED.labels(reason).inc(n)
        latency = metrics.AppliedLatency()
        for (topic, recorded_at), events in self.recorded.items():
            latency.observe(topic, recorded_at, events)


def grouped(inputs: Sequence[Input], events: int) -> Iterator[list[Input]]:
    """The inputs in order, in groups of about `events` events each (a message is never
    split: one larger than that is a group of its own)."""
    group: list[Input] = []
    weight = 0
    for item in inputs:
        if group and weight + item.weight > events:
            yield group
            group, weight = [], 0
        group.append(item)
        weight += item.weight
    if group:
        yield group


def process_batch(
    stores: ChannelStores,
    inputs: Iterable[Input],
    until: datetime | None = None,
    before_each: Callable[[Input], None] | None = None,
    rules: TimeRules = DEFAULT_RULES,
    internal: Mapping[str, CapLogHandler] | None = None,
    stored: Callable[[Input], bool] | None = None,
) -> BatchResult:
    """Apply the inputs in order; the caller stores the result, then `count`s it. The
    inputs of a topic `internal` names (the cap logs: `projections.cap_inputs`) go to its
    handler, the others are events.

    An input `stored` says is stored already (a worker reading a message again whose
    effects, dead letters included, were all stored: after a restart, a rewind or a
    rebalance) is applied again for the stores' positions to refuse, and only counted in
    `redelivered`: neither its events nor its latency nor its dead letters again.

    Consecutive inputs without a position (a file's lines) are one run: what their lines
    keep to record (moves, counts) is recorded once per distributor, when the run ends or
    an input may read it (projections/pending_moves.py).

    An input whose handler raises (a bug) is dead-lettered `processing_error` and leaves
    nothing else: what it wrote is undone (`projections.keyvalue.journaled`, `failed`)."""
    result = BatchResult()
    now = datetime.now(UTC)
    run = PendingRun()
    try:
        with journaled() as journal:
            for item in inputs:
                if before_each is not None:
                    before_each(item)
                again = stored is not None and stored(item)
                handler = None if internal is None else internal.get(item.source)
                kind = "unknown" if handler is None else CAP_MESSAGE
                position = item.position
                mark = outgoing(stores)
                if position is not None or handler is not None or run.messages == RUN_MESSAGES:
                    run.flush(stores)  # a run of inputs without positions ended (or is long)
                journal.clear()  # what the input writes from here on can be taken back
                run.begin()
                try:
                    if handler is not None:
                        outcomes = [handler(stores, item.raw, position, item.key)]
                    else:
                        outcomes = apply_message(
                            stores, item.raw, item.key, position, until, item.recorded_at,
                            rules, None if position is not None else run,
                        )  # fmt: skip
                except Exception as exc:  # a bug must not stop the stream, nor lose the input
                    log.exception("processing failed at %s offset %s", item.source, item.offset)
                    outcomes = [failed(stores, journal, run, mark, exc)]
                result.applied += 1
                if again:  # its audit facts are recorded again, as before: idempotent, a no-op
                    result.redelivered[item.source] += 1
                    result.facts.extend(fact for outcome in outcomes for fact in outcome.facts)
                    continue
                result.tally(item, outcomes, kind, now)
    finally:
        run.flush(stores)
    return result


def failed(
    stores: ChannelStores, journal: Journal, run: PendingRun, mark: Mark, exc: Exception
) -> Outcome:
    """The outcome of an input whose handler failed half way (a bug): everything it did is
    taken back, its writes, what it kept in the run and the cap messages it made, so
    its stored result is its dead letter alone, as if it had not come (fixed and sent
    again, none of it counts twice). No value's position moves past it: read again (the
    worker's checkpoint, written with the batch, marks it consumed), it is applied again
    and fails the same way."""
    undo(journal)
    run.undo()
    drop_since(stores, mark)  # what it would have sent goes with it
    return Outcome(None, PROCESSING_ERROR, detail=f"{type(exc).__name__}: {exc}")


def record_facts(audit: AuditLog, facts: Iterable[AuditFact]) -> int:
    """Record audit facts idempotently; returns how many changed the store. A violation is
    counted when it is first detected, not when a replacement report revises it; a claim
    line when its decision is recorded (again only after a reversal reopened it)."""
    recorded = audit.record_all(facts)
    for fact in recorded.changed:
        metrics.AUDIT_RECORDS.labels(FACT_KINDS[type(fact)]).inc()
        if isinstance(fact, ClaimLinesDecided):  # live or replayed: all of it new, or none
            for decision in fact.decisions:
                if decision.status != "pending_pos":
                    metrics.CLAIM_LINES.labels(decision.status).inc()
    for fact in recorded.created:
        if isinstance(fact, ViolationDetected):
            metrics.VIOLATIONS.labels(fact.severity.value).inc()
        elif isinstance(fact, RotationDecided):
            metrics.ROTATION_REQUESTS.labels(fact.decision.status).inc()
    return len(recorded.changed)


def record_statements(
    audit: AuditLog,
    plans: Iterable[StatementPlan],
    kept: dict[UUID, RebateStatement] | None = None,
) -> int:
    """Record closed periods' statements and adjustments idempotently; returns how many new
    (`kept`: statements as last saved, see `AuditLog.record_statement`)."""
    new = 0
    for plan in plans:
        recorded = audit.record_statement(plan, kept)
        if recorded:
            metrics.AUDIT_RECORDS.labels("rebate_statement").inc(recorded)
            new += recorded
    return new


FACT_KINDS = {
    Reconciliation: "reconciliation",
    ViolationDetected: "violation",
    PriceProtectionClaim: "price_protection",
    RotationDecided: "stock_rotation",
    RotationReturned: "stock_rotation",
    AliasStepTaken: "alias_mapping",
    RotationExchanged: "stock_rotation",
    RotationCancelled: "stock_rotation",
    ClaimSubmitted: "debit_claim",
    ClaimLinesDecided: "debit_claim",
    ClaimLinesReopened: "debit_claim",
}
