"""Read models: which rows go where, when a write is refused, and the docs (no database)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from infra.readmodel_tables import ALL_TABLES, PARTITION, TABLE_OF, Column, markdown
from infra.readmodel_writes import PartitionWrite, Stored, Verdict, plan, sql_row, sql_value
from projections.quality import DeadLetterCount
from projections.statuses import DETECTED_ONLY
from schemas.events import ResellerOnboarded, SaleReported
from streams.config import Settings
from streams.generator import generate_channel, malformed_lines
from streams.kafka.io import kafka_partition_of
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from streams.runners.readmodel_rows import (
    dead_letter_rows,
    empty_tables,
    partition_rows,
    readmodel_tables,
    undefined,
)
from streams.runners.violation_statuses import RecordedStatuses
from tests.unit.agreement_events import rotation, signed
from tests.unit.catalog import product
from tests.unit.claim_events import claim, line
from tests.unit.party_events import customer_mapped, customer_registered, mapped, registered

REPO = Path(__file__).resolve().parents[2]


def partition_of(distributor_id: str) -> int:
    return kafka_partition_of(distributor_id, 4)


@pytest.fixture(scope="module")
def channel() -> EmbeddedChannel:
    """A generated channel, its malformed lines, a sale of an SKU without a price, an
    agreement of D01, a stock rotation request of D01, a debit claim of D01, a reseller alias
    of D01 mapped to a master and one proposed for it, an end customer's alias of D01 mapped
    to its master."""
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=3, weeks=6))
    channel.feed(Input(raw, None, "demo") for raw, _ in malformed_lines())
    at = datetime(2026, 8, 3, 9, tzinfo=UTC)
    unpriced = SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id="D01",
        transaction_id="T-UNPRICED", reseller_id="R-1", sku="SKU-NOPRICE", quantity=2,
        unit_price=Decimal("9.99"), currency="USD", sold_at=at,
    )  # fmt: skip
    request = rotation("ROT-1", {"SKU-0001": 1}).model_copy(update={"distributor_id": "D01"})
    channel.feed_events([product("SKU-NOPRICE"), unpriced, signed(distributor_id="D01"), request])
    channel.feed_events([claim("DB-1", line(1, "T-UNPRICED", 2), distributor_id="D01")])
    channel.feed_events([registered("M-ACME", "Acme Tools Inc.")])
    channel.feed_events([mapped("D01", "R-1", "M-ACME")])
    channel.feed_events(
        [customer_registered("EC-M1", "erased"), customer_mapped("D01", "EC-1", "EC-M1")]
    )
    later = at + timedelta(days=1)
    typo = ResellerOnboarded(
        event_id=uuid.uuid4(), occurred_at=later, recorded_at=later, source="api",
        distributor_id="D01", reseller_id="R-TYPO", name="Acme Tols", onboarded_at=later,
        country="US", postal_code="94107",
    )  # fmt: skip
    channel.feed_events([typo])  # close to the master, not close enough: a proposal
    return channel


def test_every_projection_row_has_a_table_and_every_column_a_definition(channel):
    tables = readmodel_tables(channel.stores, DETECTED_ONLY, partition_of)
    assert undefined(tables) == []
    assert set(tables) == set(TABLE_OF)
    for name, table in TABLE_OF.items():
        rows = tables[name]
        assert rows, f"the fixture has no {name} rows"
        defined = {column.name for column in table.columns}
        assert {key for row in rows for key in row} - {PARTITION.name} == defined, name
        for row in rows:
            sql_row(table, 0, row)  # every value converts to its column's type


def test_a_row_or_column_without_definition_is_reported():
    rows: dict[str, list[dict[str, Any]]] = {
        "quality": [{"distributor_id": "D1", "audit_score": 2}],
        "warehouses": [{}],
    }
    assert undefined(rows) == ["quality.audit_score", "warehouses"]


def test_rows_go_to_the_partition_of_their_distributor(channel):
    tables = readmodel_tables(channel.stores, DETECTED_ONLY, partition_of)
    by_partition = partition_rows(tables, partition_of)
    assert len(by_partition) > 1
    for partition, partition_tables in by_partition.items():
        assert set(partition_tables) == set(TABLE_OF)
        for rows in partition_tables.values():
            for row in rows:
                owner = row.get("kafka_partition", None)
                if owner is None:
                    owner = partition_of(row["distributor_id"])
                assert owner == partition
    for name, table in tables.items():
        assert sum(len(t[name]) for t in by_partition.values()) == len(table)


def test_dead_letters_count_in_the_partition_of_their_input():
    counts = [
        DeadLetterCount("D01", "unknown_sku", 2, {"t.sales:3": 17}),
        DeadLetterCount("D02", "unknown_sku", 1, {"t.sales:3": 19}),
        DeadLetterCount("t.prices:1", "schema_violation", 1, {"t.prices:1": 4}),
        DeadLetterCount("D01", "invalid_json", 1, {}),  # no Kafka position: the distributor's
        DeadLetterCount("D03", "invalid_json", 0, {}),
    ]
    assert dead_letter_rows(counts, lambda _: 2) == [
        {"kafka_partition": 1, "reason": "schema_violation", "count": 1},
        {"kafka_partition": 2, "reason": "invalid_json", "count": 1},
        {"kafka_partition": 3, "reason": "unknown_sku", "count": 3},
    ]


def test_sell_in_vs_through_has_every_granularity_and_the_snapshot_weeks(channel):
    tables = readmodel_tables(channel.stores, DETECTED_ONLY, partition_of)
    rows = tables["sell_in_vs_through"]
    weeks = [
        {k: v for k, v in row.items() if k != "granularity"}
        for row in rows
        if row["granularity"] == "week"
    ]
    assert weeks == channel.snapshot()["sell_in_vs_through"]
    totals: dict[str, set[tuple[int, int]]] = {}
    for row in rows:
        sums = totals.setdefault(row["distributor_id"], set())
        sums.add(
            (
                sum(r["sell_in"] for r in rows if r["granularity"] == row["granularity"]),
                sum(r["sell_through"] for r in rows if r["granularity"] == row["granularity"]),
            )
        )
    assert all(len(sums) == 1 for sums in totals.values())  # each granularity sums the same


def write(
    positions: dict[str, int], complete: bool = False, **changes: list[Mapping[str, Any]]
) -> PartitionWrite:
    tables = empty_tables()
    tables["quality"] = [{"distributor_id": "D1", "accepted": 1}]
    tables.update(changes)
    return PartitionWrite(0, positions, tables, complete)


def stored(w: PartitionWrite) -> Stored:
    return Stored(dict(w.positions), dict(w.digests))


def test_a_first_write_writes_every_table():
    result = plan(Stored(), write({"t.sales": 4}, complete=True))
    assert result.verdict is Verdict.WRITTEN
    assert sorted(result.tables) == sorted(TABLE_OF)


def test_equal_positions_and_rows_are_unchanged():
    previous = write({"t.sales": 4, "t.shipments": 2})
    assert plan(stored(previous), write({"t.sales": 4, "t.shipments": 2})).verdict is (
        Verdict.UNCHANGED
    )


def test_older_or_missing_positions_are_stale_whatever_the_rows():
    previous = stored(write({"t.sales": 4, "t.shipments": 2}))
    newer: list[Mapping[str, Any]] = [{"distributor_id": "D1", "accepted": 9}]
    older = plan(previous, write({"t.sales": 3, "t.shipments": 5}, quality=newer))
    assert (older.verdict, older.behind) == (Verdict.STALE, ("t.sales",))
    missing = plan(previous, write({"t.sales": 4}, quality=newer))
    assert (missing.verdict, missing.behind) == (Verdict.STALE, ("t.shipments",))


def test_equal_positions_with_changed_rows_replace_only_those_tables():
    previous = stored(write({"t.sales": 4}))
    more = write({"t.sales": 4}, quality=[{"distributor_id": "D1", "accepted": 2}])
    result = plan(previous, more)
    assert (result.verdict, result.tables) == (Verdict.WRITTEN, ("quality",))


def test_a_history_is_written_by_its_changed_rows_or_whole():
    previous = stored(write({"t.sales": 4}))
    status_changed = write({"t.sales": 4}, violations=[{"violation_id": "v1", "status": "x"}])
    result = plan(previous, status_changed)
    assert (result.verdict, result.tables) == (Verdict.WRITTEN, ("violations",))
    whole = plan(previous, write({"t.sales": 4}, complete=True))
    assert (whole.verdict, whole.tables) == (Verdict.WRITTEN, ("violations", "unpriced"))


def test_newer_positions_with_equal_rows_record_the_positions_only():
    result = plan(stored(write({"t.sales": 4})), write({"t.sales": 9, "t.inventory": 0}))
    assert (result.verdict, result.tables) == (Verdict.WRITTEN, ())


def test_a_write_needs_every_table():
    with pytest.raises(ValueError, match="no rows given"):
        PartitionWrite(0, {}, {"inventory": []})


def test_values_convert_exactly_to_their_column_types():
    money = Column("amount", "numeric", "")
    assert sql_value(money, "0.10") == Decimal("0.10")
    assert str(sql_value(money, "88.0")) == "88.0"
    with pytest.raises(TypeError):
        sql_value(money, 0.1)  # a float is never money
    stamp = sql_value(Column("at", "timestamptz", ""), "2026-07-19T23:00:00Z")
    assert stamp == datetime(2026, 7, 19, 23, tzinfo=UTC) and stamp.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        sql_value(Column("at", "timestamptz", ""), "2026-07-19T23:00:00")
    with pytest.raises(TypeError):
        sql_value(Column("n", "bigint", ""), True)
    with pytest.raises(ValueError, match="NOT NULL"):
        sql_value(Column("n", "bigint", ""), None)
    assert sql_value(Column("n", "bigint", "", nullable=True), None) is None


def test_the_documentation_shows_every_table_as_defined():
    text = (REPO / "docs" / "READ_MODELS.md").read_text()
    for table in ALL_TABLES:
        block = markdown(table)
        assert block in text, f"docs/READ_MODELS.md: {table.name} should read:\n\n{block}"


def test_read_models_go_to_the_event_store_database_unless_told_otherwise():
    pg = "postgresql://u:p@db.example:5432/channelflow"
    assert Settings(eventstore_url=pg).readmodel_dsn() == pg
    assert Settings(eventstore_url="sqlite:///audit.db").readmodel_dsn() is None
    assert Settings(eventstore_url=pg, readmodel_url="off").readmodel_dsn() is None
    other = "postgresql://bi@warehouse/reporting"
    assert Settings(readmodel_url=other).readmodel_dsn() == other
    env = {"CHANNELFLOW_READMODEL_INTERVAL_SECONDS": "2.5", "CHANNELFLOW_READMODEL_SCHEMA": "bi"}
    settings = Settings.from_env(env)
    assert (settings.readmodel_interval_seconds, settings.readmodel_schema) == (2.5, "bi")


def test_statuses_follow_the_step_events_without_reading_every_violation(monkeypatch):
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=4, weeks=3))
    audit = channel.audit
    ids = [flagged.violation_id for flagged in channel.stores.violations.values()]
    assert len(ids) > 1
    asked: list[uuid.UUID] = []
    real = audit.decided

    def counting(violation_id: uuid.UUID) -> Any:
        asked.append(violation_id)
        return real(violation_id)

    monkeypatch.setattr(audit, "decided", counting)
    statuses = RecordedStatuses(audit)
    first = statuses.refresh()
    assert {first.of(i) for i in ids} == {("detected", None)}
    assert asked == []  # no violation was read: none has a step

    audit.violation_step(
        ids[0], "acknowledge", actor_id="alice", role="admin", actor_distributor_id=None,
        at=datetime.now(UTC), reason="confirmed",
    )  # fmt: skip
    second = statuses.refresh()
    assert asked == [ids[0]]
    assert second.of(ids[0]) == ("acknowledged", None)
    assert first.of(ids[0]) == ("detected", None)  # a refresh is a consistent picture
    asked.clear()
    assert statuses.refresh().of(ids[0]) == ("acknowledged", None)
    assert asked == []  # nothing new: nothing read
