"""An event store restored from a backup older than the last records: the runner rebuilt from
the raw events records what the backup lacks and leaves what it holds as it was
(docs/OPERATIONS.md, "Regular checks")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from infra.eventstore import open_audit_log
from streams.audit.verify import audit_differences, unrecorded
from streams.generator import generate_channel
from streams.runners.embedded import EmbeddedChannel


def backed_up(source: Path, copy: Path) -> None:
    """A consistent copy of a SQLite store (its backup API, as a backup tool takes one)."""
    with sqlite3.connect(source) as live, sqlite3.connect(copy) as kept:
        live.backup(kept)


def test_a_rebuild_over_a_restored_store_records_what_the_backup_lacks(tmp_path: Path) -> None:
    events = list(generate_channel(seed=11, weeks=6))
    early, late = events[: len(events) // 2], events[len(events) // 2 :]
    store, backup = tmp_path / "audit.db", tmp_path / "backup.db"

    live = EmbeddedChannel(f"sqlite:///{store}")
    live.feed_events(early)
    backed_up(store, backup)
    live.feed_events(late)
    whole = live.audit

    restored = open_audit_log(f"sqlite:///{backup}", existing=True)
    at_backup = restored.verify_chain()
    _, missing = audit_differences(whole, restored)
    assert unrecorded(missing) > 0  # the records written after the backup are not in it

    rebuilt = EmbeddedChannel(f"sqlite:///{backup}")  # workers under a new app id
    rebuilt.feed_events(events)
    verified, differences = audit_differences(whole, rebuilt.audit)
    assert differences == []
    assert verified == len(whole.aggregate_ids()) == len(rebuilt.audit.aggregate_ids())
    chain = rebuilt.audit.verify_chain(at_backup.head)  # the backup's records as they were
    assert chain.verified and chain.expected_head_position == at_backup.head_position
    assert chain.records > at_backup.records
