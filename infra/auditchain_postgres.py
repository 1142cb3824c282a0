"""The PostgreSQL recorder that seals every event in the transaction that stores it, under
the events table's lock (infra/auditchain.py says how)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier
from psycopg.sql import Literal as SqlLiteral

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
            "columns": SQL(SEAL_COLUMNS),
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
            self._append(curs, [record_of(row) for row in curs.fetchall()])
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
            uuid_of(row["originator_id"]): str(row["aggregate_hash"]) for row in curs.fetchall()
        }
        seals = seal_records(records, head, latest)
        curs.executemany(
            self._sql(
                "INSERT INTO {schema}.{chain} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ),
            [seal_row(seal, seal.record.originator_id) for seal in seals],
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
            records = [record_of(row) for row in curs.fetchall()]
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
            return [seal_of(row) for row in curs.fetchall()]

    def seals_of(self, originator_id: UUID) -> list[Seal]:
        query = self._sql(
            "SELECT {columns} FROM {schema}.{chain} WHERE originator_id = %s ORDER BY seq"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, (originator_id,))
            return [seal_of(row) for row in curs.fetchall()]

    def recorded_among(self, originator_ids: Collection[UUID]) -> set[UUID]:
        """Which of these aggregates have events: one query for a batch of facts."""
        query = self._sql(
            "SELECT DISTINCT originator_id FROM {schema}.{events} WHERE originator_id = ANY(%s)"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, (list(originator_ids),))
            return {uuid_of(row["originator_id"]) for row in curs.fetchall()}
