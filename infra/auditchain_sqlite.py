"""The SQLite recorder that seals every event in the transaction that stores it
(infra/auditchain.py says how)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from infra.auditchain import (
    GENESIS,
    SEAL_COLUMNS,
    Record,
    Seal,
    SealOrder,
    record_of,
    seal_of,
    seal_records,
    seal_row,
    uuid_of,
)


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
            f"INSERT INTO {chain} ({SEAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [seal_row(seal, str(seal.record.originator_id)) for seal in seals],
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
            records = [record_of(row) for row in c.fetchall()]
            if records:
                self._append(c, records)
        return len(records)

    def select_seals(self, order: SealOrder, after: tuple[int, int], limit: int) -> list[Seal]:
        first = "seq" if order == "seq" else "notification_id"
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {SEAL_COLUMNS} FROM {self.chain_table_name} "
                f"WHERE ({first}, seq) > (?, ?) ORDER BY {first}, seq LIMIT ?",
                (*after, limit),
            )
            return [seal_of(row) for row in c.fetchall()]

    def seals_of(self, originator_id: UUID) -> list[Seal]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {SEAL_COLUMNS} FROM {self.chain_table_name} WHERE originator_id = ? "
                "ORDER BY seq",
                (str(originator_id),),
            )
            return [seal_of(row) for row in c.fetchall()]

    def recorded_among(self, originator_ids: Collection[UUID]) -> set[UUID]:
        """Which of these aggregates have events: one query for a batch of facts."""
        ids = [originator_id.hex for originator_id in originator_ids]  # as the library stores them
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                f"WHERE originator_id IN ({', '.join('?' * len(ids))})",
                ids,
            )
            return {uuid_of(row["originator_id"]) for row in c.fetchall()}


# --- verification -------------------------------------------------------------------------------
