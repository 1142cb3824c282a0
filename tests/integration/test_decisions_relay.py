"""The decisions relay on the real PostgreSQL and Kafka: one relay per deployment holds the
lock, the stored position never moves back, a crash between publishing a page and storing
its position publishes the same documents again, with the same ids, and an erasure reaches
each distributor it concerns."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any
from uuid import UUID

import orjson
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from domain.personal_data import Subject, id_ref
from infra.decision_log import RelayLease
from infra.eventstore import open_audit_log
from infra.subject_keys import SubjectKeys
from projections.decisions import decision_id
from schemas.decisions import DECISIONS_TOPIC, Decision, SubjectErased
from schemas.topics import topic_name
from streams.cli.main import main
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
    return [document for _, document in read_keyed(settings, topic, expected)]


def read_keyed(settings: Settings, topic: str, expected: int) -> list[tuple[str, dict[str, Any]]]:
    """Every (key, document) on the topic (waits until at least `expected` have arrived)."""

    async def run() -> list[tuple[str, dict[str, Any]]]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        messages: list[tuple[str, dict[str, Any]]] = []
        try:
            while len(messages) < expected:
                batches = await consumer.getmany(timeout_ms=10_000)
                if not batches:
                    break
                for records in batches.values():
                    messages += [
                        ((r.key or b"").decode(), orjson.loads(r.value)) for r in records if r.value
                    ]
        finally:
            await consumer.stop()
        return messages

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


def test_an_erasure_is_published_to_each_distributor_whose_subject_it_erased(
    settings, pg_dsn, monkeypatch, capsys
):
    topic = topic_name(settings.topic_prefix, DECISIONS_TOPIC)
    with fresh_database(pg_dsn) as store:
        relay_settings = settings.model_copy(update={"eventstore_url": store})
        asyncio.run(ensure_topics(relay_settings))
        keys = SubjectKeys(store)
        held = {d: keys.key_for(Subject(d, id_ref("EC-7")))[0] for d in ("D01", "D02")}
        keys.key_for(Subject("D03", id_ref("EC-8")))  # another subject: not concerned
        keys.close()
        monkeypatch.setenv("CHANNELFLOW_EVENTSTORE_URL", store)
        assert main(["erase", "end-customer", "EC-7", "--actor", "dpo"]) == 0
        erasure_id = UUID(orjson.loads(capsys.readouterr().out)["erasure_id"])

        asyncio.run(DecisionRelay(relay_settings, open_audit_log(store)).run(once=True))
        messages = read_keyed(settings, topic, 2)
    assert sorted(key for key, _ in messages) == ["D01", "D02"]  # keyed by distributor
    for key, body in messages:
        document = Decision.model_validate(body).root
        assert isinstance(document, SubjectErased)
        assert (document.distributor_id, document.subject) == (key, "id:EC-7")
        assert document.key_ids == [held[key]]
        assert (document.actor_id, document.record_id) == ("dpo", erasure_id)
        assert document.decision_id == decision_id(erasure_id, 1, key)
