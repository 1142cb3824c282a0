"""The index of aliases by master in a worker whose state table was written before it: the
index's entries removed from the changelog (as an older worker never wrote them), the worker
restarted on it, and the masters route lists each master's aliases again once the worker has
derived the missing entries from the aliases (`streams.worker.upkeep.index_aliases`)."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from projections.alias_index import index_key
from projections.party_aliases import id_alias_key
from streams.auth import token_hash
from streams.config import Settings
from streams.kafka.io import kafka_partition_of
from streams.kafka.worker_topics import state_changelog
from tests.integration.conftest import wait_until
from tests.integration.helpers import publish, publish_reference_first, token_workers
from tests.integration.test_identity_kafka import ADMIN, masters_listed, renamed
from tests.unit.test_identity_wiring import MASTERS, MERGE, NETWORK

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

INDEXED = re.compile(r"aliases of partition \d+ indexed: (\d+) entries")


async def forget_entries(settings: Settings, keys: list[tuple[str, str]]) -> None:
    """Tombstones of the index's keys (master, alias key) on the state table's changelog."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = state_changelog(settings.app_id)
        for master_id, alias in keys:
            partition = kafka_partition_of(alias.split("|")[1], settings.partitions)
            key = b"ma|" + index_key(master_id, alias).encode()
            await producer.send_and_wait(topic, None, key=key, partition=partition)
    finally:
        await producer.stop()


def test_a_state_from_before_the_index_gains_its_entries_after_a_restart(
    settings, worker_factory, pg_dsn
):
    tag = uuid.uuid4().hex[:6]
    d1, d2 = f"DA-{tag}", f"DB-{tag}"
    tokens = [{"sha256": token_hash(ADMIN), "role": "admin", "actor": "vendor-ops"}]

    started = token_workers(worker_factory, pg_dsn, tokens, ADMIN)

    worker = started()
    publish_reference_first(settings, worker, [*MASTERS, *renamed(NETWORK, {"D1": d1, "D2": d2})])
    publish(settings, renamed(MERGE, {"D1": d1, "D2": d2}))
    merged = {"M1": sorted([f"{d1}|R1", f"{d1}|R1B", f"{d2}|X9"]), "M2": []}
    wait_until(lambda: masters_listed(worker) == merged, 60, "the merge listed by master")
    worker.kill()

    aliases = [id_alias_key(d1, "R1"), id_alias_key(d1, "R1B"), id_alias_key(d2, "X9")]
    asyncio.run(forget_entries(settings, [("M1", alias) for alias in aliases]))
    worker = started()
    wait_until(lambda: masters_listed(worker) == merged, 60, "the entries derived again")

    def stored_again() -> int:
        return sum(map(int, INDEXED.findall(worker.log_path.read_text())))

    # the tombstones took the entries away: the restarted worker stored all three again
    wait_until(lambda: stored_again() == len(aliases), 30, "the three entries stored again")
