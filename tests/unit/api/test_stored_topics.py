"""Audit events stored before the aggregate modules were renamed (domain/audit.py,
domain/rebate_audit.py) still load: their old topics resolve to the classes' new homes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from infra.eventstore import open_audit_log
from projections.inventory import Reconciliation
from tests.unit.api.test_audit_chain import claim
from tests.unit.test_rebate_statement import adjusted_twice

DAY = datetime(2026, 7, 6, tzinfo=UTC)
#: (topic prefix now, topic prefix before the rename)
RENAMED = (
    ("domain.reconciliation:", "domain.audit:"),
    ("domain.price_protection:", "domain.audit:"),
    ("domain.rebate_statement:", "domain.rebate_audit:"),
)


def test_events_stored_under_the_old_module_topics_still_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    audit = open_audit_log(url)
    audit.record_all([Reconciliation("D01", "SKU-1", DAY, 10, 9, 1, False), claim(5)])
    statement = adjusted_twice()
    audit.save(statement)
    before = (
        vars(audit.reconciliation("D01", "SKU-1", DAY)),
        vars(audit.claim("D01", "SKU-C", DAY)),
        audit.rebate_statement("VPA-1", "D1", "2026-Q3").total,
    )
    del audit

    with sqlite3.connect(tmp_path / "audit.db") as db:
        for now, old in RENAMED:
            moved = db.execute(
                "UPDATE stored_events SET topic = ? || substr(topic, ?) WHERE topic LIKE ?",
                (old, len(now) + 1, f"{now}%"),
            ).rowcount
            assert moved > 0, now

    reopened = open_audit_log(url)
    assert (
        vars(reopened.reconciliation("D01", "SKU-1", DAY)),
        vars(reopened.claim("D01", "SKU-C", DAY)),
        reopened.rebate_statement("VPA-1", "D1", "2026-Q3").total,
    ) == before
