"""The register of X12 interchanges received, in PostgreSQL (docs/INGEST.md, "A resent
interchange").

One row per interchange, keyed by who sent it (ISA05 / ISA06), to whom (ISA07 / ISA08) and
its control number (ISA13), written once its upload is published: when it was received,
the sha256 of the bytes received, the distributor that sent it and the outcome of its
lines. The row is written with one `INSERT … ON CONFLICT` that replaces a row only when it
was received longer than the window (a year by default) before: one probe of the key's
index. The first process to write it wins, and every gateway process and restart sees it
at once (no cache is kept). Only an interchange seen within the window is read back (one
more probe), to name its first receipt. A control number older than the window is a first
receipt again: translators restart their numbering (a new install, a yearly reset) or wrap
it at 999999999, and such numbers would otherwise be answered `025` for good. Such rows
are dead weight: `prune` deletes them (`channelflow interchanges prune`), which changes no
answer; it finds them by the index on `received_at`, reading only them (bench/README.md,
"The register of X12 interchanges: what pruning it costs").
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from typing import Final

from infra.own_table import OwnTable

#: schema-qualified, as the subject keys' table (infra/subject_keys.py)
TABLE: Final = "public.channelflow_interchanges"
#: advisory-lock key under which processes create the table one at a time
SCHEMA_LOCK: Final = 0x6368_6973_6133
_KEY: Final = "sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number"
#: rows `prune` deletes per statement (each its own short transaction)
PRUNE_BATCH: Final = 10_000
#: what `prune` and `stale` find the rows past the window by, instead of reading them all;
#: created with the table, and on a table made without it (before 2026-12-07) by the first
#: process that opens it after the upgrade, under the same lock
RECEIVED_AT_INDEX: Final = "channelflow_interchanges_received_at"

_DDL: Final = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    sender_qualifier text NOT NULL,
    sender_id text NOT NULL,
    receiver_qualifier text NOT NULL,
    receiver_id text NOT NULL,
    control_number text NOT NULL,
    received_at timestamptz NOT NULL,
    digest text NOT NULL,
    distributor_id text,
    outcome text NOT NULL,
    PRIMARY KEY ({_KEY})
);
CREATE INDEX IF NOT EXISTS {RECEIVED_AT_INDEX} ON {TABLE} (received_at)
"""
#: one batch of `prune`: (cutoff, cutoff, batch)
PRUNE_STATEMENT: Final = (
    f"DELETE FROM {TABLE} WHERE received_at < %s AND ({_KEY}) IN"
    f" (SELECT {_KEY} FROM {TABLE} WHERE received_at < %s LIMIT %s)"
)


@dataclass(frozen=True, slots=True)
class InterchangeKey:
    """What makes an interchange the same one: ISA05, ISA06, ISA07, ISA08, ISA13 (blanks
    around each removed)."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """One receipt of an interchange: when, its bytes' sha256, whose, and what its lines
    earned (`accepted`, `errors` or `rejected`)."""

    received_at: datetime
    digest: str
    distributor_id: str | None
    outcome: str


class InterchangeRegister(OwnTable):
    """The register at a PostgreSQL URL; one connection, opened on first use."""

    def __init__(self, url: str, window: timedelta = timedelta(days=365)) -> None:
        super().__init__(url, _DDL, SCHEMA_LOCK)
        #: how long a control number is remembered: a receipt longer after the one held
        #: replaces it, as a first receipt
        self.window = window

    def record(self, key: InterchangeKey, receipt: Receipt) -> Receipt | None:
        """Register `receipt` of the interchange `key`; its first receipt when it had been
        registered within the window before it (then nothing is written), else None (a
        receipt held from longer ago is replaced: the sender's numbering came round)."""
        db = self._db()
        values = (*astuple(key), receipt.received_at, receipt.digest, receipt.distributor_id)
        added = db.execute(
            f"INSERT INTO {TABLE} AS held ({_KEY}, received_at, digest, distributor_id, outcome)"
            f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT ({_KEY}) DO UPDATE SET"
            " received_at = excluded.received_at, digest = excluded.digest,"
            " distributor_id = excluded.distributor_id, outcome = excluded.outcome"
            " WHERE held.received_at < %s RETURNING 1",
            (*values, receipt.outcome, receipt.received_at - self.window),
        ).fetchone()
        if added is not None:
            return None
        return self.first(key)

    def stale(self, now: datetime) -> int:
        """How many rows were received longer than the window before `now` (those `prune`
        deletes: a receipt of theirs again is a first receipt already)."""
        row = self._db().execute(
            f"SELECT count(*) FROM {TABLE} WHERE received_at < %s", (now - self.window,)
        )
        found = row.fetchone()
        return 0 if found is None else int(found[0])

    def prune(self, now: datetime, batch: int = PRUNE_BATCH) -> int:
        """Delete the rows received longer than the window before `now`, `batch` at a time
        (each statement its own transaction, so that none holds many row locks long); how
        many were deleted. A row a process registers again meanwhile (its new receipt
        replaces it) is not deleted: the outer condition is checked again on it."""
        cutoff, deleted = now - self.window, 0
        while True:
            done = self._db().execute(PRUNE_STATEMENT, (cutoff, cutoff, batch)).rowcount
            deleted += done
            if done < batch:
                return deleted

    def first(self, key: InterchangeKey) -> Receipt | None:
        """The registered receipt of interchange `key`, if any."""
        row = (
            self._db()
            .execute(
                f"SELECT received_at, digest, distributor_id, outcome FROM {TABLE}"
                f" WHERE ({_KEY}) = (%s, %s, %s, %s, %s)",
                astuple(key),
            )
            .fetchone()
        )
        return None if row is None else Receipt(row[0], str(row[1]), row[2], str(row[3]))
