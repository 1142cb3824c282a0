"""What `channelflow interchanges prune [--dry-run]` costs on a large register of X12
interchanges (infra/interchange_register.py), with and without its index on `received_at`.

For each of the two, a database of its own holds a register of ROWS interchanges received
in time order over a year and a month, STALE of them before the window (365 days), as a
register pruned monthly would; then it times `stale` (the dry run), `prune` (STALE rows,
PRUNE_BATCH a statement) and `prune` once more (nothing left to delete: the regular check
that finds nothing), and prints the plan of prune's statement and the pages it reads when
nothing is stale (a figure the machine's load does not change). Without the index, it times
last what an upgrade costs: opening the register again creates the index on the rows left.

    .venv/bin/python -m bench.interchange_prune postgresql://u:p@127.0.0.1:5433/db

The databases are created beside the one named (its role needs CREATEDB) and dropped after.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.common import fresh_database, machine, positive_int, progress
from infra.interchange_register import (
    PRUNE_BATCH,
    PRUNE_STATEMENT,
    RECEIVED_AT_INDEX,
    TABLE,
    InterchangeRegister,
)

WINDOW = timedelta(days=365)


def timed(what: str, call: Callable[[], int]) -> None:
    began = time.perf_counter()
    found = call()
    print(f"  {what}: {found:,} rows, {time.perf_counter() - began:.3f} s", flush=True)


def fill(register: InterchangeRegister, rows: int, stale: int, now: datetime) -> None:
    """`rows` interchanges in the order received: the first `stale` over the 30 days before
    the window, the others over the window but its first and last days."""
    db = register._db()
    db.execute(
        f"INSERT INTO {TABLE} SELECT 'ZZ', 'DIST' || (n %% 200), 'ZZ', 'VENDORCO',"
        " lpad(n::text, 9, '0'), CASE WHEN n < %(stale)s"
        "  THEN %(window)s::timestamptz - interval '30 days' + interval '29 days' * n / %(stale)s"
        "  ELSE %(window)s::timestamptz + interval '1 day'"
        "   + interval '363 days' * (n - %(stale)s) / (%(rows)s - %(stale)s) END,"
        " md5(n::text) || md5(n::text), 'DIST' || (n %% 200), 'accepted'"
        " FROM generate_series(0, %(rows)s - 1) AS n",
        {"rows": rows, "stale": stale, "window": now - WINDOW},
    )
    db.execute(f"VACUUM ANALYZE {TABLE}")


def pages(register: InterchangeRegister, now: datetime) -> None:
    """What prune's statement reads when nothing is stale (pages, whatever the load)."""
    cutoff = now - WINDOW
    plan = [
        str(row[0])
        for row in register._db().execute(
            f"EXPLAIN (ANALYZE, BUFFERS) {PRUNE_STATEMENT}", (cutoff, cutoff, PRUNE_BATCH)
        )
    ]
    buffers = next((line.strip() for line in plan if "Buffers:" in line), "no buffers")
    print(f"  prune's statement, nothing stale: {buffers}; {plan[-1].strip()}", flush=True)


def measure(admin_dsn: str, rows: int, stale: int, indexed: bool) -> None:
    label = "with the index" if indexed else "without the index (the table before 2026-12-07)"
    print(f"{label}:", flush=True)
    with fresh_database(admin_dsn, f"prune_{uuid.uuid4().hex[:8]}") as dsn:
        register = InterchangeRegister(dsn, WINDOW)
        now = datetime.now(UTC)
        try:
            if not indexed:
                register._db().execute(f"DROP INDEX {RECEIVED_AT_INDEX}")
            progress(f"filling {rows:,} rows")
            fill(register, rows, stale, now)
            plan = register._db().execute(
                f"EXPLAIN {PRUNE_STATEMENT}", (now - WINDOW, now - WINDOW, PRUNE_BATCH)
            )
            print("\n".join(f"    {row[0]}" for row in plan), flush=True)
            timed("stale (--dry-run)", lambda: register.stale(now))
            timed(f"prune ({PRUNE_BATCH:,} a statement)", lambda: register.prune(now))
            timed("prune again (nothing stale)", lambda: register.prune(now))
            timed("stale again (--dry-run)", lambda: register.stale(now))
            pages(register, now)
        finally:
            register.close()
        if not indexed:
            upgraded = InterchangeRegister(dsn, WINDOW)
            began = time.perf_counter()
            upgraded._db()  # the first use creates what is missing: the index
            print(
                f"  upgrade: the index created on {rows - stale:,} rows when the register is"
                f" opened, {time.perf_counter() - began:.3f} s",
                flush=True,
            )
            upgraded.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dsn", help="a PostgreSQL URL whose role may create databases")
    parser.add_argument("--rows", type=positive_int, default=1_000_000)
    parser.add_argument("--stale", type=positive_int, default=100_000)
    args = parser.parse_args()
    if args.stale >= args.rows:
        parser.error("--stale must be fewer than --rows")
    for indexed in (False, True):
        measure(args.dsn, args.rows, args.stale, indexed)
    print(machine())


if __name__ == "__main__":
    main()
