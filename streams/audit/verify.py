"""The auditor's check: a replay from raw events against the live system and the audit store.

Two comparisons, each difference printed with both values:
- the live snapshot (from a worker's API) against the replay's, row by row (lifecycle
  statuses excepted: they are decisions recorded only in the event store);
- every audit fact the replay derives (reconciliations, violations, price-protection claims,
  rebate statements and their adjustments) against the event store, event by event.

Inside a running process (GET /api/audit/verify) there is no replay: `live_differences`
checks what the live projections imply against the store instead. The hash chain of the
store itself is walked by `infra.auditchain_verify.verify_chain`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from infra.eventstore import AuditLog, open_audit_log
from projections.price_protection_claims import PriceProtectionClaim
from projections.price_rules import FlaggedSale
from projections.rebate_accruals import StatementPlan
from projections.snapshot import (
    Snapshot,
    now_of,
    protection_claims,
    rebate_statements,
)
from projections.stores import ChannelStores
from schemas.rows import SNAPSHOT_SECTIONS

#: snapshot columns that only the event store can know
LIFECYCLE_COLUMNS = frozenset({"status", "resolution"})
#: key columns of each snapshot section: what identifies a row of its model
ROW_KEYS: dict[str, tuple[str, ...]] = {
    section: model.identified_by for section, model in SNAPSHOT_SECTIONS.items()
}


@dataclass(frozen=True)
class Difference:
    where: str
    replayed: Any
    recorded: Any

    def __str__(self) -> str:
        return f"{self.where}: replay {self.replayed!r} != recorded {self.recorded!r}"


def what_to_do(snapshot: int, audit: int, unrecorded: int = 0) -> list[str]:
    """What a person does next about `snapshot` live rows and `audit` stored facts that
    differ from the replay, `unrecorded` of them facts the replay derives that are not
    stored (docs/AUDIT.md, "When verify finds differences")."""
    lines = [
        f"{snapshot + audit} differences: {snapshot} in the live snapshot, {audit} in the "
        "audit store ('replay' is what the raw events give, 'recorded' what is live or stored)"
    ]
    if snapshot:
        lines.append(
            "  live snapshot: a worker still catching up differs from the replay of what the "
            "broker holds; once channelflow_consumer_lag_messages is 0 on every worker, run "
            "verify again. Rows that still differ: look at "
            "channelflow_order_waits_expired_total on the workers (count fields and "
            "reconciliations read out of order); workers started under a new "
            "CHANNELFLOW_APP_ID rebuild their stores from the raw topics (docs/OPERATIONS.md)"
        )
    if audit > unrecorded:
        lines.append(
            "  audit store: a fact recorded with other values than the raw events give, or "
            "that they do not give: `channelflow audit history KIND REF` shows its record, "
            "and `channelflow verify --audit` whether the store was changed by hand"
        )
    if unrecorded:
        lines.append(
            f"  not recorded: {unrecorded} facts the raw events give are not stored (yet?): "
            "workers record them in rounds, of partitions read to their end, and a period's "
            "statement once the close a round published is applied; run verify again once "
            'channelflow_round_seconds_count{round="recording"} has grown on every worker. '
            "Still missing then: see channelflow_audit_round_failures_total and the "
            "workers' logs"
        )
    return lines


def unrecorded(differences: Iterable[Difference]) -> int:
    """How many of the audit store's `differences` are facts it does not hold at all."""
    return sum(d.recorded is None and d.replayed is not None for d in differences)


def snapshot_differences(replayed: Snapshot, live: Snapshot) -> Iterator[Difference]:
    for section in sorted(set(replayed) | set(live)):
        keys = ROW_KEYS.get(section, ())
        mine = {_key(row, keys): row for row in replayed.get(section, [])}
        theirs = {_key(row, keys): row for row in live.get(section, [])}
        for key in sorted(set(mine) | set(theirs), key=str):
            where = f"{section} {key}"
            if key not in theirs or key not in mine:
                yield Difference(where, mine.get(key), theirs.get(key))
                continue
            for column in sorted(set(mine[key]) | set(theirs[key])):
                if column in LIFECYCLE_COLUMNS and section == "violations":
                    continue
                if mine[key].get(column) != theirs[key].get(column):
                    yield Difference(
                        f"{where} {column}", mine[key].get(column), theirs[key].get(column)
                    )


