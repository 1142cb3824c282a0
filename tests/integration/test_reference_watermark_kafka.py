"""The reference watermark on the real broker: a worker judges a sale with every price the
broker acknowledged before the sale was sent, however far its reference replica lags
(docs/DESIGN.md, "Reference data in every worker"), so the live snapshot equals the Kafka
replay, which reads the reference topics first.

Two workers, so that the one judging the sales learns the prices from its replica alone:
the other owns the prices' partition (had the judging worker's agent applied the price
itself, it would have met it before the sales, in its partition's order). The replica has
a burst of other SKUs' prices to read, on that partition, ahead of the one that matters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from schemas.events import PriceChanged, SaleReported
from streams.kafka.io import kafka_partition_of
from tests.integration.conftest import WorkerProcess, free_port, wait_until
from tests.integration.helpers import catalog, matches_replay, publish, publish_reference_first

pytestmark = pytest.mark.kafka

T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)
#: prices of other SKUs the replica reads before the one that matters, in each round
BURST = 10_000
#: SKUs of the burst, each with a run of prices (few messages to send, many events to apply)
BURST_SKUS = 20
ROUNDS = 2
#: each round moves the floor across the sales' 15.00: a violation, or none
FLOORS = ("20.00", "10.00")


def price(sku: str, floor: str, at: datetime) -> PriceChanged:
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=sku,
        distributor_cost=Decimal("8.00"), floor_price=Decimal(floor), currency="USD",
        effective_from=at, published_at=at,
    )  # fmt: skip


def sale(sku: str, distributor: str, transaction: str, at: datetime) -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id=distributor,
        transaction_id=transaction, reseller_id="R-9", sku=sku, quantity=1,
        unit_price=Decimal("15.00"), currency="USD", sold_at=at,
    )  # fmt: skip


def keys_on(partitions: set[int], prefix: str, how_many: int, total: int) -> list[str]:
    """`how_many` keys named `prefix`-n whose partition is one of `partitions`."""
    found = (f"{prefix}-{n}" for n in count())
    keys: list[str] = []
    while len(keys) < how_many:
        key = next(found)
        if kafka_partition_of(key, total) in partitions:
            keys.append(key)
    return keys


def split(first: WorkerProcess, second: WorkerProcess, partitions: int) -> list[set[int]] | None:
    """The partitions each worker owns, once they are shared out between the two."""
    actives = [
        set(w.get("/health").get("partitions", {}).get("active", [])) for w in (first, second)
    ]
    shared = all(actives) and not actives[0] & actives[1]
    return actives if shared and actives[0] | actives[1] == set(range(partitions)) else None


def judged(worker: WorkerProcess, sales: int) -> list[dict[str, Any]]:
    """The worker's violations, once it has accepted every sale."""
    wait_until(
        lambda: sum(r["accepted"] for r in worker.get("/api/quality")["rows"]) >= sales,
        240,
        "every sale applied",
    )
    return list(worker.get("/api/violations")["rows"])


def test_a_sale_is_judged_with_the_price_published_before_it_however_far_the_replica_lags(
    settings, worker_factory
):
    env = {"CHANNELFLOW_STANDBY_REPLICAS": "0"}
    judge = worker_factory(env).start()
    other = worker_factory(env, web_port=free_port(), data_dir=settings.data_dir + "-2").start()
    total = settings.partitions
    mine, theirs = wait_until(lambda: split(judge, other, total), 90, "the partitions shared")
    (sku,) = keys_on(theirs, "SKU-W", 1, total)
    others = keys_on({kafka_partition_of(sku, total)}, "SKU-B", BURST_SKUS, total)
    distributors = keys_on(mine, "D", 8, total)
    publish_reference_first(settings, judge, [*catalog(sku, *others), price(sku, "10.00", T0)])

    for n in range(ROUNDS):
        at = T0 + timedelta(days=n + 1)
        publish(
            settings,
            [price(o, f"{10 + m % 7}.00", at) for o in others for m in range(BURST // len(others))],
        )
        publish(settings, [price(sku, FLOORS[n % 2], at)])
        publish(settings, [sale(sku, d, f"T-{n}", at + timedelta(hours=1)) for d in distributors])

    violations = judged(judge, len(distributors) * ROUNDS)
    below = {f"T-{n}" for n in range(ROUNDS) if FLOORS[n % 2] == "20.00"}
    assert sorted((r["distributor_id"], r["transaction_id"]) for r in violations) == sorted(
        (d, t) for d in distributors for t in below
    )
    other.stop()  # the judge takes the other's partitions over: its snapshot is whole
    matches_replay(settings, judge, timeout=180)
