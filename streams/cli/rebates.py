"""`channelflow rebates`: close a program's period (published to Kafka); show, approve or
pay a statement (in the event store)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from streams.cli.support import (
    Subcommands,
    UserError,
    kafka_flags,
    period_key,
    print_json,
    settings_of,
)


def register(sub: Subcommands) -> None:
    rebates = sub.add_parser("rebates", help="close rebate periods; show, approve, pay statements")
    rebates_sub = rebates.add_subparsers(dest="rebates_command", required=True, metavar="ACTION")
    close = rebates_sub.add_parser("close", help="close a program's period (publishes the close)")
    close.add_argument("program_id")
    close.add_argument("period", type=period_key, help="2026-Q3 or 2026")
    close.add_argument("--actor", default="cli", help="who closes it")
    kafka_flags(close)
    close.set_defaults(func=cmd_rebates)
    statement = rebates_sub.add_parser("statement", help="show, approve or pay a statement")
    statement.add_argument("program_id")
    statement.add_argument("distributor_id")
    statement.add_argument("period", type=period_key, help="2026-Q3 or 2026")
    step = statement.add_mutually_exclusive_group()
    step.add_argument("--approve", action="store_true", help="calculated → approved")
    step.add_argument(
        "--pay", metavar="REFERENCE", help="approved → paid, with the payment reference"
    )
    statement.add_argument("--actor", default="cli", help="who approves or pays")
    statement.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    statement.set_defaults(func=cmd_rebates)


def cmd_rebates(args: argparse.Namespace) -> int:
    from eventsourcing.application import AggregateNotFoundError

    from domain.rebate_statement import IllegalTransition
    from infra.eventstore import open_audit_log
    from projections.channel import close_refusal
    from streams.api.documents import statement_document
    from streams.kafka.io import ensure_topics, publish_events
    from streams.runners.kafka_replay import reference_stores
    from streams.runners.rebate_closing import close_event

    settings = settings_of(args)
    if args.rebates_command == "close":
        try:
            event = close_event(args.program_id, args.period, datetime.now(UTC), args.actor)
        except ValueError as exc:
            raise UserError(str(exc)) from None

        async def publish() -> None:
            refusal = close_refusal(await reference_stores(settings, ["programs"]), event)
            if refusal is not None:  # the worker would dead-letter it
                raise UserError(
                    f"{refusal[1]} on {settings.topic_prefix}.programs at "
                    f"{settings.kafka_bootstrap}: nothing published"
                )
            await ensure_topics(settings)
            await publish_events(settings, [event])

        asyncio.run(publish())
        print(
            f"closed {args.program_id} {args.period}: the workers record the statements",
            file=sys.stderr,
        )
        return 0
    audit = open_audit_log(settings.eventstore_url)
    try:
        key = (args.program_id, args.distributor_id, args.period)
        if args.approve or args.pay:
            action = "approve" if args.approve else "pay"
            statement = audit.statement_step(
                key, action, args.actor, datetime.now(UTC), args.pay or ""
            )
        else:
            statement = audit.rebate_statement(*key)
    except AggregateNotFoundError:
        raise UserError(
            "no such statement: is the period closed, and the worker running?"
        ) from None
    except (IllegalTransition, ValueError) as exc:
        raise UserError(str(exc)) from None
    print_json(statement_document(statement))
    return 0
