"""`channelflow readmodels` (the PostgreSQL read-model tables) and `channelflow topics`
(the raw, dead-letter and decisions topics): creating what the channel writes to."""

from __future__ import annotations

import argparse
import asyncio

from streams.cli.support import (
    ServerUnreachable,
    Subcommands,
    UserError,
    kafka_flags,
    postgres_problem,
    settings_of,
)
from streams.config import Settings


def register(sub: Subcommands) -> None:
    readmodels = sub.add_parser(
        "readmodels", help="PostgreSQL read models: create the tables, or have them rewritten"
    )
    readmodels.add_argument(
        "action",
        choices=["init", "refresh"],
        help="init: create or extend the tables; refresh: forget the stored positions so "
        "the running writers rewrite every partition",
    )
    readmodels.add_argument("--url", help="PostgreSQL URL (CHANNELFLOW_READMODEL_URL)")
    readmodels.add_argument("--schema", help="schema (CHANNELFLOW_READMODEL_SCHEMA)")
    readmodels.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    readmodels.set_defaults(func=cmd_readmodels)

    topics = sub.add_parser(
        "topics",
        help="create the raw, dead-letter, decisions and internal (claim caps) topics",
    )
    kafka_flags(topics)
    topics.set_defaults(func=cmd_topics)


def cmd_readmodels(args: argparse.Namespace) -> int:
    import psycopg

    from infra.readmodel_tables import ALL_TABLES
    from infra.readmodels import ReadModelWriter

    settings = Settings.from_env(
        eventstore_url=args.eventstore, readmodel_url=args.url, readmodel_schema=args.schema
    )
    dsn = settings.readmodel_dsn()
    if dsn is None:
        raise UserError(
            "no read-model database: set CHANNELFLOW_READMODEL_URL (or --url) to a "
            "postgresql:// URL, or use a PostgreSQL event store"
        )
    writer = ReadModelWriter(dsn, settings.readmodel_schema, "cli")
    try:
        writer.init()
        if args.action == "init":
            names = ", ".join(table.name for table in ALL_TABLES)
            print(f"read models ready in schema {writer.schema!r}: {names}")
        else:
            forgotten = writer.forget()
            print(
                f"forgot the positions of {forgotten} partition(s): the running writers "
                f"rewrite them within CHANNELFLOW_READMODEL_INTERVAL_SECONDS"
                f" ({settings.readmodel_interval_seconds:g} s here)"
            )
    except psycopg.OperationalError as exc:  # unreachable: status 3, naming --url
        raise ServerUnreachable(
            postgres_problem(
                exc,
                "CHANNELFLOW_READMODEL_URL / --url, or CHANNELFLOW_EVENTSTORE_URL / --eventstore",
            )
        ) from None
    except psycopg.Error as exc:
        raise UserError(f"read-model database: {exc}") from None
    finally:
        writer.close()
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from streams.kafka.io import ensure_topics

    settings = settings_of(args)
    names = asyncio.run(ensure_topics(settings, check_partitions=True))
    print(
        f"{len(names)} topics of prefix {settings.topic_prefix!r} ready on "
        f"{settings.kafka_bootstrap}: {settings.partitions} partitions each"
    )
    return 0
