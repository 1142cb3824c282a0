"""The register of X12 interchanges received, in PostgreSQL (docs/INGEST.md, "A resent
interchange").

One row per interchange, keyed by who sent it (ISA05 / ISA06), to whom (ISA07 / ISA08) and
its control number (ISA13), written once its upload is published: when it was received,
the sha256 of the bytes received, the distributor that sent it and the outcome of its
lines. The row is written with `INSERT … ON CONFLICT DO NOTHING`, one probe of the key's
index: the first process to write it wins, and every gateway process and restart sees it
at once (no cache is kept). Only an interchange seen before is read back (one more
probe), to name its first receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from infra.own_table import OwnTable

#: schema-qualified, as the subject keys' table (infra/subject_keys.py)
TABLE: Final = "public.channelflow_interchanges"
#: advisory-lock key under which processes create the table one at a time
SCHEMA_LOCK: Final = 0x6368_6973_6133
_KEY: Final = "sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number"

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
)
"""


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

    def __init__(self, url: str) -> None:
        super().__init__(url, _DDL, SCHEMA_LOCK)

    def record(self, key: InterchangeKey, receipt: Receipt) -> Receipt | None:
        """Register `receipt` of the interchange `key`; its first receipt when it had been
        registered before (then nothing is written), else None."""
        db = self._db()
        values = (*_key(key), receipt.received_at, receipt.digest, receipt.distributor_id)
        added = db.execute(
            f"INSERT INTO {TABLE} ({_KEY}, received_at, digest, distributor_id, outcome)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (*values, receipt.outcome),
        ).fetchone()
        if added is not None:
            return None
        return self.first(key)

    def first(self, key: InterchangeKey) -> Receipt | None:
        """The registered receipt of interchange `key`, if any."""
        row = (
            self._db()
            .execute(
                f"SELECT received_at, digest, distributor_id, outcome FROM {TABLE}"
                f" WHERE ({_KEY}) = (%s, %s, %s, %s, %s)",
                _key(key),
            )
            .fetchone()
        )
        return None if row is None else Receipt(row[0], str(row[1]), row[2], str(row[3]))


def _key(key: InterchangeKey) -> tuple[str, ...]:
    return (
        key.sender_qualifier,
        key.sender_id,
        key.receiver_qualifier,
        key.receiver_id,
        key.control_number,
    )
