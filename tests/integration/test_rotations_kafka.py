"""Stock rotation through Kafka and a worker on PostgreSQL (docs/AGREEMENTS.md, the worked
example): a request accepted, one rejected over the allowance, a conflicting resend
dead-lettered, the return shipment received after a restart; a rotation cancelled through
the worker's route (its allowance taken by a later request), an exchange order matched to
the vendor's shipment; the audit aggregates recorded, and the replay equal to live."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.rotation_lifecycle import RotationStatus, StockRotation, rotation_aggregate_id
from infra.eventstore import open_audit_log
from schemas.agreements import RotationLine, StockRotationRequested
from schemas.events import Envelope, PriceChanged, ShipmentRecorded
from streams.auth import token_hash
from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    catalog,
    letter_counts,
    matches_replay,
    publish,
    publish_reference_first,
)
from tests.unit.agreement_events import signed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SKU = "SKU-ROT"
TERMS: dict[str, Any] = {"inventory": {"rotation_allowance": "0.10"}}


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def cost() -> PriceChanged:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=SKU,
        distributor_cost=Decimal("20.00"), floor_price=Decimal("25.00"), currency="USD",
        effective_from=at, published_at=at,
    )  # fmt: skip


def shipment(
    distributor: str, shipment_id: str, units: int, day: date, sku: str = SKU
) -> ShipmentRecorded:
    return ShipmentRecorded(
        event_id=uuid.uuid4(), occurred_at=noon(day), source="erp", shipment_id=shipment_id,
        distributor_id=distributor, sku=sku, quantity=units, unit_price=Decimal("20.00"),
        currency="USD", shipped_at=noon(day),
    )  # fmt: skip


def request(
    distributor: str, request_id: str, units: int, orders: dict[str, int] | None = None
) -> StockRotationRequested:
    day = noon(date(2026, 5, 20))
    return StockRotationRequested(
        event_id=uuid.uuid4(), occurred_at=day, source="api", request_id=request_id,
        distributor_id=distributor, requested_at=day,
        returns=[RotationLine(sku=SKU, quantity=units)],
        orders=[RotationLine(sku=sku, quantity=n) for sku, n in (orders or {}).items()],
    )  # fmt: skip


def test_accepted_rejected_and_returned_live_equal_the_replay(settings, worker_factory, pg_dsn):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    worker = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(settings, worker, [*catalog(SKU), cost()])
    # Q2's purchases: 500 × 20.00 = 10,000.00, so 10 % is an allowance of 1,000.00
    stock: list[Envelope] = [
        signed(**TERMS).model_copy(update={"distributor_id": distributor}),
        shipment(distributor, "S-1", 100, date(2026, 1, 15)),
        shipment(distributor, "S-2", 500, date(2026, 4, 10)),
    ]
    publish(settings, stock)
    stocked = f"/api/inventory?distributor_id={distributor}"
    wait_until(lambda: [r["expected_on_hand"] for r in worker.get(stocked)["rows"]] == [600], 60,
               "the stock")  # fmt: skip
    wait_until(lambda: worker.get(f"/api/agreements?distributor_id={distributor}")["rows"], 60,
               "the agreement")  # fmt: skip
    publish(settings, [request(distributor, "R1", 40), request(distributor, "R2", 15)])
    path = f"/api/rotations?distributor_id={distributor}"
    rows = wait_until(lambda: len(worker.get(path)["rows"]) == 2 and worker.get(path)["rows"], 60,
                      "both decisions")  # fmt: skip
    by_id = {row["request_id"]: row for row in rows}
    assert (by_id["R1"]["status"], by_id["R1"]["return_value"], by_id["R1"]["allowance"]) == (
        "accepted",
        "800.00",
        "1000.00",
    )
    assert (by_id["R2"]["status"], by_id["R2"]["reasons"], by_id["R2"]["used_before"]) == (
        "rejected",
        ["over_allowance"],
        "800.00",
    )

    shipment_id = by_id["R1"]["return_shipment_id"]
    worker.kill()  # the open return and the ledger come back from the changelog
    worker = worker_factory(eventstore_url=pg_dsn).start()
    conflicting = request(distributor, "R1", 41)
    publish(settings, [conflicting, shipment(distributor, shipment_id, -40, date(2026, 5, 28))])
    one = f"/api/rotations/{distributor}/R1"
    wait_until(lambda: worker.get(one)["status"] == "returned", 60, "the return received")
    assert worker.get(one)["received"] == {SKU: 40}
    # the rotations and shipments topics are read side by side: the return received says
    # nothing of the conflicting request sent with it
    letters = wait_until(
        lambda: "conflicting_duplicate" in (found := letter_counts(worker)) and found,
        60,
        "the conflicting request dead-lettered",
    )
    assert letters["conflicting_duplicate"] == 1

    audit = open_audit_log(pg_dsn)

    def recorded(request_id: str) -> StockRotation:
        got: StockRotation = audit.repository.get(rotation_aggregate_id(distributor, request_id))
        return got

    wait_until(lambda: recorded("R1").status is RotationStatus.RETURNED, 60, "R1's aggregate")
    assert recorded("R1").received == {SKU: 40}
    assert recorded("R2").status is RotationStatus.REJECTED

    live = matches_replay(settings, worker)  # the rotations section included
    assert [row["status"] for row in live["rotations"] if row["distributor_id"] == distributor] == [
        "returned",
        "rejected",
    ]


OTHER = "SKU-ROT-Y"
ADMIN = "rotation-admin"


def test_cancelled_through_the_route_and_the_exchange_matched(settings, worker_factory, pg_dsn):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    own = f"{distributor}-token"
    tokens = json.dumps([
        {"sha256": token_hash(ADMIN), "role": "admin", "actor": "ops"},
        {"sha256": token_hash(own), "role": "distributor", "actor": "d-user",
         "distributor_id": distributor},
    ])  # fmt: skip
    worker = worker_factory({"CHANNELFLOW_TOKENS": tokens}, eventstore_url=pg_dsn).start()
    worker.token = ADMIN
    other_cost = cost().model_copy(update={"event_id": uuid.uuid4(), "sku": OTHER})
    publish_reference_first(settings, worker, [*catalog(SKU, OTHER), cost(), other_cost])
    stock: list[Envelope] = [
        signed(**TERMS).model_copy(update={"distributor_id": distributor}),
        shipment(distributor, "S-1", 100, date(2026, 1, 15)),
        shipment(distributor, "S-2", 500, date(2026, 4, 10)),
    ]
    publish(settings, stock)
    stocked = f"/api/inventory?distributor_id={distributor}&sku={SKU}"
    wait_until(lambda: [r["expected_on_hand"] for r in worker.get(stocked)["rows"]] == [600], 60,
               "the stock")  # fmt: skip
    wait_until(lambda: worker.get(f"/api/agreements?distributor_id={distributor}")["rows"], 60,
               "the agreement")  # fmt: skip
    # R1: 40 back (800.00) and 10 of the other sku in exchange; R2: 10 back (200.00): the
    # allowance of 1,000.00 is used up
    publish(settings, [request(distributor, "R1", 40, {OTHER: 10}), request(distributor, "R2", 10)])
    path = f"/api/rotations?distributor_id={distributor}"
    wait_until(lambda: len(worker.get(path)["rows"]) == 2, 60, "both decisions")
    r1 = worker.get(f"/api/rotations/{distributor}/R1")
    assert (r1["status"], r1["exchange_status"]) == ("accepted", "none")

    status, answer = worker.post(f"/api/rotations/{distributor}/R2/cancel", {"reason": "sold"}, own)
    assert (status, answer["cancelled_by"]) == (202, "d-user"), answer
    two = f"/api/rotations/{distributor}/R2"
    wait_until(lambda: worker.get(two)["status"] == "cancelled", 60, "R2 cancelled")
    status, answer = worker.post(f"/api/rotations/{distributor}/R2/cancel", {"reason": "x"}, own)
    assert (status, answer["error"]["code"]) == (409, "already_cancelled")
    # R2's 200.00 is free again: R3 fits exactly
    publish(settings, [request(distributor, "R3", 10)])
    three = f"/api/rotations/{distributor}/R3"
    wait_until(lambda: worker.get(three)["status"] == "accepted", 60, "R3 accepted")
    assert worker.get(three)["used_before"] == "800.00"

    exchange_id = r1["exchange_shipment_id"]
    publish(settings, [shipment(distributor, exchange_id, 10, date(2026, 5, 25), sku=OTHER)])
    one = f"/api/rotations/{distributor}/R1"
    wait_until(lambda: worker.get(one)["exchange_status"] == "shipped", 60, "the exchange")
    assert worker.get(one)["exchanged"] == {OTHER: 10}

    audit = open_audit_log(pg_dsn)

    def recorded(request_id: str) -> StockRotation:
        got: StockRotation = audit.repository.get(rotation_aggregate_id(distributor, request_id))
        return got

    wait_until(lambda: recorded("R1").exchanged == {OTHER: 10}, 60, "R1's exchange recorded")
    wait_until(lambda: recorded("R2").status is RotationStatus.CANCELLED, 60, "R2's aggregate")
    cancelled = recorded("R2").cancelled_by
    assert cancelled is not None and cancelled[:2] == ("d-user", "distributor")

    live = matches_replay(settings, worker)
    mine = {r["request_id"]: r["status"] for r in live["rotations"]
            if r["distributor_id"] == distributor}  # fmt: skip
    assert mine == {"R1": "accepted", "R2": "cancelled", "R3": "accepted"}
