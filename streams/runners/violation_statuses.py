"""Violation statuses as the audit log records them, followed incrementally.

The API's views and the read models show each violation's lifecycle status, which only
the event store knows. Only the violations someone took a step on have a status other
than "detected"; this follower keeps those, reading the store's step events after the
last one it saw (the eventsourcing tracking idea), so a request costs what changed since
the previous one, never a read per violation.
"""

from __future__ import annotations

import threading
from uuid import UUID

from infra.eventstore import AuditLog
from projections.statuses import Decided, KnownStatuses


class RecordedStatuses:
    """Decided violations, re-read only when a new step concerns them. Blocking."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self.known: dict[UUID, Decided] = {}
        self.seen = 0
        self._lock = threading.Lock()

    def refresh(self) -> KnownStatuses:
        """The statuses as recorded now."""
        with self._lock:  # called from executor threads, requests in parallel
            stepped, self.seen = self.audit.stepped_since(self.seen)
            for violation_id in stepped:
                decided = self.audit.decided(violation_id)
                if decided is not None:
                    self.known[violation_id] = decided
            return KnownStatuses(list(self.known.values()))
