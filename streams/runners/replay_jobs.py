"""The auditor's replay in parallel: jobs (processes) apply shares of the history, one merge.

Each job applies every reference input and its own distributors' movement inputs
(streams/replay_shares.py) to stores of its own, then tells the parent its recorded-time
clock and the distributors it holds. The parent takes "now" as the latest clock of all
(what one process would have reached) and sends it back; each job closes the periods due
by then (a close's time is the period end plus the grace, so every job names the same
close), builds its snapshot sections as of that time and derives its audit facts
(reconciliations, violations, claims, statements and adjustments), and returns them.
The parent merges the sections (projections/snapshot_merge.py) and records the facts in
one audit store when asked: the same snapshot, byte for byte, and the same facts as one
process. The inputs every job reads count once: only job 0 keeps their dead letters,
facts and counts.

If a distributor turns up in two jobs (a movement message on another partition than its
key's, a file line bundling several distributors), the shares were not disjoint: the jobs
stop and `run_jobs` answers None, for the caller to replay in one process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import multiprocessing
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from domain.business_time import TimeRules
from domain.scorecard_score import ScoreConfig
from infra.eventstore import AuditLog, open_audit_log
from projections.cap_inputs import cap_log_handlers, cap_messages
from projections.clock import recorded_now
from projections.keyvalue import DictStore
from projections.outcome import AuditFact
from projections.price_proposal import PriceProposal
from projections.price_protection_claims import PriceProtectionClaim
from projections.rebate_accruals import StatementPlan
from projections.snapshot import Snapshot, build_snapshot, protection_claims, rebate_statements
from projections.snapshot_merge import merge_snapshots
from projections.stores import ChannelStores
from schemas.deadletter import DeadLetter
from streams.config import Settings
from streams.memory import keep_long_lived
from streams.runners.kafka_replay import REPLAY_CHUNK, EndOffsets
from streams.runners.processing import (
    BatchResult,
    Input,
    process_batch,
    record_facts,
    record_statements,
)
from streams.runners.rebate_closing import apply_automatic_closes
from streams.runners.replay_shares import (
    FileOwners,
    Share,
    Tagged,
    as_async,
    file_share,
    kafka_share,
    tagged_runs,
)

#: a job's extra result from its stores and "now"; returned pickled, so plain data
Derive = Callable[[ChannelStores, datetime | None], Any]


@dataclass(frozen=True)
class JobSpec:
    """What one job replays: a file's share (`events`) or Kafka's (`settings`, `ends`)."""

    share: Share
    until: datetime | None
    rules: TimeRules
    grace_days: int
    score: ScoreConfig
    events: Path | None = None
    #: the job of each of the file's lines (`file_owners`)
    owners: FileOwners | None = None
    settings: Settings | None = None
    ends: EndOffsets | None = None
    distributor: str | None = None
    #: only inputs recorded by then (projections/known_at.py)
    known_at: datetime | None = None
    #: what else the job derives from its stores and "now" (`simulate`'s accruals)
    derive: Derive | None = None
    #: a proposed price list the history is replayed under (`simulate --prices`)
    proposal: PriceProposal | None = None

    def inputs(self) -> AsyncIterator[Tagged]:
        if self.events is not None:
            assert self.owners is not None
            share = file_share(self.events, self.share, self.owners, self.known_at, self.proposal)
            return as_async(share)
        assert self.settings is not None and self.ends is not None
        return kafka_share(
            self.settings, self.share, self.ends, self.distributor, self.known_at, self.proposal
        )


@dataclass
class JobOutcome:
    """What a job sends back: its snapshot sections and what it derived, compactly."""

    sections: Snapshot
    facts: list[AuditFact]
    claims: list[PriceProtectionClaim]
    plans: list[StatementPlan]
    dead_letters: list[DeadLetter]
    applied: int
    derived: Any = None


class ShareApplier:
    """A job's stores, fed its share run by run.

    Inputs every job reads are counted by job 0 alone: the other jobs apply them with
    dead-letter counts and data quality of their own, thrown away (a rejected reference
    message counts against its key, e.g. an SKU, as if it were a distributor)."""

    def __init__(self, spec: JobSpec, report: Callable[[int], None]) -> None:
        self.spec = spec
        self.report = report
        self.stores = ChannelStores(every_distributor=False)  # a share of the partitions
        self.uncounted = dataclasses.replace(
            self.stores, dead_letters=DictStore(), quality=DictStore()
        )
        self.own = BatchResult()
        #: from Kafka, the recorded logs of shared caps (docs/CLAIMS.md, "The cap, in a worker")
        settings = spec.settings
        self.cap_logs = None if settings is None else cap_log_handlers(settings.topic_prefix)

    def apply(self, shared: bool, run: list[Input]) -> None:
        spec = self.spec
        if shared and spec.share.job != 0:
            process_batch(self.uncounted, run, spec.until, rules=spec.rules)
            return
        self.own.add(
            process_batch(self.stores, run, spec.until, rules=spec.rules, internal=self.cap_logs)
        )
        # from Kafka the logs recorded them; from a file no ledger answers (docs/CLAIMS.md)
        cap_messages(self.stores)
        self.report(len(run))

    async def apply_all(self) -> None:
        async for shared, run in tagged_runs(self.spec.inputs(), REPLAY_CHUNK):
            self.apply(shared, run)

    def outcome(self, now: datetime | None) -> JobOutcome:
        """Close what is due by the replay's `now`, then build and derive as of it."""
        apply_automatic_closes(self.stores, self.spec.grace_days, self.spec.rules, now)
        at = self.spec.until or now
        return JobOutcome(
            build_snapshot(self.stores, at, score=self.spec.score),
            self.own.facts,
            protection_claims(self.stores, at, withdrawn=True),
            rebate_statements(self.stores),
            self.own.dead_letters,
            self.own.applied,
            None if self.spec.derive is None else self.spec.derive(self.stores, at),
        )


