"""The audit event store on the real PostgreSQL server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.reconciliation import InventoryReconciliation
from infra.eventstore import open_audit_log
from projections.inventory import Reconciliation
from projections.snapshot import rebate_statements
from schemas.events import InventoryCounted, RebatePeriodClosed, ShipmentRecorded
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import record_statements
from tests.integration.conftest import wait_until
from tests.integration.helpers import catalog, publish, publish_reference_first, stored_events
from tests.unit.api.test_rebates_embedded import program
from tests.unit.api.test_time_you_can_trust import NOW, SOLD, as_broker, product, sale

pytestmark = pytest.mark.postgres

EVENTS_TABLE = "channelflow_audit_events"


def test_reconciliation_round_trips_and_is_recorded_once(pg_dsn):
    audit = open_audit_log(pg_dsn)
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    counted_at = datetime(2026, 7, 12, 23, tzinfo=UTC)
    fact = Reconciliation(distributor, "SKU-9", counted_at, 95, 100, -5, False)

    assert audit.record(fact) is True
    assert audit.record(fact) is False  # same business key: no-op
    assert open_audit_log(pg_dsn).record(fact) is False  # also from a new process

    stored = open_audit_log(pg_dsn).reconciliation(distributor, "SKU-9", counted_at)
    assert (stored.on_hand, stored.expected, stored.variance) == (95, 100, -5)
    assert stored.counted_at == counted_at
    assert (
        stored_events(pg_dsn, InventoryReconciliation.create_id(distributor, "SKU-9", counted_at))
        == 1
    )


@pytest.mark.kafka
def test_a_count_through_kafka_records_one_reconciliation_even_after_restart(
    settings, worker_factory, pg_dsn
):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    shipped_at = datetime(2026, 7, 6, 9, tzinfo=UTC)
    counted_at = shipped_at + timedelta(days=6)
    shipment = ShipmentRecorded(
        event_id=uuid.uuid4(),
        occurred_at=shipped_at,
        source="erp",
        shipment_id="SH-1",
        distributor_id=distributor,
        sku="SKU-1",
        quantity=120,
        unit_price=Decimal("4.00"),
        currency="USD",
        shipped_at=shipped_at,
    )
    count = InventoryCounted(
        event_id=uuid.uuid4(),
        occurred_at=counted_at,
        source="edi852",
        distributor_id=distributor,
        sku="SKU-1",
        on_hand=117,
        counted_at=counted_at,
    )
    aggregate_id = InventoryReconciliation.create_id(distributor, "SKU-1", counted_at)

    first = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(settings, first, catalog("SKU-1"))
    publish(settings, [shipment])
    wait_until(
        lambda: first.get(f"/api/inventory?distributor_id={distributor}")["rows"], 60, "shipment"
    )
    publish(settings, [count])
    wait_until(
        lambda: stored_events(pg_dsn, aggregate_id) == 1, 60, "the reconciliation in PostgreSQL"
    )
    first.kill()

    second = worker_factory(eventstore_url=pg_dsn).start()
    resent = count.model_copy(update={"event_id": uuid.uuid4()})  # a distributor resends its 852
    publish(settings, [resent])
    wait_until(
        lambda: (
            second.get(f"/api/quality?distributor_id={distributor}")["rows"][0]["duplicates"] == 1
        ),
        60,
        "the resent count to be recognized as a duplicate",
    )
    assert stored_events(pg_dsn, aggregate_id) == 1
    stored = open_audit_log(pg_dsn).reconciliation(distributor, "SKU-1", counted_at)
    assert (stored.on_hand, stored.expected, stored.variance) == (117, 120, -3)


def test_a_statement_with_thousands_of_late_lines_saves_them_all(pg_dsn):
    """One recording round with more adjustments than one transaction takes (a save of
    10,000 at once once never finished): saved in parts, each line once."""
    program_id = f"VPA-{uuid.uuid4().hex[:8]}"
    channel = EmbeddedChannel(eventstore_url=pg_dsn, rebate_grace_days=10_000)
    defined = program("retroactive").model_copy(update={"program_id": program_id})
    channel.feed(as_broker([product(), defined], NOW - timedelta(days=1)))
    channel.feed(as_broker([sale("T0", SOLD, 2000)], NOW - timedelta(hours=1), 2))
    close = RebatePeriodClosed(
        event_id=uuid.uuid4(), occurred_at=NOW, source="erp", program_id=program_id,
        period="2026-Q3", closed_at=NOW, closed_by="carol",
    )  # fmt: skip
    channel.feed(as_broker([close], NOW, 3))
    late = [sale(f"L{n}", SOLD, 1) for n in range(1_234)]
    channel.apply(as_broker(late, NOW + timedelta(minutes=1), 4))
    assert record_statements(channel.audit, rebate_statements(channel.stores)) == 1_234
    statement = open_audit_log(pg_dsn).rebate_statement(program_id, "D01", "2026-Q3")
    # lines recorded at one time are taken in event id order
    assert [a.event_id for a in statement.adjustments] == sorted(str(s.event_id) for s in late)
    assert record_statements(channel.audit, rebate_statements(channel.stores)) == 0
