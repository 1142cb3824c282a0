"""The audit event store: an eventsourcing application on PostgreSQL or SQLite.

Select it with a URL: `postgresql://user:password@host:port/db` (the live system) or
`sqlite:///path/to/file.db` / `sqlite://:memory:` (embedded demo, replay).
Every event is sealed in a hash chain as it is stored (infra/auditchain.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import unquote, urlsplit
from uuid import UUID, uuid4

import psycopg
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, InterfaceError
from eventsourcing.utils import get_topic

from domain.claim_lifecycle import ClaimAction, DebitClaim
from domain.erasure import SubjectErasure
from domain.price_protection import PriceProtection
from domain.rebate_statement import RebateStatement
from domain.reconciliation import InventoryReconciliation
from domain.violation import PricingViolation
from domain.violation_lifecycle import Action
from infra.auditchain import ChainedRecorder
from infra.auditchain_postgres import ChainedPostgresRecorder
from infra.auditchain_sqlite import ChainedSQLiteRecorder
from infra.auditchain_verify import ChainReport, verify_chain
from projections.channel import AuditFact
from projections.fact_aggregates import (
    adjust,
    aggregate_id,
    new_aggregate,
    new_statement,
    revised,
    statement_id,
)
from projections.rebate_accruals import StatementPlan
from projections.statuses import Decided, KnownStatuses

A = TypeVar("A")

#: how long a call waits for a PostgreSQL connection before it fails
CONNECT_TIMEOUT_SECONDS: Final = 5
#: most new events saved in one transaction (psycopg's pipeline can stall on far larger
#: ones: a statement's 10,000 adjustments in one save once never finished)
RECORD_BATCH: Final = 500
#: notifications read per query when following the store
PAGE: Final = 500
#: the topics of a violation's lifecycle steps (what makes it "decided")
VIOLATION_STEP_TOPICS: Final = tuple(
    get_topic(kind)
    for kind in (
        PricingViolation.Acknowledged,  # type: ignore[attr-defined]
        PricingViolation.Disputed,  # type: ignore[attr-defined]
        PricingViolation.Resolved,  # type: ignore[attr-defined]
    )
)


class EventStoreConfigError(ValueError):
    """The event-store URL cannot be used."""


def persistence_env(url: str) -> dict[str, str]:
    """Translate an event-store URL into the eventsourcing library's settings."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:
        path = unquote(parts.netloc + parts.path)
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise EventStoreConfigError(f"no database path in {url!r}")
        if path == ":memory:":  # one database for all pooled connections (concurrent reads)
            path = f"file:channelflow-{uuid4().hex}?mode=memory&cache=shared"
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedSQLiteRecorder),
        }
    if parts.scheme in {"postgresql", "postgres"}:
        if not parts.hostname or not parts.path.strip("/"):
            raise EventStoreConfigError(f"need host and database name in {url!r}")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.strip("/"),
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or ""),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "CREATE_TABLE": "y",
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedPostgresRecorder),
            # with PostgreSQL away, a call fails within seconds (the worker retries its
            # batch, the API answers 503) instead of waiting 30 s for a connection; a
            # pooled connection that died meanwhile is replaced before it is used
            "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_SECONDS),
            "POSTGRES_PRE_PING": "y",
        }
    raise EventStoreConfigError(
        f"unsupported event-store URL {url!r} (use postgresql:// or sqlite://)"
    )


@dataclass
class Recorded:
    """What recording audit facts changed in the store, in the order of the facts: each fact
    that changed it, and of those the ones recorded for the first time. The others revised a
    fact recorded before (a claim whose stock changed, a violation a replacement report's
    line corrected): the same business fact, not a new one."""

    changed: list[AuditFact] = field(default_factory=list)
    created: list[AuditFact] = field(default_factory=list)

    def add(self, other: Recorded) -> None:
        self.changed += other.changed
        self.created += other.created


