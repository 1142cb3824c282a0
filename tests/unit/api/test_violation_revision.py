"""A replacement report's line under a violated sale key revises the violation's facts; the
violation is still counted once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from domain.violation import PricingViolation
from infra.eventstore import open_audit_log
from projections.price_rules import Severity, ViolationDetected
from streams.audit.trail import history
from streams.generator import generate_channel
from streams.metrics import REGISTRY
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import record_facts

SOLD = datetime(2026, 8, 4, 15, tzinfo=UTC)
VIOLATIONS = "channelflow_pricing_violations_total"
RECORDS = "channelflow_audit_records_total"


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


def counted(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def test_a_revision_is_recorded_but_not_counted_as_a_new_violation() -> None:
    audit = open_audit_log("sqlite:///:memory:")
    before = counted(VIOLATIONS, severity="major"), counted(RECORDS, kind="violation")
    assert record_facts(audit, [detected(1, 4, "9.00")]) == 1
    assert record_facts(audit, [detected(2, 3, "8.50"), detected(2, 3, "8.50")]) == 1
    after = counted(VIOLATIONS, severity="major"), counted(RECORDS, kind="violation")
    assert (after[0] - before[0], after[1] - before[1]) == (1, 2)


def test_the_demo_channel_counts_each_violation_once_by_severity() -> None:
    """The demo's corrected report revises recorded violations (the metric said 11 minor
    for its 9)."""
    severities = [severity.value for severity in Severity]
    before = {s: counted(VIOLATIONS, severity=s) for s in severities}
    revisions = counted(RECORDS, kind="violation")
    channel = EmbeddedChannel()
    channel.feed_events(generate_channel(seed=7, weeks=6))
    violations = channel.snapshot()["violations"]
    assert counted(RECORDS, kind="violation") - revisions > len(violations)  # some revised
    on_metric = {s: counted(VIOLATIONS, severity=s) - before[s] for s in severities}
    assert on_metric == {s: sum(v["severity"] == s for v in violations) for s in severities}