def held_distributors(stores: ChannelStores) -> set[str]:
    """Every distributor the stores hold state of (any input of one leaves an entity)."""
    entities: list[Any] = [
        *stores.quality.values(),
        *stores.inventory.values(),
        *stores.reports.values(),
        *stores.resellers.values(),
    ]
    return {entity.distributor_id for entity in entities}


def _job_main(conn: Connection, spec: JobSpec) -> None:
    keep_long_lived()  # what the job inherited lives on: not walked again
    try:
        applier = ShareApplier(spec, lambda n: conn.send(("progress", n)))
        asyncio.run(applier.apply_all())
        stores = applier.stores
        conn.send(("ready", (recorded_now(stores.clock), held_distributors(stores))))
        go, now = conn.recv()
        if go:
            conn.send(("done", applier.outcome(now)))
    except KeyboardInterrupt:
        pass  # Ctrl-C reached the whole process group: the command says it, once
    except Exception:
        conn.send(("failed", traceback.format_exc()))
    finally:
        conn.close()


class JobFailed(RuntimeError):
    """A job of a parallel replay failed (its traceback is the message)."""


@dataclass
class MergedReplay:
    """The jobs' results as one replay."""

    snapshot: Snapshot
    outcomes: list[JobOutcome] = field(repr=False)

    @property
    def applied(self) -> int:
        return sum(outcome.applied for outcome in self.outcomes)

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Every job's dead letters, in source order (file line, or partition and offset)."""
        letters = [letter for outcome in self.outcomes for letter in outcome.dead_letters]
        return sorted(
            letters, key=lambda d: (d.source, d.partition or 0, d.offset or 0, d.index or 0)
        )

    @cached_property
    def audit(self) -> AuditLog:
        """The audit facts of all jobs, recorded in an in-memory store (as one process's
        replay records them; recorded on first use: `replay` never needs them)."""
        audit = open_audit_log("sqlite:///:memory:")
        record_facts(audit, [fact for outcome in self.outcomes for fact in outcome.facts])
        record_facts(audit, [claim for outcome in self.outcomes for claim in outcome.claims])
        record_statements(audit, [plan for outcome in self.outcomes for plan in outcome.plans])
        return audit


def run_jobs(specs: Sequence[JobSpec], on_progress: Callable[[int], None]) -> MergedReplay | None:
    """Run one process per spec; None when their shares turned out not to be disjoint."""
    context = multiprocessing.get_context("fork")
    conns: list[Connection] = []
    processes = []
    # what the jobs inherit is never walked by their collector (each would walk this
    # process's whole heap once, and copy every page it touches); walked here as before
    gc.freeze()
    try:
        for spec in specs:
            mine, theirs = context.Pipe()
            process = context.Process(target=_job_main, args=(theirs, spec), daemon=True)
            process.start()
            theirs.close()
            conns.append(mine)
            processes.append(process)
    finally:
        gc.unfreeze()
    try:
        ready = _gather(conns, "ready", on_progress)
        held = Counter(d for _, distributors in ready for d in distributors)
        disjoint = all(n == 1 for n in held.values())
        now = max((clock for clock, _ in ready if clock is not None), default=None)
        for conn in conns:
            conn.send((disjoint, now))
        if not disjoint:
            return None
        outcomes: list[JobOutcome] = _gather(conns, "done", on_progress)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        for conn in conns:
            conn.close()
    return MergedReplay(merge_snapshots([o.sections for o in outcomes]), outcomes)


def _gather(conns: list[Connection], wanted: str, on_progress: Callable[[int], None]) -> list[Any]:
    """The `wanted` message of every job, in job order; progress passed on meanwhile."""
    found: dict[int, Any] = {}
    index = {id(conn): n for n, conn in enumerate(conns)}
    while len(found) < len(conns):
        pending = [conn for n, conn in enumerate(conns) if n not in found]
        for conn in wait(pending):
            assert isinstance(conn, Connection)
            job = index[id(conn)]
            try:
                kind, payload = conn.recv()
            except EOFError:
                raise JobFailed(f"replay job {job} ended without a result") from None
            if kind == "progress":
                on_progress(payload)
            elif kind == "failed":
                raise JobFailed(f"replay job {job} failed:\n{payload}")
            else:
                found[job] = payload
    return [found[n] for n in range(len(conns))]
