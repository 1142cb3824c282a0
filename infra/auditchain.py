"""Tamper evidence for the audit event store: every stored event is sealed in two hash chains.

Each event row (the eventsourcing library's `<name>_events` table) gets one seal row in
`<name>_events_chain`, written by the recorder in the same database transaction as the
event itself:

- `content_hash` = sha256(topic, state) of the row as stored;
- `aggregate_hash` chains the events of one aggregate: it covers the previous seal of the
  same aggregate, the aggregate id, its version and the content;
- `chain_hash` chains every event of the store in one global sequence (`seq` 1, 2, 3, ...):
  it covers the previous seal's chain hash, the event's global position (notification id),
  its aggregate id, version and content. The last one is the *head*.

On PostgreSQL the recorder already takes an EXCLUSIVE lock on the events table before it
inserts (the library does, so notification ids are committed in order); the seal is
computed under that lock, so several worker processes append to one chain without
interleaving. A deferred constraint trigger refuses to commit an event row that has no
seal, whatever code wrote it. On SQLite the write transaction serializes writers.

`verify_chain` walks the store and names every changed, deleted, inserted or reordered
record. The chain is keyless: whoever can write both tables can recompute it, so the
proof against a rewrite is a head kept outside the database (`expected_head`). See
docs/AUDIT.md.

Here: the hashes, records and seals, and what a sealing recorder offers. Beside it: the
recorders (`auditchain_postgres.py`, `auditchain_sqlite.py`) and `verify_chain`
(`auditchain_verify.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification

#: the "previous hash" of the first seal of the store and of each aggregate
GENESIS: Final = "0" * 64
PAGE: Final = 5000

FindingKind = Literal["changed", "deleted", "inserted", "reordered", "seal_altered", "rewritten"]


def kept_head(text: str) -> str:
    """A chain head as an auditor kept it, in the form the chain writes it: 64 hex digits,
    read in either case and without the blanks a copy brings along (a head in capitals is
    the same head, not a rewritten chain). Anything else is a ValueError saying so: a typo
    must not read as evidence of tampering."""
    head = text.strip().lower()
    if len(head) != len(GENESIS) or not all(c in "0123456789abcdef" for c in head):
        raise ValueError(f"{text!r} is not a chain head: 64 hexadecimal digits (a sha256)")
    return head


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(topic: str, state: bytes) -> str:
    """What an event row holds besides its identity: its topic (event class) and state."""
    digest = hashlib.sha256(topic.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(state)
    return digest.hexdigest()


def aggregate_link(previous: str, originator_id: UUID, version: int, content: str) -> str:
    return _sha256(f"aggregate|{previous}|{originator_id}|{version}|{content}")


def chain_link(
    previous: str, position: int, originator_id: UUID, version: int, content: str
) -> str:
    return _sha256(f"chain|{previous}|{position}|{originator_id}|{version}|{content}")


@dataclass(frozen=True, slots=True)
class Record:
    """One stored event as the chain sees it."""

    position: int
    originator_id: UUID
    version: int
    content_hash: str

    @classmethod
    def of(cls, position: int, originator_id: Any, version: int, topic: str, state: Any) -> Record:
        return cls(
            position, uuid_of(originator_id), int(version), content_hash(topic, _bytes(state))
        )

    @classmethod
    def of_notification(cls, notification: Notification) -> Record:
        return cls.of(
            notification.id,
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            notification.state,
        )

    def link(self, previous: str) -> str:
        return chain_link(
            previous, self.position, self.originator_id, self.version, self.content_hash
        )

    def describe(self) -> str:
        return f"aggregate {self.originator_id} version {self.version} position {self.position}"


@dataclass(frozen=True, slots=True)
class Seal:
    """The chain row of one event."""

    seq: int
    record: Record
    aggregate_hash: str
    chain_hash: str


def seal_records(
    records: Sequence[Record], head: tuple[int, str], latest: Mapping[UUID, str]
) -> list[Seal]:
    """Seals of new records (in position order) after the chain's head (seq, chain hash),
    each aggregate's chain continuing from `latest` (its last seal's aggregate hash)."""
    seq, previous = head
    latest = dict(latest)
    seals = []
    for record in records:
        seq += 1
        aggregate = aggregate_link(
            latest.get(record.originator_id, GENESIS),
            record.originator_id,
            record.version,
            record.content_hash,
        )
        previous = record.link(previous)
        latest[record.originator_id] = aggregate
        seals.append(Seal(seq, record, aggregate, previous))
    return seals


def _bytes(state: Any) -> bytes:
    """A state column as bytes, whatever a hand-made change left in it (SQLite: text)."""
    return state.encode("utf-8") if isinstance(state, str) else bytes(state)


def uuid_of(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def seal_row(seal: Seal, originator_id: Any) -> tuple[Any, ...]:
    r = seal.record
    return (
        seal.seq,
        r.position,
        originator_id,
        r.version,
        r.content_hash,
        seal.aggregate_hash,
        seal.chain_hash,
    )


def seal_of(row: Mapping[str, Any]) -> Seal:
    record = Record(
        int(row["notification_id"]),
        uuid_of(row["originator_id"]),
        int(row["originator_version"]),
        str(row["content_hash"]),
    )
    return Seal(int(row["seq"]), record, str(row["aggregate_hash"]), str(row["chain_hash"]))


SealOrder = Literal["seq", "position"]


class ChainedRecorder(Protocol):
    """What `verify_chain` and the audit trail need from a sealing recorder."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]: ...

    def select_seals(self, order: SealOrder, after: tuple[int, int], limit: int) -> list[Seal]: ...

    def seals_of(self, originator_id: UUID) -> list[Seal]: ...

    def seal_unsealed(self) -> int: ...

    def recorded_among(self, originator_ids: Collection[UUID]) -> set[UUID]: ...


#: the seal table's columns, in order
SEAL_COLUMNS = (
    "seq, notification_id, originator_id, originator_version, content_hash, aggregate_hash, "
    "chain_hash"
)


def record_of(row: Mapping[str, Any]) -> Record:
    return Record.of(
        row["notification_id"],
        row["originator_id"],
        row["originator_version"],
        row["topic"],
        row["state"],
    )
