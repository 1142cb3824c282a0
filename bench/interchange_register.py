"""What the register of X12 interchanges costs an upload (docs/INGEST.md, "A resent
interchange"): `record` on the real PostgreSQL, N first receipts then the same N again
(resends), each its wall time and this process's CPU per call, and the plans of the two
statements (the insert's conflict check and the resend's read: the primary key's index).

    .venv/bin/python -m bench.interchange_register postgresql://u:p@127.0.0.1:5433/db

A database of its own is created beside the one named (its role needs CREATEDB) and
dropped after.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime

import psycopg

from infra.interchange_register import TABLE, InterchangeKey, InterchangeRegister, Receipt

KEY_WHERE = (
    "(sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number)"
    " = ('ZZ', 'ACMEDIST', 'ZZ', 'VENDORCO', '000000001')"
)


def measure(register: InterchangeRegister, count: int, label: str) -> None:
    receipt = Receipt(datetime.now(UTC), "0" * 64, "DIST-001", "accepted")
    wall, cpu = time.perf_counter(), time.process_time()
    for number in range(count):
        register.record(
            InterchangeKey("ZZ", "ACMEDIST", "ZZ", "VENDORCO", f"{number:09d}"), receipt
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    each = f"{wall / count * 1e6:.0f} µs wall, {cpu / count * 1e6:.0f} µs CPU each"
    print(f"{label}: {count} calls, {each}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dsn", help="a PostgreSQL URL whose role may create databases")
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    name = f"cf_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        register = InterchangeRegister(f"{args.dsn.rsplit('/', 1)[0]}/{name}")
        register.first(InterchangeKey("", "", "", "", ""))  # the connection and the table
        measure(register, args.count, "first receipts (insert, committed)")
        measure(register, args.count, "resends (insert: conflict; read back)")
        db = register._db()
        for statement in (
            f"EXPLAIN INSERT INTO {TABLE} VALUES ('ZZ', 'ACMEDIST', 'ZZ', 'VENDORCO',"
            " '000000001', now(), '', NULL, 'accepted') ON CONFLICT DO NOTHING",
            f"EXPLAIN SELECT received_at FROM {TABLE} WHERE {KEY_WHERE}",
        ):
            print("\n".join(str(row[0]) for row in db.execute(statement)))
        register.close()
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
