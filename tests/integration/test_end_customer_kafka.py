"""End-customer identity on the real Kafka and PostgreSQL (docs/IDENTITY.md, "End
customers"; docs/PRIVACY.md): an end customer registered and mapped through the admin's HTTP
ingest (its name and address sealed by the door under the master's key in PostgreSQL), an
authorization for the master covering both distributors' sales to its aliases, no name on
any raw topic, the master erased leaving no name readable, and the replay of the raw topics
equal to live."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from domain.personal_data import ERASED, tokens_in
from infra.personal_cipher import clear_texts
from infra.subject_keys import SubjectKeys
from schemas.claims import SpecialPriceAuthorized
from schemas.codec import encode_event
from schemas.events import PriceChanged, SaleReported
from schemas.topics import topic_name
from streams.auth import token_hash
from streams.cli.main import main
from streams.config import Settings
from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    catalog,
    matches_replay,
    publish,
    publish_reference_first,
    token_workers,
)
from tests.unit.party_events import customer_mapped, customer_registered

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ADMIN = "admin-token"
SKU = "SKU-ECA"
T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)
NAME, STREET = "Jane Doe-Endcustomer", "12 Elm Street"


def listed() -> PriceChanged:
    at = T0 - timedelta(days=30)
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=SKU,
        distributor_cost=Decimal("7.00"), floor_price=Decimal("10.00"), currency="USD",
        effective_from=at, published_at=at,
    )  # fmt: skip


def deal(authorization_id: str, distributors: list[str], master: str) -> SpecialPriceAuthorized:
    """The distributors may sell SKU-ECA to end customer `master` down to 8.00 in August."""
    return SpecialPriceAuthorized(
        event_id=uuid.uuid4(), occurred_at=T0, source="erp", authorization_id=authorization_id,
        distributor_ids=distributors, skus=[SKU], end_customer=master,
        authorized_cost=Decimal("6.00"), floor_price=Decimal("8.00"),
        valid_from=date(2026, 8, 1), valid_to=date(2026, 8, 31), currency="USD",
    )  # fmt: skip


def sale(distributor: str, transaction: str, price: str, end_customer: str) -> SaleReported:
    at = T0 + timedelta(hours=int(transaction.rsplit("-", 1)[1]))
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id=distributor,
        transaction_id=transaction, reseller_id="R-1", end_customer=end_customer, sku=SKU,
        quantity=2, unit_price=Decimal(price), currency="USD", sold_at=at,
    )  # fmt: skip


def as_sent(event: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(encode_event(event))
    return data


def raw_values(settings: Settings, logical: str) -> list[bytes]:
    """Every message on a raw topic, as written."""

    async def run() -> list[bytes]:
        topic = topic_name(settings.topic_prefix, logical)
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest",
            group_id=None, enable_auto_commit=False,
        )  # fmt: skip
        await consumer.start()
        try:
            partitions = consumer.assignment() or set()
            while not partitions:
                await asyncio.sleep(0.1)
                partitions = consumer.assignment()
            ends = await consumer.end_offsets(list(partitions))
            values: list[bytes] = []
            async with asyncio.timeout(60):
                while [p for p, end in ends.items() if await consumer.position(p) < end]:
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        values.extend(record.value or b"" for record in records)
            return values
        finally:
            await consumer.stop()

    return asyncio.run(run())


def test_an_end_customers_authorization_covers_both_distributors_and_erasure_holds(
    settings, worker_factory, pg_dsn, capsys, monkeypatch
):
    tag = uuid.uuid4().hex[:6]
    da, db, master, spa = f"DA-{tag}", f"DB-{tag}", f"ECM-{tag}", f"SPA-{tag}"
    tokens = [{"sha256": token_hash(ADMIN), "role": "admin", "actor": "vendor-ops"}]
    worker = token_workers(worker_factory, pg_dsn, tokens, ADMIN)()
    publish_reference_first(settings, worker, [*catalog(SKU), listed()])

    # the master and its aliases through the admin's door: names sealed before publishing
    by_name = {"name": NAME, "address": STREET, "postal_code": "94105", "country": "US"}
    identity = [
        customer_registered(master, NAME, n=1, address=STREET),
        customer_mapped(da, "EC-7", master, n=101),
        customer_mapped(db, "EC-9", master, n=102),
        customer_mapped(da, None, master, n=103, **by_name),
    ]
    status, answer = worker.post("/api/ingest/events", [as_sent(e) for e in identity], ADMIN)
    assert status == 200, answer
    assert {line["answer"] for line in answer["lines"]} == {"accepted"}, answer
    publish(settings, [deal(spa, [da, db], master)])
    wait_until(
        lambda: worker.get(f"/api/authorizations?authorization_id={spa}")["rows"],
        60,
        "the deal known",
    )
    wait_until(
        lambda: (
            sum(
                row["master_id"] == master
                for row in worker.get("/api/snapshot")["customer_aliases"]
            )
            == 3
        ),
        90,
        "the three aliases mapped",
    )
    publish(
        settings,
        [
            sale(da, "T-1", "9.00", "EC-7"),  # within the deal: under the list, allowed
            sale(da, "T-2", "7.50", "EC-7"),  # under the deal's floor
            sale(db, "T-3", "9.00", "EC-9"),  # the master's alias at the other distributor
            sale(db, "T-4", "9.00", "EC-5"),  # not the master's: the list
        ],
    )

    def floors(distributor: str) -> dict[str, str]:
        rows = worker.get(f"/api/violations?distributor_id={distributor}")["rows"]
        return {row["transaction_id"]: row["floor_price"] for row in rows}

    def both() -> tuple[dict[str, str], dict[str, str]] | None:
        found = floors(da), floors(db)
        return found if all(len(rows) == 1 for rows in found) else None

    found = wait_until(both, 60, "the violations of both distributors")
    assert found == ({"T-2": "8.00"}, {"T-4": "10.00"})

    # no name on a raw topic: tokens, which open with the master's keys
    written = b"".join(raw_values(settings, "masters") + raw_values(settings, "identity"))
    assert b"Jane" not in written and b"Elm" not in written
    tokens_on_topics = tokens_in(written.decode())
    assert len(tokens_on_topics) == 4  # the master's name and address, the alias's
    keys = SubjectKeys(pg_dsn)
    try:
        assert set(clear_texts(keys, tokens_on_topics).values()) == {NAME, STREET}
    finally:
        keys.close()
    snapshot = worker.get("/api/snapshot")
    assert "Jane" not in json.dumps(snapshot)
    before = matches_replay(settings, worker)

    # the master erased: its key and its alias's by name gone, every figure as it was
    monkeypatch.setenv("CHANNELFLOW_EVENTSTORE_URL", pg_dsn)
    assert main(["erase", "end-customer", master, "--master", "--actor", "dpo"]) == 0
    erased = orjson.loads(capsys.readouterr().out)
    assert (erased["subject"], erased["keys_deleted"]) == (f"master:{master}", 2)
    keys = SubjectKeys(pg_dsn)
    try:
        opened = clear_texts(keys, tokens_on_topics)
    finally:
        keys.close()
    assert opened == {} and {opened.get(t, ERASED) for _, t in tokens_on_topics} == {ERASED}
    assert matches_replay(settings, worker) == before
