"""The audit store's hash chain on SQLite: sealing, and every kind of tampering caught."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from infra.auditchain import (
    GENESIS,
    Record,
    aggregate_link,
    content_hash,
    seal_records,
)
from infra.eventstore import AuditLog, open_audit_log
from projections.inventory import Reconciliation
from projections.price_protection_claims import PriceProtectionClaim, claim_id_for

DAY = datetime(2026, 7, 6, tzinfo=UTC)


def facts(n: int) -> list[Reconciliation]:
    return [Reconciliation("D01", f"SKU-{i}", DAY, 10, 9, 1, False) for i in range(n)]


def claim(units: int) -> PriceProtectionClaim:
    return PriceProtectionClaim(
        claim_id_for("D01", "SKU-C", DAY), "D01", "SKU-C", DAY, units,
        Decimal("10.00"), Decimal("8.00"), Decimal(2 * units), "USD", UUID(int=7),
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[AuditLog, sqlite3.Connection]]:
    """An audit log with 4 reconciliations and a claim revised twice (7 events), and a raw
    connection to its database for tampering."""
    path = tmp_path / "audit.db"
    audit = open_audit_log(f"sqlite:///{path}")
    for fact in facts(4):
        audit.record(fact)
    for units in (5, 6, 7):
        audit.record(claim(units))
    connection = sqlite3.connect(path, isolation_level=None)
    yield audit, connection
    connection.close()


def rows(connection: sqlite3.Connection) -> list[tuple[int, str, int]]:
    return connection.execute(
        "SELECT rowid, originator_id, originator_version FROM stored_events ORDER BY rowid"
    ).fetchall()


def kinds(audit: AuditLog, head: str | None = None) -> list[tuple[str, int | None]]:
    return [(f.kind, f.position) for f in audit.verify_chain(head).findings]


def test_every_event_is_sealed_in_both_chains(store):
    audit, _ = store
    report = audit.verify_chain()
    assert report.verified and report.records == report.seals == 7
    claim_id = claim_id_for("D01", "SKU-C", DAY)
    seals = audit.chain.seals_of(claim_id)
    assert [s.record.version for s in seals] == [1, 2, 3]
    previous = GENESIS
    for seal in seals:  # the per-aggregate chain links each version to the one before
        record = seal.record
        assert seal.aggregate_hash == aggregate_link(
            previous, claim_id, record.version, record.content_hash
        )
        previous = seal.aggregate_hash
    assert report.head == audit.chain.select_seals("seq", (0, 0), 100)[-1].chain_hash


def test_the_head_is_a_pure_function_of_the_records():
    records = [
        Record(p, UUID(int=p % 2), p // 2 + 1, content_hash("T", bytes([p]))) for p in (1, 2, 3)
    ]
    seals = seal_records(records, (0, GENESIS), {})
    assert [s.seq for s in seals] == [1, 2, 3]
    again = seal_records(
        records[1:], (1, seals[0].chain_hash), {UUID(int=1): seals[0].aggregate_hash}
    )
    assert again == seals[1:]
    changed = [records[0], Record(2, UUID(int=0), 2, content_hash("T", b"x")), records[2]]
    assert seal_records(changed, (0, GENESIS), {})[-1].chain_hash != seals[-1].chain_hash


def test_a_changed_state_is_named(store):
    audit, connection = store
    position, originator, _ = rows(connection)[2]
    connection.execute(
        "UPDATE stored_events SET state = state || x'20' WHERE rowid = ?", (position,)
    )
    [finding] = audit.verify_chain().findings
    assert (finding.kind, finding.position, finding.version) == ("changed", position, 1)
    assert finding.originator_id == UUID(originator)


def test_a_deleted_row_is_named(store):
    audit, connection = store
    position, originator, version = rows(connection)[5]  # the claim's version 2
    connection.execute("DELETE FROM stored_events WHERE rowid = ?", (position,))
    [finding] = audit.verify_chain().findings
    assert (finding.kind, finding.position, finding.version) == ("deleted", position, version)
    assert finding.originator_id == UUID(originator)


def test_an_inserted_row_is_named(store):
    audit, connection = store
    position = rows(connection)[0][0]
    forged = UUID(int=99)
    connection.execute(
        "INSERT INTO stored_events SELECT ?, 1, topic, state FROM stored_events WHERE rowid = ?",
        (forged.hex, position),
    )
    [finding] = audit.verify_chain().findings
    assert (finding.kind, finding.originator_id, finding.position) == ("inserted", forged, 8)


def test_swapped_versions_are_reordered(store):
    audit, connection = store
    claim_id = claim_id_for("D01", "SKU-C", DAY).hex
    first, second = [row[0] for row in rows(connection) if row[1] == claim_id][:2]
    for version, position in ((-1, first), (1, second), (2, first)):
        connection.execute(
            "UPDATE stored_events SET originator_version = ? WHERE rowid = ?", (version, position)
        )
    found = audit.verify_chain().findings
    assert sorted((f.kind, f.position) for f in found) == [
        ("reordered", first),
        ("reordered", second),
    ]


def test_swapped_positions_are_reordered(store):
    audit, connection = store
    (a, _, _), (b, _, _) = rows(connection)[1], rows(connection)[3]
    for old, new in ((a, 100), (b, a), (100, b)):
        connection.execute("UPDATE stored_events SET rowid = ? WHERE rowid = ?", (new, old))
    assert sorted(kinds(audit)) == [("reordered", a), ("reordered", b)]


def test_an_altered_seal_is_caught(store):
    audit, connection = store
    connection.execute("UPDATE stored_events_chain SET content_hash = ? WHERE seq = 3", ("0" * 64,))
    found = kinds(audit)
    assert ("seal_altered", 3) in found and ("changed", 3) in found


def test_a_rewritten_chain_needs_the_kept_head(store):
    """Rewriting a record and recomputing every seal after it leaves no trace inside the
    database; only a head kept elsewhere shows it (docs/AUDIT.md)."""
    audit, connection = store
    kept = audit.verify_chain().head
    position = rows(connection)[1][0]
    connection.execute(
        "UPDATE stored_events SET state = state || x'20' WHERE rowid = ?", (position,)
    )
    connection.execute("DELETE FROM stored_events_chain WHERE seq >= 2")
    assert audit.chain.seal_unsealed() == 6  # the forger re-seals
    assert audit.verify_chain().verified
    assert kinds(audit, kept) == [("rewritten", None)]


def test_a_kept_head_still_verifies_after_more_events(store):
    audit, _ = store
    kept = audit.verify_chain().head
    audit.record(Reconciliation("D02", "SKU-9", DAY + timedelta(days=1), 1, 1, 0, False))
    report = audit.verify_chain(kept)
    assert report.verified and report.expected_head_position == 7 and report.head != kept


def test_sealing_old_rows_is_idempotent(store):
    audit, connection = store
    connection.execute("DELETE FROM stored_events_chain")
    assert [f.kind for f in audit.verify_chain().findings] == ["inserted"] * 7
    assert audit.chain.seal_unsealed() == 7
    assert audit.chain.seal_unsealed() == 0
    assert audit.verify_chain().verified
