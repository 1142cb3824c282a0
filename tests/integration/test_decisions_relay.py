"""The decisions relay on the real PostgreSQL and Kafka: one relay per deployment holds the
lock, the stored position never moves back, and a crash between publishing a page and
storing its position publishes the same documents again, with the same ids."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import orjson
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from infra.decision_log import RelayLease
from infra.eventstore import open_audit_log
from projections.decisions import decision_id
from schemas.decisions import DECISIONS_TOPIC
from schemas.topics import topic_name
from streams.config import Settings
from streams.kafka.io import ensure_topics
from streams.runners.decisions_relay import DecisionRelay, LeaseTaken
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import REPO
from tests.unit.violation_cases import acknowledge, detected

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


class Crash(Exception):
    """The relay's process dies between the broker's acks and the position store."""


def read_topic(settings: Settings, topic: str, expected: int) -> list[dict[str, Any]]:
    """Every document on the topic (waits until at least `expected` have arrived)."""

    async def run() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        documents: list[dict[str, Any]] = []
        try:
            while len(documents) < expected:
                batches = await consumer.getmany(timeout_ms=10_000)
                if not batches:
                    break
                for records in batches.values():
                    documents += [orjson.loads(r.value) for r in records if r.value]
        finally:
            await consumer.stop()
        return documents

    return asyncio.run(run())


def test_one_relay_holds_the_lock_and_the_position_never_moves_back(pg_dsn):
    with fresh_database(pg_dsn) as store:
        first, second = RelayLease(store, "t.decisions"), RelayLease(store, "t.decisions")
        other = RelayLease(store, "u.decisions")  # another deployment: a lock of its own
        try:
            assert first.acquire() and not second.acquire() and other.acquire()
            first.store(40)
            first.store(25)  # a relay that lost its lock late cannot move it back
            assert first.position() == 40
            assert other.position() == 0
            first.release()
            assert second.acquire() and second.position() == 40
        finally:
            for lease in (first, second, other):
                lease.release()


def test_a_crash_before_the_position_is_stored_republishes_the_same_ids(settings, pg_dsn):
    topic = topic_name(settings.topic_prefix, DECISIONS_TOPIC)
    with fresh_database(pg_dsn) as store:
        relay_settings = settings.model_copy(update={"eventstore_url": store})
        asyncio.run(ensure_topics(relay_settings))
        audit = open_audit_log(store)
        violations = [detected("D01", f"TX-{n}") for n in range(3)]
        for violation in violations:
            acknowledge(violation)
        audit.save(*violations)

        crashing = DecisionRelay(relay_settings, audit)
        crashing.lease.store = _crash  # type: ignore[method-assign]
        with pytest.raises(Crash):
            asyncio.run(crashing.run(once=True))
        assert crashing.lease.held is False  # its connection, and the lock, are gone

        done = subprocess.run(
            [sys.executable, "-m", "streams.cli", "decisions", "relay", "--once",
             "--kafka", settings.kafka_bootstrap, "--prefix", settings.topic_prefix,
             "--partitions", str(settings.partitions), "--eventstore", store],
            cwd=REPO, capture_output=True, timeout=120, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "up to position 6 (0 to go)" in done.stdout

        documents = read_topic(settings, topic, 12)
    ids = [d["decision_id"] for d in documents]
    expected = {str(decision_id(v.id, version)) for v in violations for version in (1, 2)}
    assert len(ids) == 12 and set(ids) == expected  # each of the six twice, same ids


def test_a_second_relay_with_once_exits_while_the_lock_is_held(settings, pg_dsn):
    with fresh_database(pg_dsn) as store:
        holder = RelayLease(store, topic_name(settings.topic_prefix, DECISIONS_TOPIC))
        try:
            assert holder.acquire()
            relay = DecisionRelay(
                settings.model_copy(update={"eventstore_url": store}), open_audit_log(store)
            )
            with pytest.raises(LeaseTaken):
                asyncio.run(relay.run(once=True))
        finally:
            holder.release()


def _crash(position: int) -> None:
    raise Crash(f"killed before storing position {position}")


def test_a_lease_that_fails_after_taking_the_lock_gives_it_back(pg_dsn):
    with fresh_database(pg_dsn) as store:
        read_only = RelayLease(f"{store}?options=-c%20default_transaction_read_only%3Don", "t.d")
        other = RelayLease(store, "t.d")
        try:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction) as failed:
                read_only.acquire()  # locked, then its table could not be created
            assert not read_only.held
            assert other.acquire(), failed  # (the failure kept: its frames hold nothing open)
        finally:
            read_only.release()
            other.release()
