"""Cancelling an accepted stock rotation (docs/AGREEMENTS.md, "Stock rotation"): the
reservation and the allowance released, the expected return dropped, refusals with their
reasons, duplicates, the audit aggregate cancelled once; and the route and the CLI."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from domain.rotation_lifecycle import RotationStatus, StockRotation, rotation_aggregate_id
from infra.eventstore import open_audit_log
from projections.dedup import Verdict
from projections.rotation_facts import RotationCancelled
from projections.rotation_reads import rotation_of
from projections.rotation_state import RotationRecord
from projections.stores import ChannelStores
from schemas.agreements import StockRotationCancelled
from streams.auth import TokenRegistry, token_hash
from streams.cli.main import main
from streams.runners.processing import record_facts
from tests.live_app import LiveApp
from tests.unit.agreement_events import at, uid
from tests.unit.rotation_cases import channel, request, returned
from tests.unit.test_rotation_wiring import decided, reserved, send

MAY_22 = date(2026, 5, 22)


def cancel(request_id: str, n: int = 1, reason: str = "the reseller took the stock", **changes: Any
           ) -> StockRotationCancelled:  # fmt: skip
    fields: dict[str, Any] = {
        "event_id": uid(950 + n), "occurred_at": at(MAY_22), "recorded_at": at(MAY_22, 13),
        "source": "api", "request_id": request_id, "distributor_id": "D01",
        "cancelled_at": at(MAY_22), "cancelled_by": "d01-user", "role": "distributor",
        "reason": reason, **changes,
    }  # fmt: skip
    return StockRotationCancelled(**fields)


def accepted_r1(stores: ChannelStores) -> str:
    """R1 accepted: 40 X at 12.50 = 500.00 of Q2's 900.00 allowance; its return shipment id."""
    decision = decided(send(stores, "rotations", 0, request("R1", {"X": 40}))).decision
    assert decision.status == "accepted" and decision.expected_return is not None
    return decision.expected_return.shipment_id


def test_a_cancel_releases_the_reservation_the_allowance_and_the_return() -> None:
    stores = channel()
    shipment_id = accepted_r1(stores)
    assert reserved(stores) == {"X": 40}
    outcome = send(stores, "rotations", 1, cancel("R1"))
    assert outcome.verdict is Verdict.ACCEPTED
    [fact] = outcome.facts
    assert isinstance(fact, RotationCancelled)
    assert (fact.actor_id, fact.role) == ("d01-user", "distributor")
    assert fact.reason == "the reseller took the stock"
    assert reserved(stores) == {}
    assert list(stores.rotation_returns.scan("D01|")) == []
    ledger = stores.rotation_ledgers.get("D01|2026-Q2")
    assert ledger is not None and (ledger.used, ledger.requests) == (Decimal("0.00"), ())
    row = rotation_of(stores, "D01", "R1")
    assert row is not None and row["status"] == "cancelled"
    assert (row["cancelled_by"], row["cancel_reason"]) == (
        "d01-user",
        "the reseller took the stock",
    )
    assert row["cancelled_at"] == "2026-05-22T12:00:00Z"
    # 70 X (875.00) would be over the allowance with R1's 500.00 used; without it, it fits
    later = decided(send(stores, "rotations", 2, request("R2", {"X": 70}, n=2))).decision
    assert (later.status, later.used_before) == ("accepted", Decimal("0.00"))
    # the old return shipment id is now an ordinary return to the vendor
    assert not send(stores, "shipments", 0, returned(50, shipment_id, 40)).facts
    record = stores.rotations.get("D01|R1")
    assert record is not None and record.received == {}
    assert RotationRecord.from_json(orjson.loads(orjson.dumps(record.to_json()))) == record


def test_a_cancel_is_taken_once() -> None:
    stores = channel()
    accepted_r1(stores)
    assert send(stores, "rotations", 1, cancel("R1")).verdict is Verdict.ACCEPTED
    again = send(stores, "rotations", 1, cancel("R1"))
    assert again.verdict is Verdict.REDELIVERY and not again.facts
    resent = send(stores, "rotations", 2, cancel("R1", n=2))
    assert resent.verdict is Verdict.DUPLICATE and not resent.facts
    other = send(stores, "rotations", 3, cancel("R1", n=3, reason="changed my mind"))
    assert other.dead_letter_reason == "already_cancelled"
    assert "2026-05-22" in (other.detail or "")