def _key(row: dict[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in keys) if keys else tuple(sorted(row.items()))


def audit_differences(
    replayed: AuditLog, recorded: AuditLog, complete: bool = True
) -> tuple[int, list[Difference]]:
    """(facts verified, differences): every fact the replay derived, as it stands now (a
    claim revised, a statement with its adjustments), must be recorded alike; lifecycle
    decisions (acknowledged, approved, paid, ...) exist only in the store and are skipped.
    When the replay is `complete` (the whole history), a recorded fact it does not derive
    is a difference too, except a withdrawn claim (revised to zero units)."""
    verified = 0
    differences: list[Difference] = []
    derived = set(replayed.aggregate_ids())
    if complete:
        for originator_id in sorted(set(recorded.aggregate_ids()) - derived, key=str):
            differences.extend(_underived(recorded, originator_id))
    for originator_id in sorted(derived, key=str):
        expected = facts_of(replayed.repository.get(originator_id))
        where = f"{expected.get('kind')} {originator_id}"
        try:
            actual = facts_of(recorded.repository.get(originator_id))
        except AggregateNotFoundError:
            differences.append(Difference(where, expected, None))
            continue
        except Exception as exc:  # a row changed by hand may not even decode: say so
            differences.append(Difference(where, expected, f"unreadable: {exc}"))
            continue
        changed = sorted(k for k in set(expected) | set(actual) if expected.get(k) != actual.get(k))
        for name in changed:
            differences.append(Difference(f"{where} {name}", expected.get(name), actual.get(name)))
        verified += not changed
    return verified, differences


def _underived(recorded: AuditLog, originator_id: UUID) -> list[Difference]:
    try:
        actual = facts_of(recorded.repository.get(originator_id))
    except Exception as exc:  # a row changed by hand may not even decode: say so
        return [Difference(f"record {originator_id}", None, f"unreadable: {exc}")]
    if actual["kind"] == "PriceProtection" and actual.get("units") == 0:
        return []
    if actual["kind"] == "SubjectErasure":  # an operator's act, not derived from raw events
        return []
    return [Difference(f"{actual['kind']} {originator_id}", None, actual)]


#: attributes that record decisions taken in the live system, not facts a replay derives
DECISIONS = frozenset(
    {
        "status", "resolution", "resolution_amount", "steps", "approved_by", "approved_at",
        "approved_total", "paid_by", "paid_at", "paid_total", "payment_reference",
    }
)  # fmt: skip


def facts_of(aggregate: Any) -> dict[str, Any]:
    """An aggregate's derived facts: its public state, plus a statement's total."""
    facts = {
        name: value
        for name, value in vars(aggregate).items()
        if not name.startswith("_") and name not in DECISIONS
    }
    facts["kind"] = type(aggregate).__name__
    if hasattr(aggregate, "adjustments"):
        facts["adjustments"] = [(a.event_id, a.amount) for a in aggregate.adjustments]
        facts["total"] = aggregate.total
    return facts


#: the fields of a violation the live projection holds too (its flagged sale)
VIOLATION_FIELDS = (
    "distributor_id", "transaction_id", "reseller_id", "sku", "sold_at", "quantity",
    "unit_price", "floor_price", "currency", "severity",
)  # fmt: skip


@dataclass(frozen=True)
class LiveFacts:
    """What a process's live projections imply for the audit store (read on its event loop)."""

    claims: list[PriceProtectionClaim]
    plans: list[StatementPlan]
    violations: list[FlaggedSale]


def live_facts(stores: ChannelStores) -> LiveFacts:
    return LiveFacts(
        protection_claims(stores, now_of(stores)),
        rebate_statements(stores),
        list(stores.violations.values()),
    )


def live_differences(facts: LiveFacts, recorded: AuditLog) -> tuple[int, list[Difference]]:
    """(facts verified, differences) of the live projections against the audit store.

    A worker holds only its own partitions' distributors, so only what it derives is
    checked; `audit_differences` on a full replay checks everything. A claim or statement
    derived since the last recording round shows as missing until that round has run.
    """
    derived = open_audit_log("sqlite:///:memory:")
    for claim in facts.claims:
        derived.record(claim)
    for plan in facts.plans:
        derived.record_statement(plan)
    verified, differences = audit_differences(derived, recorded, complete=False)
    for flagged in facts.violations:
        expected = _violation_facts(flagged)
        where = f"PricingViolation {flagged.violation_id}"
        try:
            actual = _violation_facts(recorded.violation(flagged.violation_id))
        except AggregateNotFoundError:
            differences.append(Difference(where, expected, None))
            continue
        changed = [name for name in VIOLATION_FIELDS if expected[name] != actual[name]]
        differences += [Difference(f"{where} {n}", expected[n], actual[n]) for n in changed]
        verified += not changed
    return verified, differences


def _violation_facts(violation: Any) -> dict[str, Any]:
    facts = {name: getattr(violation, name) for name in VIOLATION_FIELDS}
    facts["severity"] = str(facts["severity"])
    return facts
