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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin
from uuid import UUID

import orjson
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from domain.timeutil import utc
from schemas.rows.base import RowModel, Sql
from schemas.rows.inventory import InventoryRow, SellThroughTableRow
from schemas.rows.pricing import PriceProtectionRow, UnpricedRow, ViolationRow
from schemas.rows.rebates import RebateRow
from schemas.rows.reporting import DeadLetterRow, QualityRow, ReportRow
from schemas.rows.resellers import ResellerNetworkRow

#: a snapshot row: JSON values (decimal strings, ISO 8601 times) as the API serves them
Row = Mapping[str, Any]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # PostgreSQL: text bigint integer numeric timestamptz date boolean uuid jsonb
    doc: str
    key: bool = False
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    #: the partition is part of the primary key (rows without a distributor)
    keyed_by_partition: bool = False
    #: a history (one row per violation, ...): written by upserting the rows that changed
    #: since the last write, not replaced whole each time
    history: bool = False

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return (PARTITION, *self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        keys = tuple(column.name for column in self.columns if column.key)
        return (PARTITION.name, *keys) if self.keyed_by_partition else keys


PARTITION = Column(
    "kafka_partition",
    "integer",
    "The raw topics' partition the row belongs to (a distributor's events are keyed to one "
    "partition). A write replaces a partition's rows; join on this column with "
    "`partition_writes` to see when they were written.",
)


def _text(name: str, doc: str, key: bool = False, nullable: bool = False) -> Column:
    return Column(name, "text", doc, key, nullable)


def _int(name: str, doc: str, nullable: bool = False) -> Column:
    return Column(name, "bigint", doc, nullable=nullable)


def _time(name: str, doc: str, key: bool = False, nullable: bool = False) -> Column:
    return Column(name, "timestamptz", doc, key, nullable)


def sql_type(annotation: Any, metadata: Sequence[Any] = ()) -> tuple[str, bool]:
    """A row field's PostgreSQL type and whether it may be null, from its annotation: an
    `Sql` mark (decimal strings, times, dates, uuids, JSON), else the Python type."""
    nullable = False
    if get_origin(annotation) in (Union, UnionType) and type(None) in get_args(annotation):
        nullable = True
        (annotation,) = (arg for arg in get_args(annotation) if arg is not type(None))
    marks = [*metadata, *getattr(annotation, "__metadata__", ())]
    for mark in marks:
        if isinstance(mark, Sql):
            return mark.type, nullable
    base = get_origin(annotation) or annotation
    for python, sql_name in _SQL_TYPES:
        if base is python:
            return sql_name, nullable
    raise TypeError(f"no PostgreSQL type for {annotation!r}")


_SQL_TYPES: tuple[tuple[Any, str], ...] = (
    (str, "text"),
    (bool, "boolean"),
    (int, "bigint"),
    (Literal, "text"),
    (dict, "jsonb"),
)


def row_table(
    name: str, model: type[RowModel], keyed_by_partition: bool = False, history: bool = False
) -> Table:
    """The table of a row model: its docstring, and a column per field with the field's
    type, nullability and description; the key is the model's `identified_by`."""
    columns = []
    for field_name, info in model.model_fields.items():
        kind, nullable = sql_type(info.annotation, info.metadata)
        key = field_name in model.identified_by
        columns.append(Column(field_name, kind, info.description or "", key, nullable))
    doc = " ".join((model.__doc__ or "").split())
    return Table(name, doc, tuple(columns), keyed_by_partition, history)


#: the projections' tables: the snapshot's sections (sell-in vs sell-through at every
#: granularity); the histories grow with the channel's history
TABLES: tuple[Table, ...] = (
    row_table("inventory", InventoryRow),
    row_table("sell_in_vs_through", SellThroughTableRow),
    row_table("violations", ViolationRow, history=True),
    row_table("unpriced", UnpricedRow, history=True),
    row_table("price_protection", PriceProtectionRow),
    row_table("rebates", RebateRow),
    row_table("resellers", ResellerNetworkRow),
    row_table("reports", ReportRow),
    row_table("quality", QualityRow),
    row_table("dead_letters", DeadLetterRow, keyed_by_partition=True),
)

#: Bookkeeping of the writes, in the same schema.
SOURCE_POSITIONS = Table(
    "source_positions",
    "How far into each raw topic partition the rows of that partition reflect.",
    (
        _text(
            "topic",
            "A raw topic (`embedded` for the embedded runner).",
            key=True,
        ),
        _int("kafka_offset", "Offset of the last input whose effects the rows include."),
        _time("written_at", "When this offset was written (database clock)."),
    ),
    keyed_by_partition=True,
)
PARTITION_WRITES = Table(
    "partition_writes",
    "The latest write of each partition's rows.",
    (
        _time(
            "as_of",
            'The writer\'s latest business time: "now" of weeks of supply and open periods.',
            nullable=True,
        ),
        _time(
            "written_at",
            "When the partition was last written: rows or positions changed (database clock).",
        ),
        _text("writer", "Who wrote them (host:pid of a worker, or `embedded`)."),
        Column(
            "table_digests",
            "jsonb",
            "SHA-256 of each table's rows as written (internal: detects unchanged rows).",
        ),
    ),
    keyed_by_partition=True,
)
ALL_TABLES: tuple[Table, ...] = (*TABLES, SOURCE_POSITIONS, PARTITION_WRITES)
TABLE_OF: dict[str, Table] = {table.name: table for table in TABLES}
#: tables replaced whole when their rows change, and histories written by upsert
WHOLE: tuple[str, ...] = tuple(table.name for table in TABLES if not table.history)
HISTORIES: tuple[str, ...] = tuple(table.name for table in TABLES if table.history)


# --- pure: conversion, digests, the decision -----------------------------------------------


def sql_value(column: Column, value: Any) -> Any:
    """A snapshot value (JSON: decimal strings, ISO times) as the Python value of its column."""
    if value is None:
        if not column.nullable:
            raise ValueError(f"{column.name}: null in a NOT NULL column")
        return None
    kind = column.type
    if kind == "text":
        text = str(value)
        if "\x00" in text:  # PostgreSQL refuses NUL in text: one such row must not stop a write
            raise ValueError(f"{column.name}: contains NUL, which PostgreSQL text cannot hold")
        return text
    if kind in ("bigint", "integer"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{column.name}: expected an integer, got {value!r}")
        return value
    if kind == "numeric":
        if not isinstance(value, str | int):  # never a float: money stays exact
            raise TypeError(f"{column.name}: expected a decimal string, got {value!r}")
        return Decimal(value)
    if kind == "timestamptz":
        return utc(datetime.fromisoformat(value), column.name)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise TypeError(f"{column.name}: expected true or false, got {value!r}")
        return value
    if kind == "uuid":
        return UUID(str(value))
    if kind == "jsonb":
        return Jsonb(value)
    raise ValueError(f"{column.name}: no conversion for type {kind}")


def sql_row(table: Table, partition: int, row: Row) -> tuple[Any, ...]:
    """A snapshot row as the values of `table.all_columns` (every column must be present)."""
    return (partition, *(sql_value(column, row[column.name]) for column in table.columns))


@dataclass(frozen=True)
class Skipped:
    """A row that could not be written (a value its column cannot hold): left out, so the
    partition's other rows are written."""

    table: str
    partition: int
    key: tuple[Any, ...]
    problem: str


def sql_rows(
    table: Table, writes: Sequence[PartitionWrite], skipped: list[Skipped]
) -> list[tuple[Any, ...]]:
    """The writes' rows of `table` as column values; a row that does not convert is added to
    `skipped` instead."""
    converted = []
    for w in writes:
        for row in w.tables[table.name]:
            try:
                converted.append(sql_row(table, w.partition, row))
            except (TypeError, ValueError, KeyError) as exc:
                key = tuple(row.get(name) for name in table.primary_key if name in row)
                skipped.append(Skipped(table.name, w.partition, key, str(exc)))
    return converted


def table_digest(rows: Sequence[Row]) -> str:
    """A digest of rows in their (sorted) order: equal digests, equal rows."""
    return hashlib.sha256(orjson.dumps(list(rows), option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class PartitionWrite:
    """What a writer proposes for one partition, with the positions its rows reflect:
    every row of the whole tables, and of each history the rows changed since the
    writer's last write (`complete`: every row, replacing what is stored)."""

    partition: int
    positions: Mapping[str, int]  # topic -> offset of the last input reflected
    tables: Mapping[str, Sequence[Row]]  # every table of TABLES, by name
    complete: bool = True  # the histories' rows are all of them
    digests: Mapping[str, str] = field(init=False)

    def __post_init__(self) -> None:
        missing = set(TABLE_OF) - set(self.tables)
        if missing:
            raise ValueError(f"partition {self.partition}: no rows given for {sorted(missing)}")
        digests = {name: table_digest(self.tables[name]) for name in WHOLE}
        object.__setattr__(self, "digests", digests)


@dataclass(frozen=True)
class Stored:
    """What the database holds for a partition."""

    positions: Mapping[str, int] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)


class Verdict(StrEnum):
    WRITTEN = "written"
    UNCHANGED = "unchanged"
    STALE = "stale"


@dataclass(frozen=True)
class Plan:
    verdict: Verdict
    tables: tuple[str, ...] = ()  # the tables to replace (when written)
    behind: tuple[str, ...] = ()  # topics whose stored offset is ahead (when stale)


def plan(stored: Stored, proposed: PartitionWrite) -> Plan:
    """Whether to write a partition, and which of its tables: the whole tables whose
    rows changed, and the histories with rows to write."""
    behind = tuple(
        sorted(
            topic
            for topic, offset in stored.positions.items()
            if proposed.positions.get(topic, -1) < offset
        )
    )
    if behind:
        return Plan(Verdict.STALE, behind=behind)
    changed = tuple(name for name in WHOLE if stored.digests.get(name) != proposed.digests[name])
    histories = tuple(name for name in HISTORIES if proposed.complete or proposed.tables[name])
    if not changed and not histories and dict(stored.positions) == dict(proposed.positions):
        return Plan(Verdict.UNCHANGED)
    return Plan(Verdict.WRITTEN, tables=(*changed, *histories))


# --- documentation -------------------------------------------------------------------------


def markdown(table: Table) -> str:
    """The table's documentation block of docs/READ_MODELS.md."""
    keys = set(table.primary_key)
    lines = [
        f"### `{table.name}`",
        "",
        table.doc,
        "",
        "| column | type | key | null | description |",
        "|---|---|---|---|---|",
    ]
    for column in table.all_columns:
        key = "yes" if column.name in keys else ""
        null = "yes" if column.nullable else ""
        doc = column.doc.replace("|", "\\|")
        lines.append(f"| `{column.name}` | {column.type} | {key} | {null} | {doc} |")
    return "\n".join(lines) + "\n"


# --- PostgreSQL ----------------------------------------------------------------------------


def _ddl(schema: str, table: Table) -> list[sql.Composed]:
    """Create or extend one table (new columns are added; keys and types are not migrated)."""
    name = sql.Identifier(schema, table.name)

    def definition(column: Column) -> sql.Composable:
        null = sql.SQL("" if column.nullable else " NOT NULL")
        return sql.SQL("{} {}{}").format(sql.Identifier(column.name), sql.SQL(column.type), null)

    columns = [definition(column) for column in table.all_columns]
    key = sql.SQL(", ").join(map(sql.Identifier, table.primary_key))
    statements: list[sql.Composed] = [
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))").format(
            name, sql.SQL(", ").join(columns), key
        )
    ]
    for column in table.all_columns:
        # a column added in a later release; NOT NULL would fail on existing rows
        statements.append(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                name, sql.Identifier(column.name), sql.SQL(column.type)
            )
        )
        statements.append(
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                name, sql.Identifier(column.name), sql.Literal(column.doc)
            )
        )
    statements.append(sql.SQL("COMMENT ON TABLE {} IS {}").format(name, sql.Literal(table.doc)))
    if not table.keyed_by_partition:  # each write deletes by partition
        statements.append(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(f"{table.name}_{PARTITION.name}"),
                name,
                sql.Identifier(PARTITION.name),
            )
        )
    return statements


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
                for statement in _ddl(self.schema, table):
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
