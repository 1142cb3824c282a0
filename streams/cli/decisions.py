"""`channelflow decisions relay`: publish the audit store's decisions to `<prefix>.decisions`
on its own, outside a worker (docs/DECISIONS.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from streams.cli.support import Subcommands, UserError, kafka_flags, settings_of, start_wait_flag

RELAY_HELP = """\
Follows the event store's log from the position stored in PostgreSQL and publishes each
decision (violations and their steps, reconciliations, price-protection claims, rebate
statements and their adjustments, approvals and payments) as a JSON document keyed by
distributor. At-least-once: after a crash, documents published but not yet recorded as
published come again with the same decision_id. One relay per deployment publishes (a
PostgreSQL advisory lock); workers run one too unless CHANNELFLOW_DECISIONS_RELAY=off.
Prints a line per page published: documents, position, events still to publish."""


def register(sub: Subcommands) -> None:
    decisions = sub.add_parser("decisions", help="the decisions topic: publish what was decided")
    actions = decisions.add_subparsers(dest="action", required=True, metavar="ACTION")
    relay = actions.add_parser(
        "relay",
        help="publish the event store's decisions to <prefix>.decisions",
        description=RELAY_HELP,
    )
    kafka_flags(relay)
    relay.add_argument(
        "--eventstore", help="PostgreSQL event store URL (CHANNELFLOW_EVENTSTORE_URL)"
    )
    relay.add_argument(
        "--once",
        action="store_true",
        help="publish what is stored, then exit (exit 1 if another relay holds the lock)",
    )
    relay.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus metrics on this port (channelflow_decisions_published_total, "
        "channelflow_decisions_lag_events)",
    )
    start_wait_flag(relay)
    relay.set_defaults(func=cmd_relay)


def cmd_relay(args: argparse.Namespace) -> int:
    from infra.eventstore import open_audit_log
    from streams import metrics
    from streams.kafka.io import ensure_topics
    from streams.runners.decisions_relay import DecisionRelay, LeaseTaken, Progress
    from streams.worker.start_wait import StartWait

    settings = settings_of(args)
    if not settings.eventstore_url.startswith(("postgresql://", "postgres://")):
        raise UserError("the decisions relay needs a PostgreSQL event store (--eventstore)")
    if args.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, registry=metrics.REGISTRY)

    def progress(page: Progress) -> None:
        print(
            f"published {page.published} decisions up to position {page.position} "
            f"({page.lag} to go)",
            flush=True,
        )

    # running on, it waits for its servers as a worker does; --once is a one-shot command
    wait = StartWait(0 if args.once else settings.start_wait_seconds)
    url = settings.eventstore_url
    with wait.kafka_clients():
        audit = wait.postgres(url, lambda: open_audit_log(url))
        relay = DecisionRelay(settings, audit, progress)
        asyncio.run(ensure_topics(settings, check_partitions=True))  # as a worker does
        try:
            asyncio.run(relay.run(once=args.once))
        except LeaseTaken as exc:
            print(f"channelflow: {exc}", file=sys.stderr)
            return 1
    return 0
