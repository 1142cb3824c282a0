"""The data subjects' keys in PostgreSQL (crypto-shredding, docs/PRIVACY.md).

One random 256-bit key per data subject (an end customer of one distributor), created on
first use; deleting it is what erases the subject's personal data from every raw topic,
replay and export, since the tokens on the wire can no longer be opened. Keys are read
fresh on every call (nothing is cached across calls), so an erasure holds at once for
every process that reads them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Final

from domain.personal_data import Subject
from infra.own_table import OwnTable

#: schema-qualified: a role's default search path ("$user", public) would otherwise put it
#: in a schema named like the role once one exists (the read models' `channelflow`)
TABLE: Final = "public.channelflow_subject_keys"
#: advisory-lock key under which processes create the table one at a time
SCHEMA_LOCK: Final = 0x6368_6B65_7973
KEY_BYTES: Final = 32

_DDL: Final = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    key_id text PRIMARY KEY,
    distributor_id text NOT NULL,
    subject text NOT NULL,
    key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (distributor_id, subject)
)
"""


class SubjectKeys(OwnTable):
    """The key table at a PostgreSQL URL; one connection, opened on first use."""

    def __init__(self, url: str) -> None:
        super().__init__(url, _DDL, SCHEMA_LOCK)

    def key_for(self, subject: Subject) -> tuple[str, bytes]:
        """(key id, key) of `subject`, created if it has none (two processes creating it at
        once get the same one)."""
        db = self._db()
        db.execute(
            f"INSERT INTO {TABLE} (key_id, distributor_id, subject, key) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (distributor_id, subject) DO NOTHING",
            (uuid.uuid4().hex, subject.distributor_id, subject.ref, secrets.token_bytes(KEY_BYTES)),
        )
        row = db.execute(
            f"SELECT key_id, key FROM {TABLE} WHERE distributor_id = %s AND subject = %s",
            (subject.distributor_id, subject.ref),
        ).fetchone()
        assert row is not None  # inserted or already there, and only `erase` deletes
        return str(row[0]), bytes(row[1])

    def keys(self, key_ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """key id → (distributor, key) of those of `key_ids` that still exist."""
        wanted = sorted(set(key_ids))
        if not wanted:
            return {}
        rows = self._db().execute(
            f"SELECT key_id, distributor_id, key FROM {TABLE} WHERE key_id = ANY(%s)", (wanted,)
        )
        return {str(k): (str(d), bytes(key)) for k, d, key in rows}

    def held(self, ref: str, distributor_id: str | None = None) -> list[tuple[str, str]]:
        """The (distributor, key id) pairs of subject `ref` (of one distributor, or of all)."""
        sql = f"SELECT distributor_id, key_id FROM {TABLE} WHERE subject = %s"
        params: tuple[str, ...] = (ref,)
        if distributor_id is not None:
            sql += " AND distributor_id = %s"
            params += (distributor_id,)
        rows = self._db().execute(sql, params).fetchall()
        return sorted((str(d), str(k)) for d, k in rows)

    def delete(self, key_ids: Iterable[str]) -> int:
        """Delete these keys (those already gone are skipped); how many were deleted."""
        wanted = sorted(set(key_ids))
        if not wanted:
            return 0
        cursor = self._db().execute(f"DELETE FROM {TABLE} WHERE key_id = ANY(%s)", (wanted,))
        return cursor.rowcount
