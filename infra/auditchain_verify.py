"""`verify_chain`: a walk of the audit store naming every changed, deleted, inserted or
reordered record, and a rewrite of both tables against a head kept outside (docs/AUDIT.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from infra.auditchain import (
    GENESIS,
    PAGE,
    ChainedRecorder,
    FindingKind,
    Record,
    Seal,
    SealOrder,
    aggregate_link,
)


@dataclass(frozen=True)
class Finding:
    """One piece of evidence of tampering, naming the record it concerns."""

    kind: FindingKind
    detail: str
    originator_id: UUID | None = None
    version: int | None = None
    position: int | None = None

    def __str__(self) -> str:
        where = (
            f"aggregate {self.originator_id} version {self.version} position {self.position}"
            if self.originator_id is not None
            else "the chain"
        )
        return f"{self.kind}: {where}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "aggregate_id": None if self.originator_id is None else str(self.originator_id),
            "version": self.version,
            "position": self.position,
            "detail": self.detail,
        }


def _about(kind: FindingKind, record: Record, detail: str) -> Finding:
    return Finding(kind, detail, record.originator_id, record.version, record.position)


@dataclass
class ChainReport:
    """What a walk of the store found: records and seals, the head, and any findings."""

    records: int = 0
    seals: int = 0
    head: str = GENESIS
    head_position: int | None = None
    expected_head: str | None = None
    expected_head_position: int | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "records": self.records,
            "seals": self.seals,
            "head": self.head,
            "head_position": self.head_position,
            "expected_head": self.expected_head,
            "expected_head_position": self.expected_head_position,
            "findings": [finding.to_json() for finding in self.findings],
        }


def verify_chain(recorder: ChainedRecorder, expected_head: str | None = None) -> ChainReport:
    """Walk every seal and every event row; report what does not match.

    The seal table is checked on its own (each seal follows from the one before, per
    aggregate and globally), then every event row is compared with its seal by position.
    The head is recomputed from the event rows alone, so `expected_head` (a head kept
    outside the database) also catches a rewrite of both tables: it must be the chain hash
    at some position of the rows as they are now.
    """
    report = ChainReport(expected_head=expected_head)
    report.findings += _check_seals(recorder, report)
    report.findings += _compare_rows(recorder, report)
    if expected_head is not None and report.expected_head_position is None:
        report.findings.append(
            Finding(
                "rewritten",
                f"the kept head {expected_head} is not the chain hash at any position of the "
                "stored events: records before it were changed, removed or the chain rebuilt",
            )
        )
    report.findings.sort(key=lambda f: (f.position is None, f.position or 0, f.kind))
    return report


def _seals(recorder: ChainedRecorder, order: SealOrder) -> Iterator[Seal]:
    after = (0, 0)
    while True:
        page = recorder.select_seals(order, after, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        last = page[-1]
        after = (last.seq, last.seq) if order == "seq" else (last.record.position, last.seq)


def _events(recorder: ChainedRecorder) -> Iterator[Record]:
    start = 1
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE)
        for notification in page:
            yield Record.of_notification(notification)
        if len(page) < PAGE:
            return
        start = page[-1].id + 1


def _check_seals(recorder: ChainedRecorder, report: ChainReport) -> Iterator[Finding]:
    """Each seal must follow from the previous one, globally and within its aggregate."""
    previous, expected_seq = GENESIS, 1
    latest: dict[UUID, tuple[int, str]] = {}
    for seal in _seals(recorder, "seq"):
        record = seal.record
        report.seals += 1
        if seal.seq != expected_seq:
            yield _about(
                "deleted",
                record,
                f"seals #{expected_seq}..#{seal.seq - 1} before this record are missing",
            )
        elif seal.chain_hash != record.link(previous):
            yield _about(
                "seal_altered", record, f"seal #{seal.seq} does not follow from the one before"
            )
        version, aggregate = latest.get(record.originator_id, (0, GENESIS))
        if record.version != version + 1 or seal.aggregate_hash != aggregate_link(
            aggregate, record.originator_id, record.version, record.content_hash
        ):
            yield _about(
                "seal_altered",
                record,
                f"seal #{seal.seq} does not follow the aggregate's seal of version {version}",
            )
        previous, expected_seq = seal.chain_hash, seal.seq + 1
        latest[record.originator_id] = (record.version, seal.aggregate_hash)


def _compare_rows(recorder: ChainedRecorder, report: ChainReport) -> list[Finding]:
    """Merge event rows and seals by position; classify every mismatch."""
    findings: list[Finding] = []
    mismatched: list[tuple[Record, Seal]] = []
    orphans: list[Seal] = []
    seals = _current_seals(_seals(recorder, "position"), orphans)
    seal = next(seals, None)
    actual = GENESIS
    for record in _events(recorder):
        while seal is not None and seal.record.position < record.position:
            orphans.append(seal)
            seal = next(seals, None)
        if seal is not None and seal.record.position == record.position:
            if seal.record != record:
                mismatched.append((record, seal))
            seal = next(seals, None)
        else:
            findings.append(
                _about("inserted", record, "has no seal: written outside the audit log")
            )
        actual = record.link(actual)
        report.records += 1
        report.head, report.head_position = actual, record.position
        if actual == report.expected_head:
            report.expected_head_position = record.position
    while seal is not None:
        orphans.append(seal)
        seal = next(seals, None)
    moved = {s.record.content_hash: s for s in (*orphans, *(s for _, s in mismatched))}
    for record, sealed in mismatched:
        origin = moved.get(record.content_hash)
        if record.content_hash == sealed.record.content_hash:
            findings.append(
                _about("reordered", sealed.record, f"the row now says {record.describe()}")
            )
        elif origin is not None:
            findings.append(
                _about(
                    "reordered",
                    sealed.record,
                    f"the row now holds what was sealed as {origin.record.describe()}",
                )
            )
        else:
            findings.append(
                _about("changed", sealed.record, f"no longer matches its seal #{sealed.seq}")
            )
    placed = {record.content_hash for record, _ in mismatched}
    findings += [
        _about("deleted", s.record, f"sealed (#{s.seq}) but no longer stored")
        for s in orphans
        if s.record.content_hash not in placed
    ]
    return findings


def _current_seals(seals: Iterator[Seal], superseded: list[Seal]) -> Iterator[Seal]:
    """The last seal of each position; earlier ones at the same position (their event was
    removed and the position reused, e.g. after the events table was recreated) go to
    `superseded`."""
    pending: Seal | None = None
    for seal in seals:
        if pending is not None and pending.record.position == seal.record.position:
            superseded.append(pending)
        elif pending is not None:
            yield pending
        pending = seal
    if pending is not None:
        yield pending
