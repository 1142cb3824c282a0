"""The audit chain on the real PostgreSQL server: rows tampered with through SQL are caught."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import psycopg
import pytest

from infra.eventstore import open_audit_log
from projections.inventory import Reconciliation
from projections.price_protection_claims import PriceProtectionClaim, claim_id_for
from tests.integration.audit_db import CHAIN, EVENTS, execute, fresh_database
from tests.integration.conftest import REPO

pytestmark = pytest.mark.postgres

DAY = datetime(2026, 7, 6, tzinfo=UTC)
CLAIM = claim_id_for("D01", "SKU-C", DAY)


def reconciliation(i: int) -> Reconciliation:
    return Reconciliation("D01", f"SKU-{i}", DAY, 10, 9, 1, False)


def claim(units: int) -> PriceProtectionClaim:
    return PriceProtectionClaim(
        CLAIM, "D01", "SKU-C", DAY, units, Decimal("10.00"), Decimal("8.00"),
        Decimal(2 * units), "USD", UUID(int=7),
    )  # fmt: skip


@pytest.fixture
def dsn(pg_dsn: str) -> Iterator[str]:
    """A fresh database with 5 reconciliations and a claim revised twice (8 audit events)."""
    with fresh_database(pg_dsn) as url:
        audit = open_audit_log(url)
        for i in range(5):
            audit.record(reconciliation(i))
        for units in (5, 6, 7):
            audit.record(claim(units))
        audit.close()
        yield url


def rows(dsn: str) -> list[tuple[int, UUID, int]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            f"SELECT notification_id, originator_id, originator_version FROM {EVENTS} "
            "ORDER BY notification_id"
        ).fetchall()


def cli(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args, "--eventstore", dsn],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def verify(dsn: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return cli(dsn, "verify", "--chain-only", *flags)


def update_state(dsn: str) -> tuple[str, int]:
    position = rows(dsn)[2][0]
    execute(
        dsn,
        f"UPDATE {EVENTS} SET state = state || '\\x20'::bytea WHERE notification_id = {position}",
    )
    return "changed", position


def delete_row(dsn: str) -> tuple[str, int]:
    position = rows(dsn)[6][0]  # the claim's version 2
    execute(dsn, f"DELETE FROM {EVENTS} WHERE notification_id = {position}")
    return "deleted", position


def insert_forged_row(dsn: str) -> tuple[str, int]:
    """A DBA can switch the seal check off; the chain still shows the row."""
    execute(
        dsn,
        f"ALTER TABLE {EVENTS} DISABLE TRIGGER {CHAIN}_sealed",
        f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state) "
        f"SELECT gen_random_uuid(), 1, topic, state FROM {EVENTS} WHERE notification_id = 1",
        f"ALTER TABLE {EVENTS} ENABLE TRIGGER {CHAIN}_sealed",
    )
    return "inserted", rows(dsn)[-1][0]


def swap_versions(dsn: str) -> tuple[str, int]:
    claim_rows = [row for row in rows(dsn) if row[1] == CLAIM]
    first, second = claim_rows[0][0], claim_rows[1][0]
    execute(
        dsn,
        f"UPDATE {EVENTS} SET originator_version = -1 WHERE notification_id = {first}",
        f"UPDATE {EVENTS} SET originator_version = 1 WHERE notification_id = {second}",
        f"UPDATE {EVENTS} SET originator_version = 2 WHERE notification_id = {first}",
    )
    return "reordered", first


def swap_positions(dsn: str) -> tuple[str, int]:
    a, b = rows(dsn)[1][0], rows(dsn)[4][0]
    execute(
        dsn,
        f"UPDATE {EVENTS} SET notification_id = -1 WHERE notification_id = {a}",
        f"UPDATE {EVENTS} SET notification_id = {a} WHERE notification_id = {b}",
        f"UPDATE {EVENTS} SET notification_id = {b} WHERE notification_id = -1",
    )
    return "reordered", a


@pytest.mark.parametrize(
    "tamper", [update_state, delete_row, insert_forged_row, swap_versions, swap_positions]
)
def test_tampering_through_sql_is_caught_and_named(dsn, tamper):
    clean = verify(dsn)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "8 records, 8 seals, 0 findings" in clean.stdout
    stored = {position: (originator, version) for position, originator, version in rows(dsn)}

    kind, position = tamper(dsn)

    result = verify(dsn)
    assert result.returncode == 1, result.stdout + result.stderr
    findings = open_audit_log(dsn).verify_chain().findings
    named = [f for f in findings if (f.kind, f.position) == (kind, position)]
    assert named, [str(f) for f in findings]
    if kind != "inserted":  # the record as sealed: the one that was there
        assert (named[0].originator_id, named[0].version) == stored[position]
    assert f"{kind}: aggregate {named[0].originator_id} version {named[0].version} " \
        f"position {position}" in result.stdout  # fmt: skip


def test_an_event_cannot_commit_without_its_seal(dsn):
    with pytest.raises(psycopg.errors.RaiseException, match="has no seal"):
        execute(
            dsn,
            f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state) "
            "VALUES (gen_random_uuid(), 1, 'x', '\\x00'::bytea)",
        )
    assert len(rows(dsn)) == 8


def test_a_rewritten_chain_is_caught_only_with_the_kept_head(dsn):
    kept = open_audit_log(dsn).verify_chain().head
    assert f"head {kept}" in verify(dsn).stdout
    update_state(dsn)
    execute(dsn, f"DELETE FROM {CHAIN} WHERE seq >= 3")  # the forger rebuilds the chain
    sealed = cli(dsn, "audit", "seal")
    assert (sealed.returncode, sealed.stderr) == (0, "sealed 6 event(s) that had no seal\n")

    assert verify(dsn).returncode == 0  # the database alone cannot tell
    result = verify(dsn, "--expect-head", kept)
    assert result.returncode == 1
    assert f"rewritten: the chain: the kept head {kept}" in result.stdout


def write_facts(dsn: str, worker: int) -> int:
    audit = open_audit_log(dsn)
    recorded = sum(audit.record(reconciliation(100 + i)) for i in range(worker, 60, 2))
    recorded += sum(audit.record(reconciliation(1000 * worker + i)) for i in range(20))
    audit.close()
    return recorded


def test_concurrent_writer_processes_append_to_one_chain(dsn):
    with ProcessPoolExecutor(max_workers=3) as pool:
        recorded = sum(pool.map(write_facts, [dsn] * 3, [0, 1, 2]))
    report = open_audit_log(dsn).verify_chain()
    assert report.verified, [str(f) for f in report.findings]
    assert report.records == report.seals == 8 + recorded
    with psycopg.connect(dsn) as conn:
        seqs = [row[0] for row in conn.execute(f"SELECT seq FROM {CHAIN} ORDER BY seq")]
    assert seqs == list(range(1, report.seals + 1))
