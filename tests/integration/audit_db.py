"""A PostgreSQL database of its own for each audit test: tampering never touches shared rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

EVENTS = "channelflow_audit_events"
CHAIN = "channelflow_audit_events_chain"


@contextmanager
def fresh_database(dsn: str) -> Iterator[str]:
    """A new, empty database on the server of `dsn` (its role has CREATEDB); dropped after."""
    name = f"cf_audit_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{dsn.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def execute(dsn: str, *statements: str, params: tuple[object, ...] = ()) -> None:
    """Run statements in one transaction, as a tampering DBA would."""
    with psycopg.connect(dsn) as conn:
        for statement in statements:
            conn.execute(statement, params if "%s" in statement else ())
