"""The decision log: the event store's notification log read in order after a position,
each stored event turned into its decision document (projections/decisions.py), and the
relay's position and lease kept in the same PostgreSQL database (docs/DECISIONS.md)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final
from uuid import UUID

import psycopg

from infra.eventstore import AuditLog
from projections.decisions import decisions_of, publishes
from schemas.decisions import DecisionHead

#: stored events read per page
PAGE: Final = 500
#: records whose creation event is kept between pages (a statement's many adjustments)
ORIGINS_KEPT: Final = 4096
#: the first key of the relay's advisory lock; the second is hashtext(relay name)
LOCK_CLASS: Final = 0x63666463  # "cfdc"
TABLE: Final = "channelflow_decision_positions"


@dataclass
class DecisionPage:
    """What a page of the log holds: the position it was read after, its documents in
    position order, the last position read (up to which the relay may store its position
    once they are published) and the log's end when it was read (for the lag)."""

    after: int
    documents: list[DecisionHead] = field(default_factory=list)
    last: int = 0
    end: int = 0


class DecisionSource:
    """Reads the audit store's log after a position, a page at a time (blocking: call it in
    a thread). A page costs what it holds: one query for the events, and one for the
    creation event of each record not seen lately."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._origins: OrderedDict[UUID, object] = OrderedDict()

    def page(self, after: int, limit: int = PAGE) -> DecisionPage:
        recorder = self.audit.recorder
        end = recorder.max_notification_id() or 0
        if end <= after:
            return DecisionPage(after, last=after, end=end)
        notifications = recorder.select_notifications(after + 1, limit, stop=end)
        page = DecisionPage(after, last=after, end=end)
        for notification in notifications:
            try:
                documents = self._documents(notification)
            except Exception:
                if page.last == after:
                    raise  # the relay stops here: a decision is never skipped
                break  # the ones before it are published; the next page starts with it
            page.documents += documents
            page.last = notification.id
        return page

    def _documents(self, notification: Any) -> list[DecisionHead]:
        """The decision documents of a stored event (none: the event publishes none)."""
        event = self.audit.mapper.to_domain_event(notification)
        if not publishes(event):
            return []
        return decisions_of(notification.id, event, self._origin(event))

    def _origin(self, event: Any) -> object:
        """The creation event of `event`'s record (the event itself when it is one)."""
        record_id = UUID(str(event.originator_id))
        if int(event.originator_version) == 1:
            origin = event
        elif record_id in self._origins:
            self._origins.move_to_end(record_id)
            return self._origins[record_id]
        else:
            (stored,) = self.audit.recorder.select_events(record_id, lte=1, limit=1)
            origin = self.audit.mapper.to_domain_event(stored)
        self._origins[record_id] = origin
        if len(self._origins) > ORIGINS_KEPT:
            self._origins.popitem(last=False)
        return origin


class RelayLease:
    """The relay's position and its right to publish, on one PostgreSQL connection of its
    own: a session advisory lock (one relay per deployment publishes; the lock goes with
    the connection when the process dies) and a row per relay name in `TABLE`. Blocking."""

    def __init__(self, dsn: str, name: str) -> None:
        self.dsn, self.name = dsn, name
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        """Take the lock if no other relay of this name holds it; True while held."""
        if self._conn is not None:
            return True
        conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=5)
        try:
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, self.name)
            ).fetchone()
            if row and row[0]:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} (relay text PRIMARY KEY, "
                    "position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
                )
                self._conn = conn
        finally:
            if self._conn is not conn:  # not held: a lock left on it would block every relay
                conn.close()
        return self._conn is conn

    def position(self) -> int:
        """The last position published (0: none yet)."""
        row = (
            self._held()
            .execute(f"SELECT position FROM {TABLE} WHERE relay = %s", (self.name,))
            .fetchone()
        )
        return 0 if row is None else int(str(row[0]))

    def store(self, position: int) -> None:
        """Record that everything up to `position` is published; never moves back."""
        self._held().execute(
            f"INSERT INTO {TABLE} AS p (relay, position) VALUES (%s, %s) "
            "ON CONFLICT (relay) DO UPDATE SET position = GREATEST(p.position, "
            "EXCLUDED.position), updated_at = now()",
            (self.name, position),
        )

    def release(self) -> None:
        """Give up the lock (closing the connection does it)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _held(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None:
            raise RuntimeError("the relay does not hold its lease")
        return self._conn
