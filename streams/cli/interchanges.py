"""`channelflow interchanges prune`: delete the rows of the register of X12 interchanges
received (infra/interchange_register.py) that were received longer than the window ago
(`CHANNELFLOW_INTERCHANGE_WINDOW_DAYS`). A control number received again after the window
is a first receipt whether its old row is there or not: pruning changes no answer, it keeps
the table to the window's worth (docs/OPERATIONS.md, "Regular checks")."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from streams.cli.support import (
    ServerUnreachable,
    Subcommands,
    UserError,
    postgres_problem,
    settings_of,
)

PRUNE_HELP = (
    "Delete the register's interchanges received longer than CHANNELFLOW_INTERCHANGE_WINDOW_DAYS "
    "(365) ago, in batches; their control numbers are first receipts again either way. The "
    "register is CHANNELFLOW_INTERCHANGES_URL, by default the PostgreSQL event store."
)


def register(sub: Subcommands) -> None:
    interchanges = sub.add_parser(
        "interchanges", help="the register of X12 interchanges received: prune it"
    )
    actions = interchanges.add_subparsers(dest="action", required=True, metavar="ACTION")
    prune = actions.add_parser(
        "prune", help="delete interchanges received before the window", description=PRUNE_HELP
    )
    prune.add_argument(
        "--dry-run", action="store_true", help="print how many would be deleted, delete none"
    )
    prune.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    prune.set_defaults(func=cmd_prune)


def cmd_prune(args: argparse.Namespace) -> int:
    import psycopg

    from infra.interchange_register import InterchangeRegister

    settings = settings_of(args)
    dsn = settings.interchanges_dsn()
    if dsn is None:
        raise UserError(
            "no register of interchanges: set CHANNELFLOW_INTERCHANGES_URL, or a PostgreSQL "
            "event store (CHANNELFLOW_EVENTSTORE_URL / --eventstore)"
        )
    days = settings.interchange_window_days
    register = InterchangeRegister(dsn, timedelta(days=days))
    now = datetime.now(UTC)
    cutoff = (now - register.window).isoformat(timespec="seconds").replace("+00:00", "Z")
    which = f"interchanges received before {cutoff} (the {days:g}-day window)"
    try:
        if args.dry_run:
            print(f"{which}: {register.stale(now):,} to delete (--dry-run: none deleted)")
        else:
            print(f"{which}: {register.prune(now):,} deleted")
    except psycopg.OperationalError as exc:
        raise ServerUnreachable(
            postgres_problem(
                exc, "CHANNELFLOW_INTERCHANGES_URL, or CHANNELFLOW_EVENTSTORE_URL / --eventstore"
            )
        ) from None
    finally:
        register.close()
    return 0
