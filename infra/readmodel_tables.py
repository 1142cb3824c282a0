"""The read models' tables, derived from the row models (schemas/rows/, `row_table`): their
columns, SQL types, keys and comments, the bookkeeping tables beside them, the DDL that
creates or extends them, and their documentation block of docs/READ_MODELS.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from psycopg import sql

from schemas.rows.agreements import AgreementRow, CommitmentRow
from schemas.rows.base import RowModel, Sql
from schemas.rows.claims import ClaimLineRow
from schemas.rows.identity import CustomerMasterRow, MasterBriefRow, PartyAliasRow, ProposalRow
from schemas.rows.inventory import AgingRow, InventoryRow, SellThroughTableRow
from schemas.rows.pricing import PriceProtectionRow, UnpricedRow, ViolationRow
from schemas.rows.rebates import RebateRow
from schemas.rows.reporting import DeadLetterRow, QualityRow, ReportRow
from schemas.rows.resellers import ResellerNetworkRow
from schemas.rows.rotations import RotationRow
from schemas.rows.scorecard import ScorecardCard

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
    row_table("inventory_aging", AgingRow),
    row_table("sell_in_vs_through", SellThroughTableRow),
    row_table("violations", ViolationRow, history=True),
    row_table("unpriced", UnpricedRow, history=True),
    row_table("price_protection", PriceProtectionRow),
    row_table("rebates", RebateRow),
    row_table("resellers", ResellerNetworkRow),
    row_table("reports", ReportRow),
    row_table("agreements", AgreementRow),
    row_table("commitments", CommitmentRow),
    row_table("rotations", RotationRow),
    row_table("claims", ClaimLineRow),
    row_table("quality", QualityRow),
    row_table("dead_letters", DeadLetterRow, keyed_by_partition=True),
    row_table("scorecards", ScorecardCard),
    row_table("masters", MasterBriefRow),
    row_table("party_aliases", PartyAliasRow),
    row_table("match_proposals", ProposalRow),
    row_table("customer_masters", CustomerMasterRow),
    row_table("customer_aliases", PartyAliasRow),
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


def ddl(schema: str, table: Table) -> list[sql.Composed]:
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