def test_what_cannot_be_cancelled_is_dead_lettered_with_its_reason() -> None:
    stores = channel()
    unknown = send(stores, "rotations", 0, cancel("R9"))
    assert (unknown.dead_letter_reason, unknown.verdict) == ("unknown_rotation", None)
    shipment_id = accepted_r1(stores)
    rejected = decided(send(stores, "rotations", 1, request("R2", {"X": 40}, n=2))).decision
    assert rejected.reasons == ("over_allowance",)
    assert send(stores, "rotations", 2, cancel("R2")).dead_letter_reason == "rotation_not_accepted"
    send(stores, "shipments", 0, returned(50, shipment_id, 10))  # 10 of 40 back
    partly = send(stores, "rotations", 3, cancel("R1", n=2))
    assert partly.dead_letter_reason == "already_returned" and "10 units" in (partly.detail or "")
    assert reserved(stores) == {"X": 30}
    counted = {key for key, _ in stores.dead_letters.scan("D01|")}
    assert {"D01|unknown_rotation", "D01|rotation_not_accepted", "D01|already_returned"} <= counted


def test_the_audit_aggregate_is_cancelled_once() -> None:
    stores = channel()
    facts = list(send(stores, "rotations", 0, request("R1", {"X": 40})).facts)
    facts += send(stores, "rotations", 1, cancel("R1")).facts
    audit = open_audit_log("sqlite:///:memory:")
    assert record_facts(audit, facts) == 2
    assert record_facts(audit, facts) == 0
    rotation: StockRotation = audit.repository.get(rotation_aggregate_id("D01", "R1"))
    assert rotation.status is RotationStatus.CANCELLED
    assert rotation.cancelled_by is not None
    assert rotation.cancelled_by[:2] == ("d01-user", "distributor")
    assert rotation.cancel_event == uid(951)


@pytest.fixture(name="live")
def live_fixture() -> Any:
    tokens = TokenRegistry([
        {"sha256": token_hash("adm"), "role": "admin", "actor": "adm"},
        {"sha256": token_hash("d01"), "role": "distributor", "actor": "d01",
         "distributor_id": "D01"},
        {"sha256": token_hash("d02"), "role": "distributor", "actor": "d02",
         "distributor_id": "D02"},
        {"sha256": token_hash("aud"), "role": "auditor", "actor": "aud"},
    ])  # fmt: skip
    app = LiveApp(tokens)
    app.channel.stores = channel()
    app.start()
    app.feed([request("R1", {"X": 40})])
    yield app
    app.stop()


def test_the_cli_cancels_through_the_route(live: LiveApp, capsys) -> None:
    base = ["rotations", "cancel", "D01", "R1", "--url", live.url]
    assert main([*base, "--token", "d02", "--reason", "not mine"]) == 2
    assert "HTTP 403" in capsys.readouterr().err
    assert main([*base, "--token", "aud", "--reason", "no right"]) == 2
    assert "HTTP 403" in capsys.readouterr().err
    assert main([*base, "--token", "d01"]) == 2
    assert "--reason" in capsys.readouterr().err
    assert main(["rotations", "cancel", "D01", "R9", "--url", live.url, "--token", "adm",
                 "--reason", "x"]) == 2  # fmt: skip
    assert "HTTP 404" in capsys.readouterr().err
    assert main([*base, "--token", "d01", "--reason", "sold after all", "--json"]) == 0
    answer = orjson.loads(capsys.readouterr().out)
    assert (answer["cancelled_by"], answer["request_id"]) == ("d01", "R1")
    row = rotation_of(live.channel.stores, "D01", "R1")
    assert row is not None
    assert (row["status"], row["cancel_reason"]) == ("cancelled", "sold after all")
    rotation: StockRotation = live.channel.audit.repository.get(rotation_aggregate_id("D01", "R1"))
    assert rotation.status is RotationStatus.CANCELLED
    assert main([*base, "--token", "adm", "--reason", "again"]) == 2
    assert "HTTP 409 already_cancelled" in capsys.readouterr().err


def test_a_cancellation_says_why() -> None:
    with pytest.raises(ValidationError, match="reason"):
        cancel("R1", reason="   ")
