"""`channelflow generate` (a generated channel as JSON Lines) and `channelflow publish`
(a JSON Lines event file to the raw topics)."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
from collections.abc import Iterable
from pathlib import Path

from schemas.codec import encode_event
from schemas.events import Envelope
from streams.cli.support import Subcommands, UserError, kafka_flags, positive_int, settings_of


def register(sub: Subcommands) -> None:
    generate = sub.add_parser("generate", help="write a generated channel as JSON Lines")
    generate.add_argument("--out", required=True, help="output file")
    generate.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    generate.add_argument(
        "--weeks", type=positive_int, default=6, help="weeks of activity (default 6)"
    )
    generate.add_argument(
        "--sales", type=positive_int, help="this many sale lines and their catalog (for load tests)"
    )
    generate.set_defaults(func=cmd_generate)

    publish = sub.add_parser("publish", help="publish a JSON Lines event file to the raw topics")
    publish.add_argument("--events", required=True, help="JSON Lines file, one event per line")
    kafka_flags(publish)
    publish.set_defaults(func=cmd_publish)


def cmd_generate(args: argparse.Namespace) -> int:
    from streams.generator import generate_channel, generate_sales, sales_catalog

    events: Iterable[Envelope] = (
        itertools.chain(sales_catalog(), generate_sales(args.sales, seed=args.seed))
        if args.sales
        else generate_channel(seed=args.seed, weeks=args.weeks)
    )
    with Path(args.out).open("wb") as handle:
        for event in events:
            handle.write(encode_event(event) + b"\n")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from schemas.codec import InvalidEvent, decode_event
    from streams.ingest.personal import door_protection
    from streams.kafka.io import ensure_topics, publish_events

    path = Path(args.events)
    if not path.is_file():
        raise UserError(f"no such events file: {path}")
    events = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                events.append(decode_event(line))
            except InvalidEvent as exc:
                raise UserError(f"{path}:{number}: {exc}") from None
    settings = settings_of(args)
    protection = door_protection(settings)  # a door too: personal fields sealed or dropped
    events = [protection.sealed(e) for e in events]

    async def run() -> int:
        await ensure_topics(settings)
        return await publish_events(settings, events)

    sent = asyncio.run(run())
    print(f"published {sent:,} events to {settings.kafka_bootstrap}", file=sys.stderr)
    return 0
