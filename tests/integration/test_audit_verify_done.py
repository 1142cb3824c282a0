"""Issue 8 "done when": on a stream with rebates, violations, reconciliations and price
drops `channelflow verify --audit` reports everything verified; after any single row of
the audit store is altered in PostgreSQL it reports the tampering and exits non-zero."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import psycopg
import pytest

from infra.eventstore import open_audit_log
from schemas.events import Envelope, InventoryCounted
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel
from tests.integration.audit_db import CHAIN, EVENTS, execute, fresh_database
from tests.integration.conftest import HEAVY, REPO, wait_until
from tests.integration.helpers import (
    matches_replay,
    publish,
    publish_reference_first,
    whole_recording_round,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, HEAVY]


def channel_stream() -> list[Envelope]:
    """16 generated weeks: past Q3's close (statements are recorded), with counts after
    price drops, so claims recorded from part of the stock are revised or withdrawn."""
    return generate_channel(seed=31, weeks=16)


def verify(worker, dsn: str) -> subprocess.CompletedProcess[str]:
    s = worker.settings
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "verify", "--audit", "--url", worker.url,
         "--eventstore", dsn, "--kafka", s.kafka_bootstrap, "--prefix", s.topic_prefix],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def one_row(dsn: str, topic: str) -> tuple[int, str, int]:
    """(position, aggregate id, version) of the first stored event of that kind."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            f"SELECT notification_id, originator_id::text, originator_version FROM {EVENTS} "
            "WHERE topic LIKE %s ORDER BY notification_id LIMIT 1",
            (f"%{topic}",),
        ).fetchone()
    assert row is not None, f"no {topic} recorded"
    return row[0], row[1], row[2]


#: how the store's JSON writes a statement's rebate (a Decimal)
REBATE = '"rebate":{"_type_":"decimal_str","_data_":"'


def totals(rows: list[dict[str, int]]) -> tuple[int, int]:
    return sum(r["sell_in"] for r in rows), sum(r["sell_through"] for r in rows)


def edit_state(old: str, new: str) -> Callable[[int], str]:
    """An UPDATE of one event's state, replacing text inside its JSON."""

    def statement(position: int) -> str:
        return (
            f"UPDATE {EVENTS} SET state = convert_to(replace(convert_from(state, 'UTF8'), "
            f"'{old}', '{new}'), 'UTF8') WHERE notification_id = {position}"
        )

    return statement


def test_verify_audit_passes_then_catches_any_single_altered_row(settings, worker_factory, pg_dsn):
    events = channel_stream()
    counts = [e for e in events if isinstance(e, InventoryCounted)]
    movements = [e for e in events if not isinstance(e, InventoryCounted)]
    expected = EmbeddedChannel()
    expected.feed_events(events)
    with fresh_database(pg_dsn) as dsn:
        worker = worker_factory(eventstore_url=dsn).start()
        publish_reference_first(settings, worker, movements)
        moved = totals(expected.snapshot()["inventory"])
        wait_until(
            lambda: totals(worker.get("/api/inventory")["rows"]) == moved,
            120,
            "every movement applied",
        )
        publish(settings, counts)  # after the movements: the same order as the replay's
        # every audit fact recorded: the counts applied (the live snapshot equals the
        # replay), then a whole recording round for the claims they revise and the statements
        matches_replay(settings, worker, 180)
        whole_recording_round(worker)
        clean = verify(worker, dsn)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "verified" in clean.stdout and ", 0 findings; head " in clean.stdout

        statement = one_row(dsn, "RebateCalculated")
        violation = one_row(dsn, "PricingViolation.Detected")
        reconciliation = one_row(dsn, "InventoryReconciliation.Created")
        claim = one_row(dsn, "PriceProtection.Created")
        alterations: list[tuple[str, tuple[int, str, int], Callable[[int], str]]] = [
            ("changed", statement, edit_state(REBATE, REBATE + "1")),
            ("changed", reconciliation, edit_state('"on_hand":', '"on_hand":1')),
            # the worker never reads reconciliations back: a topic it could not resolve
            # would stop it (a claim's is read by its recording rounds)
            ("changed", reconciliation, lambda p: f"UPDATE {EVENTS} SET topic = topic || ' ' "
                                                  f"WHERE notification_id = {p}"),
            ("deleted", violation, lambda p: f"DELETE FROM {EVENTS} WHERE notification_id = {p}"),
            ("seal_altered", claim, lambda p: f"UPDATE {CHAIN} SET chain_hash = md5(chain_hash) "
                                              f"|| md5(chain_hash) WHERE notification_id = {p}"),
        ]  # fmt: skip
        for kind, (position, aggregate_id, version), alter in alterations:
            with psycopg.connect(dsn) as conn:
                conn.execute(f"CREATE TABLE saved AS SELECT * FROM {EVENTS} "
                             f"WHERE notification_id = {position}")  # fmt: skip
                conn.execute(f"CREATE TABLE saved_seal AS SELECT * FROM {CHAIN} "
                             f"WHERE notification_id = {position}")  # fmt: skip
            execute(dsn, alter(position))

            result = verify(worker, dsn)

            assert result.returncode == 1, (kind, result.stdout + result.stderr)
            assert f"{kind}: aggregate {aggregate_id} version {version} position {position}" in (
                result.stdout
            ), result.stdout
            execute(  # put the row back as it was, for the next alteration
                dsn,
                f"DELETE FROM {EVENTS} WHERE notification_id = {position}",
                f"DELETE FROM {CHAIN} WHERE notification_id = {position}",
                f"INSERT INTO {CHAIN} SELECT * FROM saved_seal",
                f"INSERT INTO {EVENTS} SELECT * FROM saved",
                "DROP TABLE saved",
                "DROP TABLE saved_seal",
            )
        assert open_audit_log(dsn).verify_chain().verified
