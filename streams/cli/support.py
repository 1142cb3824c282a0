"""What every `channelflow` subcommand module shares: user errors, settings from flags,
the API's bearer token, JSON output, progress on stderr, as-of dates and the auditor's replay."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import orjson

from streams.config import Settings
from streams.runners.embedded import EmbeddedChannel, file_inputs
from streams.timeparse import TimeParseError, parse_as_of

T = TypeVar("T")


class UserError(Exception):
    """A mistake the user can fix: printed without a traceback, exit status 2."""


def server_problem(exc: Exception) -> str | None:
    """What to tell the user when a server the command needs cannot be used (unreachable,
    refused, a bad URL): one line with the setting to check, not a traceback. None for any
    other error."""
    import psycopg
    from aiokafka.errors import KafkaConnectionError

    from infra.eventstore import EventStoreConfigError

    if isinstance(exc, EventStoreConfigError):
        return f"event store: {exc} (CHANNELFLOW_EVENTSTORE_URL or --eventstore)"
    if isinstance(exc, psycopg.OperationalError):
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"PostgreSQL: {reason} (check CHANNELFLOW_EVENTSTORE_URL / --eventstore, or "
            "CHANNELFLOW_READMODEL_URL)"
        )
    if isinstance(exc, KafkaConnectionError):
        # aiokafka names hosts as ('127.0.0.1', 9092, <AddressFamily.AF_INET: 2>)
        reason = re.sub(
            r"\('([^']*)', (\d+), <[^>]*>\)", r"\1:\2", str(exc.args[0] if exc.args else exc)
        )
        return f"Kafka: {reason} (check CHANNELFLOW_KAFKA_BOOTSTRAP / --kafka)"
    return None


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        kafka_bootstrap=getattr(args, "kafka", None),
        topic_prefix=getattr(args, "prefix", None),
        partitions=getattr(args, "partitions", None),
        eventstore_url=getattr(args, "eventstore", None),
        web_host=getattr(args, "host", None),
        web_port=getattr(args, "port", None),
    )


def token_flags(parser: argparse.ArgumentParser, roles: str) -> None:
    """--token or --token-file: the bearer token for the API (else CHANNELFLOW_TOKEN)."""
    given = parser.add_mutually_exclusive_group()
    given.add_argument(
        "--token",
        help=f"bearer token ({roles}); other local users see it in `ps`: prefer --token-file "
        "or CHANNELFLOW_TOKEN",
    )
    given.add_argument(
        "--token-file", metavar="PATH", help="read the bearer token from PATH's first line (0600)"
    )


def bearer_token(args: argparse.Namespace) -> str | None:
    """The token of --token, else --token-file's, else CHANNELFLOW_TOKEN's; None: none."""
    if args.token:
        return str(args.token)
    if args.token_file:
        return read_token_file(Path(args.token_file))
    return os.environ.get("CHANNELFLOW_TOKEN") or None


def read_token_file(path: Path) -> str:
    """The first line of `path`, stripped. Refused, as ssh refuses a private key, when the
    group or others have any access to it: the token is a password."""
    try:
        with path.open(encoding="utf-8") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            if mode & 0o077:
                raise UserError(
                    f"token file {path} is accessible by group or others (mode {mode:04o}): "
                    f"make it private to you (chmod 600 {path})"
                )
            token = handle.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"cannot read the token file {path}: {reason}") from None
    if not token:
        raise UserError(f"token file {path} has no token on its first line")
    return token


def print_json(document: object) -> None:
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


class Progress:
    """Count and rate on stderr, at most once a second; a final line when anything showed."""

    def __init__(self, label: str, unit: str = "events") -> None:
        self.label, self.unit = label, unit
        self.count = 0
        self.started = self.shown = time.monotonic()

    def tick(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self.shown >= 1.0:
            self.shown = now
            rate = self.count / (now - self.started)
            line = f"\r{self.label}: {self.count:,} {self.unit}, {rate:,.0f} {self.unit}/s"
            print(line, end="", file=sys.stderr)

    def done(self) -> None:
        if self.shown != self.started:
            print(file=sys.stderr)


def progress(items: Iterable[T], label: str) -> Iterator[T]:
    """Pass items through, reporting count and rate on stderr."""
    meter = Progress(label)
    for item in items:
        yield item
        meter.tick()
    meter.done()


def as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_as_of(text)
    except TimeParseError as exc:
        raise UserError(str(exc)) from None


def replayed(args: argparse.Namespace, until: datetime | None) -> EmbeddedChannel:
    """The channel recomputed from raw events: a JSON Lines file (`args.events`), or the
    Kafka topics (optionally one `args.distributor`). Audit facts are recorded once, from
    the whole history: recorded per chunk, a statement would come from the first chunk
    (a period's close is read before the movements) and never be corrected."""
    channel = EmbeddedChannel(rules=settings_of(args).time_rules())
    if args.events:
        path = Path(args.events)
        if not path.is_file():
            raise UserError(f"no such events file: {path}")
        channel.feed(progress(file_inputs(path), "replay"), until=until)
        for letter in channel.dead_letters:
            print(f"{path}:{letter.offset}: {letter.reason}: {letter.detail}", file=sys.stderr)
        return channel
    from streams.runners.kafka_replay import replay_into

    meter = Progress("replay")
    whole = asyncio.run(
        replay_into(
            channel, settings_of(args), until, getattr(args, "distributor", None), meter.tick
        )
    )
    meter.done()
    print(f"replay: {whole.applied:,} events from Kafka", file=sys.stderr)
    channel.record(whole, until)
    for letter in channel.dead_letters:
        where = f"{letter.source}:{letter.partition}@{letter.offset}"
        print(f"{where}: {letter.reason}: {letter.detail}", file=sys.stderr)
    return channel
