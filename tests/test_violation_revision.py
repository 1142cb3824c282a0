"""A replacement report's line under a violated sale key revises the violation's facts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from domain.violation import PricingViolation
from infra.eventstore import open_audit_log
from projections.prices import Severity
from projections.pricing import ViolationDetected
from streams.audit_trail import history

SOLD = datetime(2026, 8, 4, 15, tzinfo=UTC)


def detected(event: int, quantity: int, price: str) -> ViolationDetected:
    return ViolationDetected(
        PricingViolation.create_id("D01", "T-1"), "D01", "T-1", "R1", "SKU-1", SOLD, quantity,
        Decimal(price), Decimal("10.00"), "USD", Severity.MAJOR, UUID(int=event),
        "list", UUID(int=99),
    )  # fmt: skip


def test_the_corrected_line_revises_the_violation_and_keeps_its_history() -> None:
    audit = open_audit_log("sqlite:///:memory:")
    assert audit.record(detected(1, 4, "9.00"))
    assert not audit.record(detected(1, 4, "9.00"))  # the same line again: nothing
    assert audit.record(detected(2, 3, "8.50"))  # the replacement's line, same sale key
    violation = audit.violation(PricingViolation.create_id("D01", "T-1"))
    assert (violation.quantity, violation.unit_price, violation.event_id) == (
        3,
        Decimal("8.50"),
        UUID(int=2),
    )
    assert violation.status == "detected"
    events = history(audit, "violation", "D01/T-1")["events"]
    assert [e["what"] for e in events] == ["Detected", "Revised"]
    assert "replacement report" in events[1]["why"]
