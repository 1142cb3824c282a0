"""Audit facts recorded a batch per transaction give the store one-by-one recording gives."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.eventstore import RECORD_BATCH, AuditLog, Recorded, open_audit_log
from projections.inventory import Reconciliation
from projections.outcome import AuditFact
from tests.unit.api.test_claim_withdrawal import claim
from tests.unit.api.test_violation_revision import detected

DAY = datetime(2026, 7, 6, tzinfo=UTC)


def reconciliation(i: int) -> Reconciliation:
    return Reconciliation("D01", f"SKU-{i}", DAY, 10, 9, 1, False)


#: new facts, a repeat, a claim created, revised and withdrawn, a violation and its revision
MIXED: list[AuditFact] = [
    reconciliation(1),
    claim(5),
    detected(1, 4, "9.00"),
    reconciliation(2),
    reconciliation(1),
    claim(6),
    claim(6),
    detected(1, 4, "9.00"),
    detected(2, 3, "8.50"),
    claim(0),
    claim(0),
]


def stored(audit: AuditLog) -> list[tuple[str, int, str]]:
    """Every stored event: aggregate, version and topic, in position order."""
    return [
        (str(n.originator_id), n.originator_version, n.topic)
        for n in audit.recorder.select_notifications(start=1, limit=10_000)
    ]


def test_a_batch_records_what_one_by_one_recording_records() -> None:
    batched, single = open_audit_log("sqlite:///:memory:"), open_audit_log("sqlite:///:memory:")
    new = batched.record_all(MIXED)
    assert new.changed == [fact for fact in MIXED if single.record(fact)]
    assert new.changed == [MIXED[i] for i in (0, 1, 2, 3, 5, 8, 9)]
    assert new.created == MIXED[:4]  # the rest revise them: the same facts
    assert sorted(stored(batched)) == sorted(stored(single))
    assert batched.verify_chain().verified
    # what stands already: nothing new
    again = batched.record_all([reconciliation(2), claim(0), detected(2, 3, "8.50")])
    assert again == Recorded()


def test_a_batch_another_writer_got_into_first_is_recorded_fact_by_fact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    ours, theirs = open_audit_log(url), open_audit_log(url)
    # we looked before they committed: none of ours seemed recorded yet
    monkeypatch.setattr(ours.chain, "recorded_among", lambda ids: set())
    assert theirs.record(reconciliation(2))
    facts = [reconciliation(1), reconciliation(2), reconciliation(3)]
    assert ours.record_all(facts) == Recorded([facts[0], facts[2]], [facts[0], facts[2]])
    report = ours.verify_chain()
    assert report.verified and report.records == 3


def test_more_facts_than_a_batch() -> None:
    audit = open_audit_log("sqlite:///:memory:")
    facts: list[AuditFact] = [reconciliation(i) for i in range(RECORD_BATCH * 2 + 7)]
    assert audit.record_all(facts) == Recorded(facts, facts)
    assert len(stored(audit)) == len(facts)
