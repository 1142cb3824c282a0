"""The decisions topic on the real Kafka broker and PostgreSQL: a worker relays the audit
store's events while sales below the floor arrive, is killed with SIGKILL mid-way and started
again; Kafka's own console consumer then reads the topic, and its distinct decision ids are
the event store's events one for one (repeats allowed: delivery is at-least-once)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from infra.decision_log import TABLE
from projections.decisions import decision_id
from projections.price_rules import violation_id_for
from schemas.decisions import DECISIONS_TOPIC, Decision
from schemas.events import InventoryCounted, PriceChanged, SaleReported
from schemas.topics import topic_name
from streams.config import Settings
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import REPO, wait_until
from tests.integration.helpers import catalog, publish, publish_reference_first

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)
RELAY_ON = {"CHANNELFLOW_DECISIONS_RELAY": "true"}
SALES_PER_ROUND = 40
MESSAGE_LINE = re.compile(r"^[^|\s]+\|\{")


def price() -> PriceChanged:
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=T0 - timedelta(days=30), source="erp", sku="SKU-P",
        distributor_cost=Decimal("8.00"), floor_price=Decimal("10.00"), currency="USD",
        effective_from=T0 - timedelta(days=30), published_at=T0 - timedelta(days=30),
    )  # fmt: skip


def below_floor(distributors: list[str], round_no: int) -> list[SaleReported]:
    """A round of sales, every one under the floor: one violation each."""
    return [
        SaleReported(
            event_id=uuid.uuid4(),
            occurred_at=T0,
            source="kafka",
            distributor_id=distributor,
            transaction_id=f"T-{round_no}-{n}",
            reseller_id="R-1",
            sku="SKU-P",
            quantity=2,
            unit_price=Decimal("9.00"),
            currency="USD",
            sold_at=T0 + timedelta(minutes=n),
        )
        for n in range(SALES_PER_ROUND)
        for distributor in distributors
    ]


def counts(distributors: list[str]) -> list[InventoryCounted]:
    at = T0 + timedelta(days=1)
    return [
        InventoryCounted(
            event_id=uuid.uuid4(),
            occurred_at=at,
            source="kafka",
            distributor_id=distributor,
            sku="SKU-P",
            on_hand=5,
            counted_at=at,
        )
        for distributor in distributors
    ]


def stored(dsn: str) -> dict[str, int]:
    """The decision id of every event in the audit store -> its position."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, notification_id "
            "FROM channelflow_audit_events ORDER BY notification_id"
        ).fetchall()
    return {str(decision_id(record, int(version))): int(n) for record, version, n in rows}


def relayed_up_to(dsn: str, topic: str) -> int:
    with psycopg.connect(dsn) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone()
        if exists is None or exists[0] is None:
            return 0
        row = conn.execute(f"SELECT position FROM {TABLE} WHERE relay = %s", (topic,)).fetchone()
    return 0 if row is None else int(row[0])


def console_consume(settings: Settings, topic: str) -> list[tuple[str, dict[str, Any]]]:
    """(key, document) of every message on the topic, read by Kafka's console consumer."""
    done = subprocess.run(
        ["bash", "infra/kafka.sh", "console-consumer", "--bootstrap-server",
         settings.kafka_bootstrap, "--topic", topic, "--from-beginning", "--timeout-ms", "15000",
         "--property", "print.key=true", "--property", "key.separator=|"],
        cwd=REPO, capture_output=True, timeout=120, text=True,
    )  # fmt: skip
    # the tool logs to stdout too (its timeout at the end, as an ERROR): messages are the
    # lines "key|{...}" (ids never hold a "|", schemas/types.py)
    lines = [line for line in done.stdout.splitlines() if MESSAGE_LINE.match(line)]
    assert lines, done.stdout[-2000:] + done.stderr[-2000:]
    return [(key, json.loads(value)) for key, value in (line.split("|", 1) for line in lines)]


def acknowledge(store: str, violation: uuid.UUID) -> None:
    step = subprocess.run(
        [sys.executable, "-m", "streams.cli", "violation", "acknowledge", str(violation),
         "--role", "admin", "--actor", "pricing-alice", "--reason", "confirmed by phone",
         "--eventstore", store],
        cwd=REPO, capture_output=True, timeout=60,
    )  # fmt: skip
    assert step.returncode == 0, step.stderr.decode()


def test_the_decisions_topic_matches_the_event_store_one_for_one_after_a_kill_9(
    settings, worker_factory, pg_dsn
):
    distributors = [f"D-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    topic = topic_name(settings.topic_prefix, DECISIONS_TOPIC)
    with fresh_database(pg_dsn) as store:
        first = worker_factory(RELAY_ON, eventstore_url=store).start()
        publish_reference_first(settings, first, [*catalog("SKU-P"), price()])
        publish(settings, below_floor(distributors, 1))
        wait_until(lambda: relayed_up_to(store, topic) > 0, 60, "the first decisions relayed")
        publish(settings, below_floor(distributors, 2))
        # kill while the store holds events the relay has not stored as published (if the
        # relay keeps up too well to be caught behind, kill it anyway)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if max(stored(store).values()) > relayed_up_to(store, topic):
                break
            time.sleep(0.05)  # not a spin on two shared cores
        first.kill()

        worker_factory(RELAY_ON, eventstore_url=store).start()
        publish(settings, [*below_floor(distributors, 3), *counts(distributors)])
        total = 3 * SALES_PER_ROUND * len(distributors) + len(distributors)
        wait_until(lambda: len(stored(store)) >= total, 120, "every violation and count")
        acknowledge(store, violation_id_for(distributors[0], "T-1-0"))
        expected = stored(store)
        assert len(expected) == total + 1
        wait_until(lambda: relayed_up_to(store, topic) == max(expected.values()), 60, "the relay")
        published = console_consume(settings, topic)

    ids = [document["decision_id"] for _, document in published]
    assert set(ids) == set(expected)  # none missing, none foreign
    assert len(ids) >= len(expected)  # repeats only of what was published before the kill
    for key, document in published:
        assert key == document["distributor_id"]
        Decision.model_validate(document)
    kinds = {document["decision_type"] for _, document in published}
    assert kinds == {"violation.detected", "reconciliation.recorded", "violation.acknowledged"}
    # each distributor's decisions, first sightings, in the store's order
    for distributor in distributors:
        seen: dict[str, int] = {}
        for key, document in published:
            if key == distributor:
                seen.setdefault(document["decision_id"], document["position"])
        assert list(seen.values()) == sorted(seen.values())
