"""A table of channelflow's own in PostgreSQL, beside the event store's, reached over one
connection a process opens on first use and creates if missing.

Processes starting side by side create it one at a time, under an advisory lock of the
table's own (`CREATE TABLE IF NOT EXISTS` alone races on the catalog).
"""

from __future__ import annotations

from typing import Any, Final

import psycopg

CONNECT_TIMEOUT_SECONDS: Final = 5


class OwnTable:
    """One connection to the PostgreSQL at `url`, with the table of `ddl` (and whatever
    else its statements make, each `IF NOT EXISTS`: an index added later is made on a
    table made before it) created under the advisory lock `lock` before its first use."""

    def __init__(self, url: str, ddl: str, lock: int) -> None:
        self._url, self._ddl, self._lock = url, ddl, lock
        self._connection: psycopg.Connection[tuple[Any, ...]] | None = None

    def _db(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._connection is None or self._connection.closed:
            connection = psycopg.connect(
                self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
            try:
                connection.execute("SELECT pg_advisory_lock(%s)", (self._lock,))
                try:
                    connection.execute(self._ddl)
                finally:
                    connection.execute("SELECT pg_advisory_unlock(%s)", (self._lock,))
            except BaseException:
                connection.close()  # not kept: each later call would leave one more open
                raise
            self._connection = connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
