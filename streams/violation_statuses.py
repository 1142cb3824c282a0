"""Violation statuses as the audit log records them, followed incrementally.

The API's views and the read models show each violation's lifecycle status, which only the
event store knows; asking it once per violation per request does not scale with a
dashboard polling every few seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from uuid import UUID

from infra.eventstore import AuditLog
from projections.snapshot import StatusLookup
from projections.stores import ChannelStores

#: notifications read per query when following the audit log
PAGE = 500


class RecordedStatuses:
    """Violation statuses from the audit log, re-read only for violations with new events.

    Follows the audit log's notification sequence (the eventsourcing tracking idea): each
    call reads the notifications after the last one seen and re-reads the statuses of the
    violations they concern; a violation never asked about is read once. Blocking.
    """

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self.known: dict[UUID, tuple[str, str | None]] = {}
        self.seen: int | None = None
        self._lock = threading.Lock()

    def lookup(self, ids: Iterable[UUID]) -> StatusLookup:
        with self._lock:  # the API calls it from executor threads, requests in parallel
            return self._lookup(ids)

    def _lookup(self, ids: Iterable[UUID]) -> StatusLookup:
        recorder = self.audit.recorder
        changed: set[UUID] = set()
        if self.seen is None:  # everything is read below
            self.seen = recorder.max_notification_id() or 0
        else:
            while True:
                batch = recorder.select_notifications(self.seen + 1, PAGE)
                changed.update(UUID(str(n.originator_id)) for n in batch)
                if batch:
                    self.seen = batch[-1].id
                if len(batch) < PAGE:
                    break
        for violation_id in ids:
            if violation_id in changed or violation_id not in self.known:
                self.known[violation_id] = self.audit.violation_status(violation_id)
        known = dict(self.known)
        return lambda violation_id: known.get(violation_id, ("detected", None))


def violation_ids(stores: ChannelStores) -> list[UUID]:
    return [f.violation_id for f in stores.flagged.values() if f.kind == "violation"]
