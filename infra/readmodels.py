"""Read models in PostgreSQL: the projections as documented tables for BI tools and plain SQL.

Every data table holds the rows of one projection (the snapshot key of the same name),
each row tagged with the raw topics' partition its distributor is keyed to. A writer (a
worker, for the partitions it owns; or the embedded runner) replaces the rows of whole
partitions and records, in the same transaction, the source positions the rows reflect:
(topic, partition) -> offset. That is the tracking pattern of the eventsourcing library,
and what makes a write idempotent and a stale one harmless:

- a partition whose stored positions are ahead of the write's (an offset higher, or a
  topic the write does not know) is *stale*: refused, the stored rows stay;
- positions equal and rows equal (a digest per table): *unchanged*, nothing is written;
- otherwise the partition is *written*: the tables whose rows changed are replaced.

Rows can change with positions unchanged (a price or program from another partition, a
violation acknowledged in the audit log, "now" moving with another partition), which is
why equal positions are compared on content and not simply skipped.

The projections' tables are derived from their row models (schemas/rows/, `row_table`):
they are the single source of the DDL (with COMMENTs, which Metabase and Grafana show) and of
docs/READ_MODELS.md (a unit test keeps them in sync).

Here: the writer. Beside it: the tables (`readmodel_tables.py`) and what a write is, with
its decision (`readmodel_writes.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

#: a snapshot row: JSON values (decimal strings, ISO 8601 times) as the API serves them
from infra.readmodel_tables import (
    ALL_TABLES,
    PARTITION_WRITES,
    SOURCE_POSITIONS,
    TABLES,
    Table,
    ddl,
)
from infra.readmodel_writes import PartitionWrite, Plan, Skipped, Stored, Verdict, plan, sql_rows


class ReadModelWriter:
    """Writes partitions of read-model rows to one PostgreSQL schema (blocking: psycopg).

    Writers of one schema are serialized by a transaction-scoped advisory lock, so the
    positions a write compares with are the ones it replaces.
    """

    def __init__(self, dsn: str, schema: str, writer: str) -> None:
        self.dsn = dsn
        self.schema = schema
        self.writer = writer
        self._conn: psycopg.Connection[Any] | None = None
        #: rows the last `write` left out (see `Skipped`)
        self.skipped: list[Skipped] = []

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A locked transaction; a failed connection is dropped so the next call reconnects."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        conn = self._conn
        try:
            with conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))",
                    (f"channelflow.readmodels:{self.schema}",),
                )
                yield conn
        except psycopg.OperationalError:
            self.close()
            raise

    def init(self) -> None:
        """Create the schema and tables, or add the columns a newer release defines."""
        with self._transaction() as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )
            for table in ALL_TABLES:
                for statement in ddl(self.schema, table):
                    conn.execute(statement)

    def _stored(
        self, conn: psycopg.Connection[Any], partitions: Sequence[int]
    ) -> dict[int, Stored]:
        positions: dict[int, dict[str, int]] = {p: {} for p in partitions}
        digests: dict[int, dict[str, str]] = {p: {} for p in partitions}
        for partition, topic, offset in conn.execute(
            sql.SQL(
                "SELECT kafka_partition, topic, kafka_offset FROM {}"
                " WHERE kafka_partition = ANY(%s)"
            ).format(self._name(SOURCE_POSITIONS)),
            (list(partitions),),
        ):
            positions[partition][topic] = offset
        for partition, table_digests in conn.execute(
            sql.SQL(
                "SELECT kafka_partition, table_digests FROM {} WHERE kafka_partition = ANY(%s)"
            ).format(self._name(PARTITION_WRITES)),
            (list(partitions),),
        ):
            digests[partition] = dict(table_digests)
        return {p: Stored(positions[p], digests[p]) for p in partitions}

    def write(self, writes: Sequence[PartitionWrite], as_of: datetime | None) -> dict[int, Plan]:
        """Write the partitions that are not stale and changed, in one transaction."""
        self.skipped = []
        with self._transaction() as conn:
            stored = self._stored(conn, [w.partition for w in writes])
            plans = {w.partition: plan(stored[w.partition], w) for w in writes}
            written = [w for w in writes if plans[w.partition].verdict is Verdict.WRITTEN]
            for table in TABLES:
                touched = [w for w in written if table.name in plans[w.partition].tables]
                replaced = [w for w in touched if not table.history or w.complete]
                if replaced:
                    self._replace(conn, table, replaced)
                upserted = [w for w in touched if table.history and not w.complete]
                if upserted:
                    self._upsert(conn, table, upserted)
            for w in written:
                self._record(conn, w, stored[w.partition], as_of)
        return plans

    def forget(self, topic: str | None = None) -> int:
        """Forget the stored positions (of one topic, or all) and digests of their partitions,
        so the next write of each partition replaces all its rows; returns how many partitions.
        """
        with self._transaction() as conn:
            where = sql.SQL("" if topic is None else " WHERE topic = %s")
            params = () if topic is None else (topic,)
            forgotten = {
                partition
                for (partition,) in conn.execute(
                    sql.SQL("DELETE FROM {}{} RETURNING kafka_partition").format(
                        self._name(SOURCE_POSITIONS), where
                    ),
                    params,
                )
            }
            if topic is None:
                forgotten |= {
                    p
                    for (p,) in conn.execute(
                        sql.SQL("SELECT kafka_partition FROM {}").format(
                            self._name(PARTITION_WRITES)
                        )
                    )
                }
            conn.execute(
                sql.SQL(
                    "UPDATE {} SET table_digests = '{{}}'::jsonb WHERE kafka_partition = ANY(%s)"
                ).format(self._name(PARTITION_WRITES)),
                (sorted(forgotten),),
            )
        return len(forgotten)

    def _name(self, table: Table) -> sql.Identifier:
        return sql.Identifier(self.schema, table.name)

    def _replace(
        self, conn: psycopg.Connection[Any], table: Table, writes: Sequence[PartitionWrite]
    ) -> None:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE kafka_partition = ANY(%s)").format(self._name(table)),
            ([w.partition for w in writes],),
        )
        columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in table.all_columns)
        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(self._name(table), columns)
        converted = sql_rows(table, writes, self.skipped)
        with conn.cursor() as cursor, cursor.copy(copy) as rows:
            for row in converted:
                rows.write_row(row)

    def _upsert(
        self, conn: psycopg.Connection[Any], table: Table, writes: Sequence[PartitionWrite]
    ) -> None:
        """Insert or update a history's changed rows, by primary key."""
        names = [column.name for column in table.all_columns]
        keys = set(table.primary_key)
        statement = sql.SQL(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}"
        ).format(
            self._name(table),
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() for _ in names),
            sql.SQL(", ").join(map(sql.Identifier, table.primary_key)),
            sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name))
                for name in names
                if name not in keys
            ),
        )
        with conn.cursor() as cursor:
            cursor.executemany(statement, sql_rows(table, writes, self.skipped))

    def _record(
        self,
        conn: psycopg.Connection[Any],
        w: PartitionWrite,
        stored: Stored,
        as_of: datetime | None,
    ) -> None:
        advanced = [
            (topic, w.partition, offset)
            for topic, offset in w.positions.items()
            if stored.positions.get(topic) != offset
        ]
        if advanced:
            with conn.cursor() as cursor:
                cursor.executemany(
                    sql.SQL(
                        "INSERT INTO {} (topic, kafka_partition, kafka_offset, written_at)"
                        " VALUES (%s, %s, %s, now()) ON CONFLICT (kafka_partition, topic)"
                        " DO UPDATE SET kafka_offset = EXCLUDED.kafka_offset,"
                        " written_at = EXCLUDED.written_at"
                    ).format(self._name(SOURCE_POSITIONS)),
                    advanced,
                )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (kafka_partition, as_of, written_at, writer, table_digests)"
                " VALUES (%s, %s, now(), %s, %s) ON CONFLICT (kafka_partition) DO UPDATE SET"
                " as_of = EXCLUDED.as_of, written_at = EXCLUDED.written_at,"
                " writer = EXCLUDED.writer, table_digests = EXCLUDED.table_digests"
            ).format(self._name(PARTITION_WRITES)),
            (w.partition, as_of, self.writer, Jsonb(dict(w.digests))),
        )
