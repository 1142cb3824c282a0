"""Special price authorizations through Kafka and a worker on PostgreSQL: read whole from
their reference topic, a sale within a deal judged against the deal's floor, a refusal
dead-lettered, kept across a restart, and the replay equal to live."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from schemas.claims import SpecialPriceAmended, SpecialPriceAuthorized
from schemas.events import PriceChanged, SaleReported
from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    catalog,
    letter_counts,
    matches_replay,
    publish,
    publish_reference_first,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SKU = "SKU-SPA"
T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)


def listed() -> PriceChanged:
    at = T0 - timedelta(days=30)
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=SKU,
        distributor_cost=Decimal("7.00"), floor_price=Decimal("10.00"), currency="USD",
        effective_from=at, published_at=at,
    )  # fmt: skip


def deal(authorization_id: str, distributor: str) -> SpecialPriceAuthorized:
    """The distributor may sell SKU-SPA to R-DEAL down to 8.00 in August."""
    return SpecialPriceAuthorized(
        event_id=uuid.uuid4(), occurred_at=T0, source="erp", authorization_id=authorization_id,
        distributor_ids=[distributor], skus=[SKU], reseller_id="R-DEAL",
        authorized_cost=Decimal("6.00"), floor_price=Decimal("8.00"),
        valid_from=date(2026, 8, 1), valid_to=date(2026, 8, 31), currency="USD",
    )  # fmt: skip


def sale(distributor: str, transaction: str, price: str, reseller: str, hour: int) -> SaleReported:
    at = T0 + timedelta(hours=hour)
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id=distributor,
        transaction_id=transaction, reseller_id=reseller, sku=SKU, quantity=2,
        unit_price=Decimal(price), currency="USD", sold_at=at,
    )  # fmt: skip


def scopes(worker, distributor: str) -> dict[str, str]:
    rows = worker.get(f"/api/violations?distributor_id={distributor}")["rows"]
    return {row["transaction_id"]: row["floor_price"] for row in rows}


def test_a_sale_within_a_deal_is_judged_by_its_floor_live_across_a_restart_and_replayed(
    settings, worker_factory, pg_dsn
):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    authorization_id = f"SPA-{uuid.uuid4().hex[:8]}"
    first = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(settings, first, [*catalog(SKU), listed()])
    unknown = SpecialPriceAmended(
        event_id=uuid.uuid4(), occurred_at=T0, source="erp",
        authorization_id=f"{authorization_id}-X", amendment_id="A1", quantity_cap=5,
    )  # fmt: skip
    publish(settings, [deal(authorization_id, distributor), unknown])
    path = f"/api/authorizations?authorization_id={authorization_id}"
    rows = wait_until(lambda: first.get(path)["rows"], 60, "the deal known")
    assert [(r["distributor_id"], r["floor_price"]) for r in rows] == [(distributor, "8.00")]
    publish(
        settings,
        [
            sale(distributor, "T-1", "9.00", "R-DEAL", 1),  # under the list, within the deal
            sale(distributor, "T-2", "7.50", "R-DEAL", 2),  # under the deal's floor
            sale(distributor, "T-3", "9.00", "R-9", 3),  # not the deal's reseller
        ],
    )
    found = wait_until(lambda: len(scopes(first, distributor)) == 2 and scopes(first, distributor),
                       60, "two violations")  # fmt: skip
    assert found == {"T-2": "8.00", "T-3": "10.00"}
    # the unknown amendment's partition is the agent's to dead-letter, read side by side
    # with the sales partition: the violations say nothing of it
    wait_until(lambda: letter_counts(first).get("unknown_authorization", 0) >= 1, 60,
               "the unknown amendment dead-lettered")  # fmt: skip

    first.kill()  # the reference replica reads the deal again from its topic
    second = worker_factory(eventstore_url=pg_dsn).start()
    wait_until(lambda: second.get(path)["rows"], 60, "the deal known after the restart")
    publish(settings, [sale(distributor, "T-4", "8.50", "R-DEAL", 4)])
    matches_replay(settings, second)  # every section, violations and dead letters included
    assert scopes(second, distributor) == {"T-2": "8.00", "T-3": "10.00"}
