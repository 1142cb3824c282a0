"""What a read-model write is, before any SQL runs (pure): rows as column values, table
digests, what a writer proposes for a partition, and the decision to write it, leave it
unchanged or refuse it as stale (infra/readmodels.py says why)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson
from psycopg.types.json import Jsonb

from domain.timeutil import utc

#: a snapshot row: JSON values (decimal strings, ISO 8601 times) as the API serves them
from infra.readmodel_tables import HISTORIES, TABLE_OF, WHOLE, Column, Row, Table


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
