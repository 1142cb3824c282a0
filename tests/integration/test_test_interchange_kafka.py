"""An X12 test interchange (ISA15 T) on the real servers: the HTTP EDI door answers it with
the 997 its production copy gets, and nothing reaches the raw topics nor the register of
interchanges in PostgreSQL; `channelflow ingest` straight to Kafka posts nothing of it
either. The same file with ISA15 P is then a first receipt, and its lines are published."""

from __future__ import annotations

import asyncio
import io
import json

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from domain.personal_data import id_ref
from infra.interchange_register import TABLE
from infra.subject_keys import TABLE as KEYS_TABLE
from schemas.topics import RAW_TOPICS, topic_name
from streams.config import Settings
from streams.ingest.parsers.x12 import tokenize
from tests.integration.conftest import wait_until
from tests.integration.test_ingest_kafka import TOKENS, cli, sell_through, submit_catalog
from tests.integration.test_x12_ack_kafka import X12, notes, post_x12
from tests.unit.api.test_ingest_gateway import report
from tests.unit.api.web_ingest.test_test_interchanges import as_test
from tests.unit.parsers.conftest import SAMPLES
from tests.unit.parsers.edi_builder import interchange

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

#: the weekly 867 asking for a TA1 (ISA14 = 1), as production and as a test
PRODUCTION = (SAMPLES / "867_weekly.edi").read_bytes().replace(b"*0*P*", b"*1*P*")
TEST = PRODUCTION.replace(b"*1*P*", b"*1*T*")


def raw_ends(settings: Settings) -> dict[TopicPartition, int]:
    """The end offset of every partition of every raw topic."""

    async def read() -> dict[TopicPartition, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
        await consumer.start()
        try:
            every = [
                TopicPartition(topic_name(settings.topic_prefix, topic), partition)
                for topic in RAW_TOPICS
                for partition in range(settings.partitions)
            ]
            return dict(await consumer.end_offsets(every))
        finally:
            await consumer.stop()

    return asyncio.run(read())


def rows(dsn: str, table: str, columns: str) -> list[tuple[object, ...]]:
    """The table's rows (none while no process has made it)."""
    with psycopg.connect(dsn) as conn:
        made = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if made is None or made[0] is None:
            return []
        return conn.execute(f"SELECT {columns} FROM {table}").fetchall()


def registered(dsn: str) -> list[tuple[object, ...]]:
    """The register's rows."""
    return rows(dsn, TABLE, "control_number, outcome")


def test_a_test_interchange_is_acknowledged_and_posts_nothing(
    settings, worker_factory, database, monkeypatch, tmp_path
):
    env = {"CHANNELFLOW_TOKENS": json.dumps(TOKENS), "CHANNELFLOW_INTERCHANGES_URL": database}
    worker = worker_factory(env=env).start()
    submit_catalog(worker)
    before = raw_ends(settings)

    # straight to Kafka, with the register configured: checked, answered, nothing posted
    monkeypatch.setenv("CHANNELFLOW_INTERCHANGES_URL", database)
    path = tmp_path / "weekly-test.edi"
    path.write_bytes(TEST)
    target = tmp_path / "weekly-test.997"
    straight = cli(settings, "ingest", str(path), "--json", "--ack-file", str(target))
    assert straight.returncode == 0, straight.stderr
    assert notes(target.read_bytes())[0] == "TA1*000000101*260406*0830*A*000~"
    assert next(tokenize(io.BytesIO(target.read_bytes()))).get(15) == "T"
    answer = json.loads(straight.stdout)
    assert answer["test"] is True and answer["summary"]["accepted"] == 5
    assert answer["summary"]["published"] == 0 and "interchange" not in answer
    table = cli(settings, "ingest", str(path))
    assert "test interchange (ISA15 T): checked, not posted" in table.stdout.decode()

    # through the HTTP door, acknowledged as its production copy will be
    status, media, test_ack = post_x12(worker, TEST, "?ack=997")
    assert (status, media) == (200, X12), test_ack
    assert notes(test_ack) == [
        "TA1*000000101*260406*0830*A*000~",
        "AK2*867*0001~",
        "AK5*A~",
        "AK9*A*1*1*1~",
    ]
    assert raw_ends(settings) == before  # no record on any raw topic
    assert registered(database) == []

    # the same file in production: a first receipt (TA1 A / 000, not 025), published
    status, media, ack = post_x12(worker, PRODUCTION, "?ack=997")
    assert (status, media) == (200, X12), ack
    assert notes(ack) == notes(test_ack)
    after = raw_ends(settings)
    sales = [tp for tp in after if tp.topic == topic_name(settings.topic_prefix, "sales")]
    assert sum(after[tp] - before[tp] for tp in sales) > 0  # its lines (bundled in records)
    assert registered(database) == [("000000101", "accepted")]
    wait_until(lambda: sell_through(worker, "DIST-001", "WIDGET-100") == 32, 60, "the 867")


def subject_keys(dsn: str) -> list[tuple[object, ...]]:
    """The key table's subjects."""
    return rows(dsn, KEYS_TABLE, "distributor_id, subject")


def test_a_test_interchanges_end_customers_are_given_no_key(settings, worker_factory, database):
    env = {"CHANNELFLOW_TOKENS": json.dumps(TOKENS), "CHANNELFLOW_SUBJECT_KEYS_URL": database}
    worker = worker_factory(env=env).start()
    submit_catalog(worker)
    body = report("R-1")
    body.insert(body.index("LIN*1*VP*WIDGET-100") + 1, "N1*EN*Jane Doe*91*EC-7")
    production = interchange(body)

    # checked and answered as its production copy, its end customer sealed with a key of
    # the upload's own: none is left in the key table
    status, _, answer = post_x12(worker, as_test(production))
    assert status == 200, answer
    assert subject_keys(database) == []

    status, _, answer = post_x12(worker, production)
    assert status == 200, answer
    assert subject_keys(database) == [("DIST-001", id_ref("EC-7"))]
