"""What every `channelflow` subcommand module shares: user errors, settings from flags,
the API's bearer token, JSON output, progress on stderr, as-of dates and the auditor's replay."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import stat
import sys
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import TypeVar

import orjson

from streams.cli_progress import Progress, progress
from streams.config import Settings
from streams.embedded import EmbeddedChannel, file_inputs
from streams.timeparse import TimeParseError, parse_as_of

T = TypeVar("T")


class ExitStatus(IntEnum):
    """What every `channelflow` command exits with (README, "Exit status")."""

    OK = 0
    #: lines were rejected, or differences (or audit findings) were found
    FOUND = 1
    #: a usage error: a bad flag or value, a missing or unwritable file
    USAGE = 2
    #: a server cannot be reached or answers 503: Kafka, PostgreSQL, the worker's HTTP API
    UNREACHABLE = 3


EXIT_STATUS_HELP = """\
exit status:
  0  done
  1  lines rejected, or differences found
  2  usage error: a bad flag or value, a missing or unwritable file
  3  a server is unreachable (Kafka, PostgreSQL, the worker's HTTP API) or answered 503
"""


def package_version() -> str:
    """The installed channelflow's version (`channelflow --version`)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("channelflow")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def document_exit_status(parser: argparse.ArgumentParser) -> None:
    """Put the exit statuses under the --help of `parser` and of every subcommand."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = f"{parser.epilog}\n\n{EXIT_STATUS_HELP}" if parser.epilog else EXIT_STATUS_HELP
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in set(action.choices.values()):
                document_exit_status(child)


class UserError(Exception):
    """A mistake the user can fix: printed without a traceback, exit status 2."""


class ServerUnreachable(UserError):
    """A server the command needs cannot be reached, or answered 503: exit status 3."""


def http_failure(what: str, url: str, exc: OSError) -> UserError:
    """The error to raise for a failed HTTP request: a refusal the user can fix (401, 404,
    ...), or an unreachable server (no connection, a 503)."""
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError) and exc.code != 503:
        return UserError(f"cannot read {what} at {url}: HTTP {exc.code} {exc.reason}")
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return ServerUnreachable(f"cannot reach {url} ({what}): {reason}")


def failure(exc: BaseException) -> tuple[ExitStatus, str] | None:
    """The exit status and one line for an exception that is not a bug: a user's mistake,
    an unreachable server, a file that cannot be read or written. None: a bug (traceback)."""
    if isinstance(exc, ServerUnreachable):
        return ExitStatus.UNREACHABLE, str(exc)
    if isinstance(exc, UserError):
        return ExitStatus.USAGE, str(exc)
    if isinstance(exc, SystemExit) and isinstance(exc.code, str):  # a setting's value
        return ExitStatus.USAGE, exc.code
    if isinstance(exc, OSError) and exc.filename is not None:
        return ExitStatus.USAGE, f"{exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, Exception) and (problem := server_problem(exc)) is not None:
        return problem
    return None


def server_problem(exc: Exception) -> tuple[ExitStatus, str] | None:
    """What to tell the user when a server the command needs cannot be used (unreachable,
    refused, a bad URL): one line with the setting to check, not a traceback. None for any
    other error."""
    import psycopg
    from aiokafka.errors import KafkaConnectionError

    from infra.eventstore import EventStoreConfigError
    from streams.kafka_io import PartitionsDiffer, TopicsRefused

    if isinstance(exc, EventStoreConfigError):
        return ExitStatus.USAGE, f"event store: {exc} (CHANNELFLOW_EVENTSTORE_URL or --eventstore)"
    if isinstance(exc, PartitionsDiffer):
        return ExitStatus.USAGE, str(exc)
    if isinstance(exc, TopicsRefused):
        return ExitStatus.USAGE, (
            f"Kafka refused to create topics: {exc} (check --partitions / "
            "--replication-factor, CHANNELFLOW_PARTITIONS / CHANNELFLOW_REPLICATION_FACTOR)"
        )
    if isinstance(exc, psycopg.OperationalError):
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ExitStatus.UNREACHABLE, (
            f"PostgreSQL: {reason} (check CHANNELFLOW_EVENTSTORE_URL / --eventstore, or "
            "CHANNELFLOW_READMODEL_URL)"
        )
    if isinstance(exc, KafkaConnectionError):
        # aiokafka names hosts as ('127.0.0.1', 9092, <AddressFamily.AF_INET: 2>)
        reason = re.sub(
            r"\('([^']*)', (\d+), <[^>]*>\)", r"\1:\2", str(exc.args[0] if exc.args else exc)
        )
        setting = "CHANNELFLOW_KAFKA_BOOTSTRAP / --kafka"
        return ExitStatus.UNREACHABLE, f"Kafka: {reason} (check {setting})"
    return None


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        kafka_bootstrap=getattr(args, "kafka", None),
        topic_prefix=getattr(args, "prefix", None),
        partitions=getattr(args, "partitions", None),
        replication_factor=getattr(args, "replication_factor", None),
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
    from streams.kafka_replay import replay_into

    meter = Progress("replay")
    whole = asyncio.run(
        replay_into(
            channel, settings_of(args), until, getattr(args, "distributor", None), meter.tick
        )
    )
    meter.close()
    print(f"replay: {whole.applied:,} events from Kafka", file=sys.stderr)
    channel.record(whole, until)
    for letter in channel.dead_letters:
        where = f"{letter.source}:{letter.partition}@{letter.offset}"
        print(f"{where}: {letter.reason}: {letter.detail}", file=sys.stderr)
    return channel
