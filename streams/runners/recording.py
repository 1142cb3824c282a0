"""Recording what the histories imply, in rounds, off the event loop.

Price-protection claims of cost drops in effect, and the statements and adjustments of
closed rebate periods, are derived from the stores and recorded in the event store
idempotently; rounds repeat, so recording survives crashes and rebalances alike, and
periods past their grace are closed (every worker names the same close).

A round reads committed state only (`WorkerStores.readers()`, or the embedded runner's
stores between feeds) and runs in a thread: nothing here may grow with history on the
event loop. A statement is planned again only when its buckets counted new events since
the round that recorded it, and its aggregate is kept between rounds, so recording late
lines costs what is new, not what was recorded before. Its adjustments are recorded as far
as the runner's `Reach` only (a first part of what the whole history gives); one with some
held back is planned again at the next round.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.rebate_statement import RebateStatement
from infra.eventstore import AuditLog
from projections.rebate_accruals import covers, qualifying_count, statement_plan
from projections.snapshot import distributors, protection_claims
from projections.stores import ChannelStores
from schemas.events import RebatePeriodClosed
from streams import metrics
from streams.runners.processing import record_facts, record_statements
from streams.runners.rebate_closing import automatic_closes

log = logging.getLogger("channelflow.recording")


@dataclass(frozen=True, slots=True)
class Reach:
    """How far a runner has applied a distributor's events of one basis, in recorded time.

    `applied`: every event recorded before it has been applied (None: every one the
    partitions held when the round began), so a statement of a close before it holds its
    period's events. `whole`: moreover, of what the round reads, no event recorded at or
    after it is there while another of its ms is not, so adjustments recorded before it are
    a first part of the plan the whole history gives (None: no bound)."""

    applied: datetime | None = None
    whole: datetime | None = None

    def past(self, cutoff: datetime) -> bool:
        return self.applied is None or cutoff < self.applied

    def within(self, bound: datetime | None) -> Reach:
        """This reach, no further than `bound` (None: no bound): a worker's reference data
        (rates, read by a replica of their own) is known applied up to a time too, and a
        statement or an adjustment converted without a rate recorded before it would
        differ from the replay's for good."""
        if bound is None:
            return self
        return Reach(
            bound if self.applied is None else min(self.applied, bound),
            bound if self.whole is None else min(self.whole, bound),
        )


#: (distributor_id, basis) -> how far the runner has applied them
Horizon = Callable[[str, str], Reach]


def everything(distributor_id: str, basis: str) -> Reach:
    """The reach of a runner that applied its whole history before recording."""
    return Reach()


@dataclass
class AuditRecorder:
    """One runner's recording rounds (blocking; one round at a time)."""

    audit: AuditLog
    grace_days: int
    #: statement key -> the events its buckets counted when it was last fully recorded, and
    #: the rates known then if some revenue was still waiting for one (else None)
    recorded_counts: dict[tuple[str, str, str], tuple[int, int | None]] = field(
        default_factory=dict
    )
    #: statements as saved by this recorder, kept between rounds
    statements: dict[UUID, RebateStatement] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def round(
        self,
        stores: ChannelStores,
        now: datetime | None,
        closing: datetime | None,
        owned: Callable[[str], bool],
        horizon: Horizon = everything,
    ) -> list[RebatePeriodClosed]:
        """Record claims and statements of the distributors `owned` says are this
        runner's; returns the closes due at `closing` (the caller publishes them).

        `now` is the recorded-time clock: a claim is recorded once its drop is in effect
        in recorded time, so a replay of the same inputs derives it too. A close is an
        event of its own (the replay reads it), so a worker may close by its wall clock
        (`closing`) a period of a channel that has gone quiet. A statement is recorded
        once its distributor's `horizon` is past the close (the runner may be catching up
        on a backlog recorded before it), and its adjustments only those before the
        horizon's `whole` bound: events of one ms may be applied in any order of their
        ids, and a round between them must not record the later id's adjustment before
        the earlier one's.
        """
        with self._lock:
            closes = automatic_closes(stores, self.grace_days, closing)
            claims = [c for c in protection_claims(stores, now, True) if owned(c.distributor_id)]
            if claims:
                record_facts(self.audit, claims)
            self._statements(stores, owned, horizon)
            return closes

    def forget(self) -> None:
        """Drop what is kept between rounds (after a failure: the store decides again)."""
        self.recorded_counts.clear()
        self.statements.clear()

    def _statements(
        self, stores: ChannelStores, owned: Callable[[str], bool], horizon: Horizon
    ) -> None:
        everyone = [d for d in distributors(stores) if owned(d)]
        #: a rate arriving may convert what a statement left waiting (reference data)
        rates_known = sum(len(month.entries) for month in list(stores.rates.values()))
        for terms in list(stores.programs.values()):
            for _, close in list(stores.closed_periods.scan(f"{terms.program_id}|")):
                for distributor in everyone:
                    if not covers(terms, distributor):
                        continue
                    reach = horizon(distributor, terms.basis)  # read before the stores
                    if not reach.past(close.cutoff):
                        continue
                    key = (terms.program_id, distributor, close.period)
                    count = qualifying_count(
                        terms, stores.rebate_buckets, distributor, close.period
                    )
                    recorded = self.recorded_counts.get(key)
                    if count == 0 or recorded in ((count, None), (count, rates_known)):
                        continue  # nothing new since it was recorded
                    sources = stores.rebate_sources()
                    plan = statement_plan(terms, sources, stores.recorded_moves, distributor, close)
                    if plan is None:  # its agreement bound no day of the period
                        self.recorded_counts[key] = (count, None)
                        continue
                    ready = plan.before(reach.whole)
                    try:
                        record_statements(self.audit, [ready], self.statements)
                    except Exception:
                        self.forget()
                        raise
                    if ready is not plan:  # the rest once the horizon has passed them
                        self.recorded_counts.pop(key, None)
                        continue
                    self.recorded_counts[key] = (count, rates_known if plan.waiting else None)


def record_round_failed(exc: BaseException) -> None:
    metrics.AUDIT_ROUND_FAILURES.inc()
    log.warning("recording derived audit facts failed; the next round retries: %s", exc)