class AuditLog(Application[UUID]):
    """Stores audit facts as aggregates with ids derived from business keys (which aggregate
    a fact becomes, and what a repeat changes: projections/fact_aggregates.py).

    Recording a fact twice is a no-op: a redelivery, a second worker or a replay can
    never open a second reconciliation, violation or claim for the same business fact.
    """

    name = "channelflow_audit"

    def record(self, fact: AuditFact) -> bool:
        """Record one fact; False when it was already recorded (see `record_all`)."""
        return bool(self.record_all([fact]).changed)

    def record_all(self, facts: Iterable[AuditFact]) -> Recorded:
        """Record facts, up to RECORD_BATCH per transaction; returns those that changed the
        store, and which of them were new. A fact already recorded is a no-op, except that a
        claim whose stock has changed since is revised (to zero units when it no longer
        stands), and so is a violation whose sale key a replacement report's line now holds."""
        facts = list(facts)
        recorded = Recorded()
        for start in range(0, len(facts), RECORD_BATCH):
            recorded.add(self._record_batch(facts[start : start + RECORD_BATCH]))
        return recorded

    def _record_batch(self, facts: list[AuditFact]) -> Recorded:
        ids = [aggregate_id(fact) for fact in facts]
        known = self.chain.recorded_among(ids)
        changed: dict[UUID, Any] = {}
        recorded = Recorded()
        for fact, fact_id in zip(facts, ids, strict=True):
            if fact_id in changed:
                aggregate = revised(changed[fact_id], fact)
            elif fact_id in known:
                aggregate = revised(self.repository.get(fact_id), fact)
            else:
                aggregate = new_aggregate(fact)
                if aggregate is not None:
                    recorded.created.append(fact)
            if aggregate is not None:
                changed[fact_id] = aggregate
                recorded.changed.append(fact)
        if not changed:
            return recorded
        try:
            self.save(*changed.values())
        except IntegrityError:
            if len(facts) == 1:
                return Recorded()  # another writer recorded it first; the next round compares
            # another writer recorded some of them first: one transaction per fact
            one_by_one = Recorded()
            for fact in facts:
                one_by_one.add(self._record_batch([fact]))
            return one_by_one
        return recorded

    def record_statement(
        self, plan: StatementPlan, kept: dict[UUID, RebateStatement] | None = None
    ) -> int:
        """Record a closed period's statement and its adjustments; returns how many are new.

        Idempotent: the statement id derives from (program, distributor, period) and an
        adjustment from its triggering event, so a repeat records nothing. `kept` holds
        statements as this caller last saved them, so a statement with thousands of
        adjustments is not read back from the store for each new one; a statement that
        fails to save is dropped from it (its unsaved events must not linger).
        """
        plan_id = statement_id(plan)
        kept = {} if kept is None else kept
        try:
            statement = kept.get(plan_id) or self._get(RebateStatement, plan_id)
            new = 0
        except AggregateNotFoundError:
            statement = new_statement(plan)
            new = 1
        saved = 0
        for adjustment in plan.adjustments:
            new += adjust(statement, adjustment)
            if new >= RECORD_BATCH:  # one transaction would hold them all: save a part
                if not self._save_statement(statement, kept):
                    return saved
                saved, new = saved + new, 0
        if new and not self._save_statement(statement, kept):
            return saved
        kept[plan_id] = statement
        return saved + new

    def _save_statement(self, statement: RebateStatement, kept: dict[UUID, Any]) -> bool:
        """Save a statement's new events; False when another writer saved some first (the
        next round re-checks). A failed save drops the statement from `kept`."""
        try:
            self.save(statement)
        except IntegrityError:
            kept.pop(statement.id, None)
            return False
        except Exception:
            kept.pop(statement.id, None)
            raise
        return True

    def rebate_statement(
        self, program_id: str, distributor_id: str, period: str
    ) -> RebateStatement:
        statement_id = RebateStatement.create_id(program_id, distributor_id, period)
        return self._get(RebateStatement, statement_id)

    def statement_step(
        self, key: tuple[str, str, str], action: str, by: str, at: datetime, reference: str = ""
    ) -> RebateStatement:
        """Approve or pay a rebate statement, and save it.

        Raises IllegalTransition (409), ValueError or AggregateNotFoundError (404).
        """
        statement = self.rebate_statement(*key)
        if action == "approve":
            statement.approve(by, at)
        elif action == "pay":
            statement.mark_paid(by, at, reference)
        else:
            raise ValueError(f"unknown statement action {action!r} (use approve or pay)")
        self.save(statement)
        return statement

    def reconciliation(
        self, distributor_id: str, sku: str, counted_at: datetime
    ) -> InventoryReconciliation:
        aggregate_id = InventoryReconciliation.create_id(distributor_id, sku, counted_at)
        return self._get(InventoryReconciliation, aggregate_id)

    def violation(self, violation_id: UUID) -> PricingViolation:
        """The violation aggregate; AggregateNotFoundError when there is none."""
        return self._get(PricingViolation, violation_id)

    def violation_status(self, violation_id: UUID) -> tuple[str, str | None]:
        """(status, resolution) of a violation; ("detected", None) before it is recorded."""
        try:
            violation = self.violation(violation_id)
        except AggregateNotFoundError:
            return "detected", None
        resolution = None if violation.resolution is None else str(violation.resolution)
        return str(violation.status), resolution

    def stepped_since(self, after: int) -> tuple[set[UUID], int]:
        """Violations with a lifecycle step recorded after notification `after`, and the
        last notification id looked at (where to continue from). Reads the step events
        only, never the violations themselves."""
        last = self.recorder.max_notification_id() or 0
        stepped: set[UUID] = set()
        start = after + 1
        while start <= last:
            page = self.recorder.select_notifications(
                start, PAGE, stop=last, topics=VIOLATION_STEP_TOPICS
            )
            stepped.update(UUID(str(n.originator_id)) for n in page)
            if len(page) < PAGE:
                break
            start = page[-1].id + 1
        return stepped, last

    def decided(self, violation_id: UUID) -> Decided | None:
        """A violation's lifecycle status as a `Decided` (None: not recorded)."""
        try:
            violation = self.violation(violation_id)
        except AggregateNotFoundError:
            return None
        resolution = None if violation.resolution is None else str(violation.resolution)
        return Decided(
            violation_id,
            violation.distributor_id,
            violation.transaction_id,
            str(violation.status),
            resolution,
        )

    def statuses(self) -> KnownStatuses:
        """Every decided violation, read now (see streams/runners/violation_statuses.py for a
        follower that reads only what is new)."""
        ids, _ = self.stepped_since(0)
        return KnownStatuses(d for d in map(self.decided, ids) if d is not None)

    def violation_step(self, violation_id: UUID, action: str, **step: Any) -> PricingViolation:
        """Run one lifecycle step (acknowledge / dispute / resolve) and save it.

        Raises NotAllowed (403), IllegalTransition (409) or AggregateNotFoundError (404).
        """
        violation = self.violation(violation_id)
        getattr(violation, Action(action).value)(**step)
        self.save(violation)
        return violation

    def debit_claim(self, distributor_id: str, claim_id: str) -> DebitClaim:
        """The debit claim aggregate of (distributor, claim id); AggregateNotFoundError when
        the claim is not recorded."""
        return self._get(DebitClaim, DebitClaim.create_id(distributor_id, claim_id))

    def claim_step(self, key: tuple[str, str], action: str, **step: Any) -> DebitClaim:
        """Run one lifecycle step of a debit claim (approve / pay / credit / dispute /
        resolve) and save it.

        Raises NotAllowed (403), IllegalTransition (409), ValueError or
        AggregateNotFoundError (404).
        """
        claim = self.debit_claim(*key)
        getattr(claim, ClaimAction(action).value)(**step)
        self.save(claim)
        return claim

    def claim(self, distributor_id: str, sku: str, effective_from: datetime) -> PriceProtection:
        aggregate_id = PriceProtection.create_id(distributor_id, sku, effective_from)
        return self._get(PriceProtection, aggregate_id)

    def record_erasure(self, erasure: SubjectErasure) -> SubjectErasure:
        """Record an erasure (docs/PRIVACY.md) on the audit chain; the one recorded before
        under its id (the same keys: a rerun after a crash) when there is one."""
        try:
            self.save(erasure)
        except IntegrityError:
            return self._get(SubjectErasure, erasure.id)
        return erasure

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.recorder, ChainedPostgresRecorder)

    @property
    def chain(self) -> ChainedRecorder:
        """The recorder, which seals every event it stores. Keep the AuditLog referenced
        while using it: a collected application closes the recorder's connection pool."""
        recorder = self.recorder
        assert isinstance(recorder, ChainedPostgresRecorder | ChainedSQLiteRecorder)
        return recorder

    def aggregate_ids(self) -> list[UUID]:
        """Every aggregate in the store, in the order of its first event."""
        seen: dict[UUID, None] = {}
        start = 1
        while True:
            page = self.recorder.select_notifications(start=start, limit=1000)
            for notification in page:
                seen.setdefault(UUID(str(notification.originator_id)), None)
            if len(page) < 1000:
                return list(seen)
            start = page[-1].id + 1

    def seal_unsealed(self) -> int:
        """Seal the events stored before sealing existed; how many (docs/AUDIT.md)."""
        return self.chain.seal_unsealed()

    def verify_chain(self, expected_head: str | None = None) -> ChainReport:
        """Walk the whole store: every changed, deleted, inserted or reordered record."""
        return verify_chain(self.chain, expected_head)

    def _get(self, kind: type[A], aggregate_id: UUID) -> A:
        aggregate: object = self.repository.get(aggregate_id)
        if not isinstance(aggregate, kind):
            raise AggregateNotFoundError(aggregate_id)
        return aggregate


#: advisory-lock key under which processes create the audit tables one at a time
SCHEMA_LOCK: Final = 0x636866_6C6F77


def open_audit_log(url: str, existing: bool = False) -> AuditLog:
    """The audit log at `url`; on PostgreSQL, workers starting together create its tables
    one after another (concurrent CREATE ... IF NOT EXISTS fails with "tuple concurrently
    updated"). `existing`: a SQLite file must be there already, for the tools that read a
    store: a mistyped path would otherwise be a new, empty store that verifies."""
    env = persistence_env(url)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        path = env["SQLITE_DBNAME"]
        if existing and not path.startswith("file:") and not Path(path).is_file():
            raise EventStoreConfigError(f"no SQLite event store at {path!r}")
        try:
            return AuditLog(env=env)
        except (InterfaceError, sqlite3.DatabaseError) as exc:  # no such folder, not SQLite
            raise EventStoreConfigError(f"cannot open {path!r}: {exc}") from None
    with psycopg.connect(url, autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            return AuditLog(env=env)
        finally:
            lock.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
