"""Prices and authorizations by reseller identity through Kafka and a worker on PostgreSQL
(docs/IDENTITY.md, "Prices and authorizations by identity"): an authorization for a master
applies to its aliases at two distributors, a distributor's special price for the master
to its alias there; the unmapping refused while the authorization names the master; each
mapping step on the audit chain in PostgreSQL and in `audit history`; the replay of the raw
topics equal to live."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.alias_mapping import alias_aggregate_id
from schemas.claims import SpecialPriceAuthorized
from schemas.events import PriceChanged, SaleReported
from streams.auth import token_hash
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import (
    catalog,
    matches_replay,
    publish,
    publish_reference_first,
    stored_events,
)
from tests.unit.party_events import mapped, registered, unmapped

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ADMIN = "admin-token"
DEAL_SKU, PRICED_SKU = "SKU-IDA", "SKU-IDP"
T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)


def price(sku: str, floor: str, distributor: str | None = None, reseller: str | None = None):
    at = T0 - timedelta(days=30)
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=sku,
        distributor_cost=Decimal("7.00"), floor_price=Decimal(floor), currency="USD",
        effective_from=at, published_at=at, distributor_id=distributor, reseller_id=reseller,
    )  # fmt: skip


def deal(authorization_id: str, distributors: list[str], master: str) -> SpecialPriceAuthorized:
    """The distributors may sell SKU-IDA to the master down to 8.00 in August."""
    return SpecialPriceAuthorized(
        event_id=uuid.uuid4(), occurred_at=T0, source="erp", authorization_id=authorization_id,
        distributor_ids=distributors, skus=[DEAL_SKU], reseller_id=master,
        authorized_cost=Decimal("6.00"), floor_price=Decimal("8.00"),
        valid_from=date(2026, 8, 1), valid_to=date(2026, 8, 31), currency="USD",
    )  # fmt: skip


def sale(distributor: str, transaction: str, sku: str, price: str, reseller: str) -> SaleReported:
    at = T0 + timedelta(hours=int(transaction.rsplit("-", 1)[1]))
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id=distributor,
        transaction_id=transaction, reseller_id=reseller, sku=sku, quantity=2,
        unit_price=Decimal(price), currency="USD", sold_at=at,
    )  # fmt: skip


def floors(worker: WorkerProcess, distributor: str) -> dict[str, str]:
    rows = worker.get(f"/api/violations?distributor_id={distributor}")["rows"]
    return {row["transaction_id"]: row["floor_price"] for row in rows}


def test_a_master_scoped_deal_and_price_apply_to_its_aliases_at_two_distributors(
    settings, worker_factory, pg_dsn
):
    tag = uuid.uuid4().hex[:6]
    da, db, master, spa = f"DA-{tag}", f"DB-{tag}", f"M-{tag}", f"SPA-{tag}"
    tokens = [{"sha256": token_hash(ADMIN), "role": "admin", "actor": "vendor-ops"}]
    worker = worker_factory(
        eventstore_url=pg_dsn, env={"CHANNELFLOW_TOKENS": json.dumps(tokens)}
    ).start()
    worker.token = ADMIN
    reference = [
        *catalog(DEAL_SKU, PRICED_SKU),
        price(DEAL_SKU, "10.00"),
        price(PRICED_SKU, "10.00"),
        price(PRICED_SKU, "8.50", da, master),  # DA's special price for the master
        registered(master, "Acme Tools Inc."),
    ]
    publish_reference_first(settings, worker, reference)
    publish(settings, [deal(spa, [da, db], master)])
    wait_until(
        lambda: worker.get(f"/api/authorizations?authorization_id={spa}")["rows"],
        60,
        "the deal known",
    )
    publish(settings, [mapped(da, "R-A", master, n=101), mapped(db, "X-B", master, n=102)])
    wait_until(
        lambda: len(worker.get(f"/api/resellers/aliases?master_id={master}")["rows"]) == 2,
        60,
        "both aliases mapped",
    )
    publish(
        settings,
        [
            sale(da, "T-1", DEAL_SKU, "9.00", "R-A"),  # within the deal: under the list, allowed
            sale(da, "T-2", DEAL_SKU, "7.50", "R-A"),  # under the deal's floor
            sale(db, "T-3", DEAL_SKU, "9.00", "X-B"),  # the master's alias at the other one
            sale(db, "T-4", DEAL_SKU, "9.00", "R-Z"),  # not the master's: the list
            sale(da, "T-5", PRICED_SKU, "9.00", "R-A"),  # within DA's price for the master
            sale(da, "T-6", PRICED_SKU, "8.00", "R-A"),  # under it
            sale(db, "T-7", PRICED_SKU, "9.00", "X-B"),  # DB has no price for it: the list
        ],
    )

    def both() -> tuple[dict[str, str], dict[str, str]] | None:
        """Two violations each: DA's and DB's sales are on partitions of their own, read
        side by side, and DA's come in two messages (T-1, T-2, then T-5, T-6)."""
        found = floors(worker, da), floors(worker, db)
        return found if all(len(rows) == 2 for rows in found) else None

    found = wait_until(both, 60, "the violations of both distributors")
    assert found == ({"T-2": "8.00", "T-6": "8.50"}, {"T-4": "10.00", "T-7": "10.00"})

    # the deal still names the master: the unmapping is refused until it moves
    publish(settings, [unmapped(da, "R-A", master, n=201, changed_at=T0 + timedelta(days=7))])
    wait_until(
        lambda: (
            {r["reason"] for r in worker.get("/api/dead-letters")["rows"]} >= {"master_referenced"}
        ),
        60,
        "the unmapping refused",
    )
    [alias] = worker.get(f"/api/resellers/aliases?distributor_id={da}")["rows"]
    assert alias["master_id"] == master

    # each mapping step on the audit chain in PostgreSQL (opened, mapped), nothing refused
    aggregates = [alias_aggregate_id(f"id|{da}|R-A"), alias_aggregate_id(f"id|{db}|X-B")]
    wait_until(
        lambda: [stored_events(pg_dsn, a) for a in aggregates] == [2, 2],
        60,
        "both mappings recorded",
    )
    history = worker.get(f"/api/audit/alias/{da}/R-A/history")
    steps = [(e["what"], e["who"], e["why"]) for e in history["events"]]
    assert steps[1:] == [("Mapped", "ops-ana", "same tax id on the onboarding form")]
    assert all(event["seal"] is not None for event in history["events"])
    matches_replay(settings, worker)
