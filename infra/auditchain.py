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
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier
from psycopg.sql import Literal as SqlLiteral

#: the "previous hash" of the first seal of the store and of each aggregate
GENESIS: Final = "0" * 64
PAGE: Final = 5000

FindingKind = Literal["changed", "deleted", "inserted", "reordered", "seal_altered", "rewritten"]


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
        return cls(position, _uuid(originator_id), int(version), content_hash(topic, _bytes(state)))

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


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _seal_row(seal: Seal, originator_id: Any) -> tuple[Any, ...]:
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


def _seal_of(row: Mapping[str, Any]) -> Seal:
    record = Record(
        int(row["notification_id"]),
        _uuid(row["originator_id"]),
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


# --- PostgreSQL ---------------------------------------------------------------------------------

_COLUMNS = (
    "seq, notification_id, originator_id, originator_version, content_hash, aggregate_hash, "
    "chain_hash"
)


class ChainedPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, sealing every insert in the same transaction."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            raise ProgrammingError("POSTGRES_ENABLE_DB_FUNCTIONS would insert events unsealed")
        self.chain_table_name = f"{events_table_name}_chain"
        self.check_identifier_length(self.chain_table_name)
        names = {
            "schema": Identifier(datastore.schema),
            "events": Identifier(events_table_name),
            "chain": Identifier(self.chain_table_name),
            "position_index": Identifier(f"{self.chain_table_name}_position_idx"),
            "aggregate_index": Identifier(f"{self.chain_table_name}_aggregate_idx"),
            "check": Identifier(f"{self.chain_table_name}_sealed"),
            "trigger": Identifier(f"{self.chain_table_name}_sealed"),
            "trigger_name": SqlLiteral(f"{self.chain_table_name}_sealed"),
            "events_name": SqlLiteral(f'"{datastore.schema}"."{events_table_name}"'),
            "columns": SQL(_COLUMNS),
        }
        self._names = names
        self.sql_create_statements += [
            self._sql(
                "CREATE TABLE IF NOT EXISTS {schema}.{chain} (seq bigint PRIMARY KEY, "
                "notification_id bigint NOT NULL, originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, content_hash text NOT NULL, "
                "aggregate_hash text NOT NULL, chain_hash text NOT NULL)"
            ),
            self._sql(
                "CREATE INDEX IF NOT EXISTS {position_index} ON {schema}.{chain} "
                "(notification_id, seq)"
            ),
            self._sql(
                "CREATE INDEX IF NOT EXISTS {aggregate_index} ON {schema}.{chain} "
                "(originator_id, seq)"
            ),
            # an event row cannot commit without its seal, whatever code inserted it
            self._sql(
                "CREATE OR REPLACE FUNCTION {schema}.{check}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                "IF NOT EXISTS (SELECT 1 FROM {schema}.{chain} c "
                "WHERE c.notification_id = NEW.notification_id "
                "AND c.originator_id = NEW.originator_id "
                "AND c.originator_version = NEW.originator_version) THEN "
                "RAISE EXCEPTION 'audit event % version % at % has no seal', "
                "NEW.originator_id, NEW.originator_version, NEW.notification_id; "
                "END IF; RETURN NULL; END $$"
            ),
            self._sql(
                "DO $$ BEGIN "
                "IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = {trigger_name} "
                "AND tgrelid = {events_name}::regclass) THEN "
                "CREATE CONSTRAINT TRIGGER {trigger} AFTER INSERT ON {schema}.{events} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {schema}.{check}(); "
                "END IF; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            ),
        ]

    def _sql(self, template: str) -> Composed:
        return SQL(template).format(**self._names)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if positions:
            curs.execute(
                self._sql(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {schema}.{events} WHERE notification_id = ANY(%s) "
                    "ORDER BY notification_id"
                ),
                (list(positions),),
            )
            self._append(curs, [_record_of(row) for row in curs.fetchall()])
        return positions

    def _append(self, curs: Cursor[DictRow], records: list[Record]) -> None:
        curs.execute(
            self._sql("SELECT seq, chain_hash FROM {schema}.{chain} ORDER BY seq DESC LIMIT 1")
        )
        top = curs.fetchone()
        head = (0, GENESIS) if top is None else (int(top["seq"]), str(top["chain_hash"]))
        curs.execute(
            self._sql(
                "SELECT DISTINCT ON (originator_id) originator_id, aggregate_hash "
                "FROM {schema}.{chain} WHERE originator_id = ANY(%s) "
                "ORDER BY originator_id, seq DESC"
            ),
            (list({r.originator_id for r in records}),),
        )
        latest = {
            _uuid(row["originator_id"]): str(row["aggregate_hash"]) for row in curs.fetchall()
        }
        seals = seal_records(records, head, latest)
        curs.executemany(
            self._sql(
                "INSERT INTO {schema}.{chain} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ),
            [_seal_row(seal, seal.record.originator_id) for seal in seals],
        )

    def seal_unsealed(self) -> int:
        """Seal event rows that have no seal (a store written before sealing existed), in
        position order; idempotent. Every other writer waits on the table lock meanwhile."""
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            curs.execute(
                self._sql(
                    "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, "
                    "e.state FROM {schema}.{events} e LEFT JOIN {schema}.{chain} c "
                    "ON c.notification_id = e.notification_id "
                    "AND c.originator_id = e.originator_id "
                    "AND c.originator_version = e.originator_version "
                    "WHERE c.seq IS NULL ORDER BY e.notification_id"
                )
            )
            records = [_record_of(row) for row in curs.fetchall()]
            if records:
                self._append(curs, records)
        return len(records)

    def select_seals(self, order: SealOrder, after: tuple[int, int], limit: int) -> list[Seal]:
        keys = "seq, seq" if order == "seq" else "notification_id, seq"
        query = self._sql(
            "SELECT {columns} FROM {schema}.{chain} WHERE (" + keys + ") > (%s, %s) "
            "ORDER BY " + keys + " LIMIT %s"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, (*after, limit))
            return [_seal_of(row) for row in curs.fetchall()]

    def seals_of(self, originator_id: UUID) -> list[Seal]:
        query = self._sql(
            "SELECT {columns} FROM {schema}.{chain} WHERE originator_id = %s ORDER BY seq"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, (originator_id,))
            return [_seal_of(row) for row in curs.fetchall()]

    def recorded_among(self, originator_ids: Collection[UUID]) -> set[UUID]:
        """Which of these aggregates have events: one query for a batch of facts."""
        query = self._sql(
            "SELECT DISTINCT originator_id FROM {schema}.{events} WHERE originator_id = ANY(%s)"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, (list(originator_ids),))
            return {_uuid(row["originator_id"]) for row in curs.fetchall()}


def _record_of(row: Mapping[str, Any]) -> Record:
    return Record.of(
        row["notification_id"],
        row["originator_id"],
        row["originator_version"],
        row["topic"],
        row["state"],
    )


# --- SQLite -------------------------------------------------------------------------------------


class ChainedSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, sealing every insert in the same transaction."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.chain_table_name = f"{events_table_name}_chain"
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        chain = self.chain_table_name
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {chain} (seq INTEGER PRIMARY KEY, "
            "notification_id INTEGER NOT NULL, originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, content_hash TEXT NOT NULL, "
            "aggregate_hash TEXT NOT NULL, chain_hash TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {chain}_position_idx ON {chain} (notification_id, seq)",
            f"CREATE INDEX IF NOT EXISTS {chain}_aggregate_idx ON {chain} (originator_id, seq)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        assert positions is not None
        records = [
            Record.of(position, s.originator_id, s.originator_version, s.topic, s.state)
            for position, s in zip(positions, stored_events, strict=True)
        ]
        self._append(c, sorted(records, key=lambda r: r.position))
        return positions

    def _append(self, c: SQLiteCursor, records: list[Record]) -> None:
        chain = self.chain_table_name
        c.execute(f"SELECT seq, chain_hash FROM {chain} ORDER BY seq DESC LIMIT 1")
        top = c.fetchone()
        head = (0, GENESIS) if top is None else (int(top["seq"]), str(top["chain_hash"]))
        latest: dict[UUID, str] = {}
        for originator_id in {r.originator_id for r in records}:
            c.execute(
                f"SELECT aggregate_hash FROM {chain} WHERE originator_id = ? "
                "ORDER BY seq DESC LIMIT 1",
                (str(originator_id),),
            )
            row = c.fetchone()
            if row is not None:
                latest[originator_id] = str(row["aggregate_hash"])
        seals = seal_records(records, head, latest)
        c.executemany(
            f"INSERT INTO {chain} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [_seal_row(seal, str(seal.record.originator_id)) for seal in seals],
        )

    def seal_unsealed(self) -> int:
        """Seal event rows that have no seal, in position order; idempotent."""
        events, chain = self.events_table_name, self.chain_table_name
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"SELECT e.rowid AS notification_id, e.originator_id, e.originator_version, "
                f"e.topic, e.state FROM {events} e LEFT JOIN {chain} c "
                "ON c.notification_id = e.rowid WHERE c.seq IS NULL ORDER BY e.rowid"
            )
            records = [_record_of(row) for row in c.fetchall()]
            if records:
                self._append(c, records)
        return len(records)

    def select_seals(self, order: SealOrder, after: tuple[int, int], limit: int) -> list[Seal]:
        first = "seq" if order == "seq" else "notification_id"
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {_COLUMNS} FROM {self.chain_table_name} "
                f"WHERE ({first}, seq) > (?, ?) ORDER BY {first}, seq LIMIT ?",
                (*after, limit),
            )
            return [_seal_of(row) for row in c.fetchall()]

    def seals_of(self, originator_id: UUID) -> list[Seal]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {_COLUMNS} FROM {self.chain_table_name} WHERE originator_id = ? "
                "ORDER BY seq",
                (str(originator_id),),
            )
            return [_seal_of(row) for row in c.fetchall()]

    def recorded_among(self, originator_ids: Collection[UUID]) -> set[UUID]:
        """Which of these aggregates have events: one query for a batch of facts."""
        ids = [originator_id.hex for originator_id in originator_ids]  # as the library stores them
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                f"WHERE originator_id IN ({', '.join('?' * len(ids))})",
                ids,
            )
            return {_uuid(row["originator_id"]) for row in c.fetchall()}


# --- verification -------------------------------------------------------------------------------


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
