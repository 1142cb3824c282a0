"""The `channelflow` command line: each command group's module registers its own
subcommands (`register(sub)`), in the order `--help` lists them."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from streams.cli import (
    agreements,
    audit,
    claims,
    deadletters,
    decisions,
    end_customers,
    erase,
    events,
    ingest,
    interchanges,
    provision,
    rebates,
    replay,
    resellers,
    rotations,
    serve,
    simulate,
    tokens,
    violations,
)
from streams.cli.support import document_exit_status, failure, package_version

#: the command groups, in the order of --help; audit extends `verify` (replay's), after it
COMMAND_GROUPS = (
    serve,
    replay,
    events,
    tokens,
    violations,
    rebates,
    agreements,
    rotations,
    claims,
    resellers,
    end_customers,
    simulate,
    provision,
    audit,
    ingest,
    interchanges,
    deadletters,
    decisions,
    erase,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="channelflow",
        description="Event-sourced distributor management for two-tier sales channels.",
        epilog="Settings also come from CHANNELFLOW_* environment variables (see README).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    document_exit_status(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except (Exception, SystemExit) as exc:
        known = failure(exc)
        if known is None:
            raise
        status, message = known
        print(f"channelflow: error: {message}", file=sys.stderr)
        return int(status)


if __name__ == "__main__":
    sys.exit(main())
