"""What every `channelflow` subcommand module shares: user errors, settings from flags,
the API's bearer token, JSON output, progress on stderr, as-of dates and the auditor's replay."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import os
import stat
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

import orjson

from domain.rebate_programs import period_bounds
from projections.price_proposal import PriceProposal
from projections.snapshot import Snapshot, now_of
from schemas.deadletter import DeadLetter
from streams.cli.progress import Progress, progress
from streams.config import Settings
from streams.runners.embedded import EmbeddedChannel, file_inputs
from streams.runners.processing import GC_THRESHOLD
from streams.runners.proposed_prices import with_proposal
from streams.timeparse import TimeParseError, parse_as_of

if TYPE_CHECKING:
    from infra.eventstore import AuditLog
    from streams.runners.replay_jobs import Derive, MergedReplay

T = TypeVar("T")

#: what `register(sub)` of each command module adds its subcommands to
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class ExitStatus(IntEnum):
    """What every `channelflow` command exits with (README, "Exit status")."""

    OK = 0
    #: lines were rejected, or differences (or audit findings) were found
    FOUND = 1
    #: a usage error: a bad flag or value, a missing or unwritable file
    USAGE = 2
    #: a server cannot be reached or answers 503: Kafka, PostgreSQL, the worker's HTTP API
    UNREACHABLE = 3


#: what exit status 1 means, for the commands that exit with it (the others never do)
FOUND_MEANS: Final = {
    "channelflow": "lines rejected (ingest, claims submit, resellers match), differences or "
    "findings found (verify, audit lineage, audit export), the relay's lease taken "
    "(decisions relay)",
    "channelflow ingest": "some line rejected or in conflict, or a report rejected as a whole "
    "(what was valid was published: fix the rest and send it again)",
    "channelflow claims submit": "some claim line rejected or in conflict",
    "channelflow resellers": "(match) some row of the file is invalid",
    "channelflow verify": "differences found (what to do follows them on stderr), or with "
    "--audit findings in the audit chain",
    "channelflow audit lineage": "the lineage is incomplete: the replayed source lacks an "
    "event of the record",
    "channelflow audit export": "the audit chain has findings: the pack is not verified",
    "channelflow decisions relay": "another relay holds the lease",
}


def exit_status_help(prog: str) -> str:
    """The exit statuses under `prog`'s --help: 1 only where the command exits with it."""
    found = FOUND_MEANS.get(prog)
    return (
        "exit status:\n  0  done\n"
        + (f"  1  {found}\n" if found else "")
        + "  2  usage error: a bad flag or value, a missing or unwritable file\n"
        "  3  a server is unreachable (Kafka, PostgreSQL, the worker's HTTP API) or answered "
        "503\n"
    )


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
    statuses = exit_status_help(parser.prog)
    parser.epilog = f"{parser.epilog}\n\n{statuses}" if parser.epilog else statuses
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
        return UserError(f"cannot read {what} at {url}: {http_problem(exc)}")
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return ServerUnreachable(f"cannot reach {url} ({what}): {reason}")


def authorized(request: urllib.request.Request, token: str | None) -> urllib.request.Request:
    """The request with the bearer token, which urllib sends to the URL asked for only: a
    redirect (urllib follows them, to any host) leaves it behind, as curl and requests do."""
    if token:
        request.add_unredirected_header("Authorization", f"Bearer {token}")
    return request


def get_json(url: str, path: str, token: str | None, what: str, timeout: float = 120) -> Any:
    """GET `path` of the HTTP API at `url`, with the bearer token, as JSON; an error the
    user can fix (401, 404, ...) or an unreachable server as `http_failure` says."""
    import urllib.request

    request = authorized(urllib.request.Request(f"{url.rstrip('/')}{path}"), token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return orjson.loads(response.read())
    except OSError as exc:
        raise http_failure(what, url, exc) from None


def post_json(url: str, path: str, token: str | None, what: str, body: object) -> Any:
    """POST `body` as JSON to `path` of the HTTP API at `url`; its JSON answer (errors as
    `call_api` raises them)."""
    return orjson.loads(call_api(url, path, token, what, body))


def http_problem(error: urllib.error.HTTPError) -> str:
    """One line of an API's JSON error answer: status, code, message and where."""
    try:
        problem = orjson.loads(error.read())["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return f"HTTP {error.code}: {error.reason}"
    where = {k: v for k, v in problem.items() if k not in ("status", "code", "message")}
    extra = f" ({', '.join(f'{k}: {v}' for k, v in where.items() if v)})" if where else ""
    return f"HTTP {problem['status']} {problem['code']}: {problem['message']}{extra}"


def call_api(
    url: str, path: str, token: str | None, what: str, body: object = None, timeout: float = 120
) -> bytes:
    """GET `path` of the HTTP API at `url` (POST `body` as JSON when given), with the bearer
    token; the answer's bytes. A refusal (4xx) is a `UserError` with the API's own message,
    an unreachable server or a 503 `ServerUnreachable`."""
    data = None if body is None else orjson.dumps(body)
    request = urllib.request.Request(f"{url.rstrip('/')}{path}", data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    authorized(request, token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer: bytes = response.read()
            return answer
    except urllib.error.HTTPError as exc:
        if exc.code == 503:
            raise ServerUnreachable(f"{what}: {http_problem(exc)}") from None
        raise UserError(f"{what}: {http_problem(exc)}") from None
    except OSError as exc:
        raise http_failure(what, url, exc) from None


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
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
        return ExitStatus.USAGE, (
            f"{exc.strerror or exc} (check --host / --port, or their CHANNELFLOW_* variables)"
        )
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
    from streams.kafka.bootstrap_log import kafka_reason
    from streams.kafka.io import PartitionsDiffer, TopicsRefused
    from streams.kafka.reference import TopicMissing

    if isinstance(exc, EventStoreConfigError):
        return ExitStatus.USAGE, f"event store: {exc} (CHANNELFLOW_EVENTSTORE_URL or --eventstore)"
    if isinstance(exc, PartitionsDiffer | TopicMissing):
        return ExitStatus.USAGE, str(exc)
    if isinstance(exc, TopicsRefused):
        return ExitStatus.USAGE, (
            f"Kafka refused to create topics: {exc} (check --partitions / "
            "--replication-factor, CHANNELFLOW_PARTITIONS / CHANNELFLOW_REPLICATION_FACTOR)"
        )
    if isinstance(exc, psycopg.OperationalError):
        return ExitStatus.UNREACHABLE, postgres_problem(
            exc, "CHANNELFLOW_EVENTSTORE_URL / --eventstore, or CHANNELFLOW_READMODEL_URL"
        )
    if isinstance(exc, KafkaConnectionError):
        reason = kafka_reason(exc)
        setting = "CHANNELFLOW_KAFKA_BOOTSTRAP / --kafka"
        return ExitStatus.UNREACHABLE, f"Kafka: {reason} (check {setting})"
    return None


def postgres_problem(exc: Exception, settings: str) -> str:
    """One line for a PostgreSQL that cannot be used: the first line of its reason and the
    `settings` to check (those of the database the command was opening)."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"PostgreSQL: {reason} (check {settings})"


#: settings field -> the flag that sets it, as error messages name it
SETTING_FLAGS = {
    "kafka_bootstrap": "--kafka",
    "topic_prefix": "--prefix",
    "partitions": "--partitions",
    "replication_factor": "--replication-factor",
    "eventstore_url": "--eventstore",
    "web_host": "--host",
    "web_port": "--port",
    "start_wait_seconds": "--start-wait",
}


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        flags=SETTING_FLAGS,
        kafka_bootstrap=getattr(args, "kafka", None),
        topic_prefix=getattr(args, "prefix", None),
        partitions=getattr(args, "partitions", None),
        replication_factor=getattr(args, "replication_factor", None),
        eventstore_url=getattr(args, "eventstore", None),
        web_host=getattr(args, "host", None),
        web_port=getattr(args, "port", None),
        start_wait_seconds=getattr(args, "start_wait", None),
    )


def kafka_flags(p: argparse.ArgumentParser) -> None:
    """The flags of a command that talks to Kafka."""
    p.add_argument("--kafka", help="bootstrap servers (CHANNELFLOW_KAFKA_BOOTSTRAP)")
    p.add_argument("--prefix", help="topic name prefix (CHANNELFLOW_TOPIC_PREFIX)")
    p.add_argument(
        "--partitions",
        type=int,
        help="partitions of new topics (CHANNELFLOW_PARTITIONS, default 12)",
    )
    p.add_argument(
        "--replication-factor",
        type=int,
        help="replication factor of new topics (CHANNELFLOW_REPLICATION_FACTOR, default 1)",
    )


def start_wait_flag(parser: argparse.ArgumentParser) -> None:
    """--start-wait: how long a long-running command waits for its servers as it starts."""
    parser.add_argument(
        "--start-wait",
        metavar="SECONDS",
        type=float,
        help="how long to wait for Kafka and PostgreSQL as it starts before giving up with "
        "status 3 (CHANNELFLOW_START_WAIT_SECONDS, default 300; 0: at once)",
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


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return number


#: the API the commands that read it ask unless told: the demo's and a worker's port
DEFAULT_API_URL: Final = "http://127.0.0.1:6066"


def api_url_flag(p: argparse.ArgumentParser) -> None:
    """The --url of a command that talks to a running API."""
    p.add_argument(
        "--url",
        type=api_url,
        default=DEFAULT_API_URL,
        help=f"a running channelflow HTTP API (default {DEFAULT_API_URL})",
    )


def identifier(text: str) -> str:
    """An argparse type: an id (a distributor's ...) given. An empty one, from a shell
    variable left unset (`--distributor "$D"`), would mean every distributor's."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an id cannot be empty: give one, or leave the flag out")
    return text


def api_url(text: str) -> str:
    """An argparse type: the http(s)://host[:port] of a running API (a typo would otherwise
    reach urllib as a traceback), the base its paths are added to: a trailing `/` or `/api`
    (the API's base pasted from a browser, `http://host:6066/api/`) is dropped, so that it
    does not become `/api/api/...`."""
    parts = urllib.parse.urlsplit(text)
    try:
        parts.port  # noqa: B018 (a port that is not a number raises)
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"expected the http://host:port of a running API, got {text!r}"
        )
    path = parts.path.rstrip("/")
    return urllib.parse.urlunsplit(parts._replace(path=path.removesuffix("/api")))


def input_file(text: str) -> Path:
    """The file a command reads: a `UserError` when there is none, or it is a directory."""
    path = Path(text)
    if path.is_dir():
        raise UserError(f"{path} is a directory: give a file")
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    return path


def amount(text: str) -> str:
    """An argparse type: an amount of money such as 125.00 (kept as written: the API and
    the event store read it as a Decimal)."""
    try:
        if Decimal(text).is_finite():
            return text
    except ArithmeticError:
        pass
    raise argparse.ArgumentTypeError(f"expected an amount such as 125.00, got {text!r}")


def period_key(text: str) -> str:
    """An argparse type: a period key, "2026-Q3" or "2026" (a typo would match no period)."""
    try:
        period_bounds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def as_of(text: str | None, what: str = "as-of") -> datetime | None:
    if text is None:
        return None
    try:
        return parse_as_of(text, what)
    except TimeParseError as exc:
        raise UserError(str(exc)) from None


@dataclass(frozen=True)
class Replay:
    """What `replay` and `verify` use of a replayed history: its snapshot, and its audit
    facts recorded in a store (recorded when first asked for, by the parallel replay)."""

    snapshot: Snapshot
    audit: Callable[[], AuditLog]
    #: what `derive` gave, per job (one process: one)
    derived: list[Any] = field(default_factory=list)


def replay_jobs(args: argparse.Namespace) -> int:
    """How many processes share the replay: --jobs, by default one per core; one with
    --distributor (its movements are in one partition)."""
    if getattr(args, "distributor", None):
        return 1
    jobs = getattr(args, "jobs", None)
    return int(jobs) if jobs else len(os.sched_getaffinity(0))


def known_at_of(args: argparse.Namespace) -> datetime | None:
    """`--known-at`: only what was recorded by then is replayed (projections/known_at.py)."""
    text = getattr(args, "known_at", None)
    return as_of(text, "known-at")


def replay_of(
    args: argparse.Namespace,
    until: datetime | None,
    derive: Derive | None = None,
    proposal: PriceProposal | None = None,
) -> Replay:
    """The history replayed by `replay_jobs(args)` processes (streams/replay_jobs.py):
    one process's snapshot and audit facts however many; `derive(stores, now)` runs on
    each one's stores at the end (`--known-at`: only what was recorded by then; with
    `proposal`, under a proposed price list: streams/runners/proposed_prices.py)."""
    gc.set_threshold(*GC_THRESHOLD)  # a batch job: see streams/processing.py
    jobs = replay_jobs(args)
    merged = _replayed_in_jobs(args, until, jobs, derive, proposal) if jobs > 1 else None
    if merged is None:
        channel = replayed(args, until, proposal)
        derived = [] if derive is None else [derive(channel.stores, now_of(channel.stores, until))]
        return Replay(channel.snapshot(until), lambda: channel.audit, derived)
    derived = [outcome.derived for outcome in merged.outcomes]
    return Replay(merged.snapshot, lambda: merged.audit, derived)


def _replayed_in_jobs(
    args: argparse.Namespace,
    until: datetime | None,
    jobs: int,
    derive: Derive | None,
    proposal: PriceProposal | None,
) -> MergedReplay | None:
    from streams.runners.replay_jobs import JobSpec, run_jobs
    from streams.runners.replay_shares import Share, file_owners

    settings = settings_of(args)
    path = _events_file(args)
    if path is not None:
        owners = file_owners(path, jobs, known_at_of(args), proposal)
        source: dict[str, Any] = {"events": path, "owners": owners}
    else:
        from streams.runners.kafka_replay import history_ends

        ends = asyncio.run(history_ends(settings))
        jobs = min(jobs, 1 + max((p for _, p in ends), default=0))
        source = {"settings": settings, "ends": ends, "distributor": args.distributor}
    specs = [
        JobSpec(
            Share(job, jobs),
            until,
            settings.time_rules(),
            settings.rebate_grace_days,
            settings.score_config(),
            known_at=known_at_of(args),
            derive=derive,
            proposal=proposal,
            **source,
        )
        for job in range(jobs)
    ]
    meter = Progress(f"replay ({jobs} jobs)")
    merged = run_jobs(specs, meter.tick)
    meter.close()
    if merged is None:
        print(
            "replay: a distributor's inputs are in more than one share (a message on another "
            "partition than its key's, or a line bundling several distributors): replaying "
            "in one process",
            file=sys.stderr,
        )
        return None
    if path is None:
        print(f"replay: {merged.applied:,} events from Kafka", file=sys.stderr)
    _print_dead_letters(merged.dead_letters, path)
    return merged


def _events_file(args: argparse.Namespace) -> Path | None:
    if not args.events:
        return None
    path = Path(args.events)
    if not path.exists():
        raise UserError(f"no such events file: {path}")
    if not path.is_file():  # a directory, /dev/null, a pipe: the jobs read the file each
        raise UserError(
            f"{path} is not a regular file: --events reads a JSON Lines file of raw events"
        )
    return path


def require_history(args: argparse.Namespace, purpose: str, otherwise: str = "") -> None:
    """Refuse a history with no events before a replay that is compared or cited (`purpose`:
    what it is for; `otherwise`: what else to do): an empty file or raw topics with nothing
    on them (a wrong --prefix or --kafka) would be replayed into nothing, and every live row
    reported as a difference or every source line missing from an audit pack."""
    path = _events_file(args)
    if path is not None:
        if path.stat().st_size == 0:
            raise UserError(
                f"the events file {path} is empty: there is no history {purpose}; give the "
                f"file the events were published from, or leave out --events to read the raw "
                f"topics{otherwise}"
            )
        return
    from streams.runners.kafka_replay import history_ends

    settings = settings_of(args)
    if not any(asyncio.run(history_ends(settings)).values()):
        raise UserError(
            f"the raw topics {settings.topic_prefix}.* at {settings.kafka_bootstrap} hold no "
            f"events: there is no history {purpose}; check --kafka and --prefix{otherwise}"
        )


def replayed(
    args: argparse.Namespace, until: datetime | None, proposal: PriceProposal | None = None
) -> EmbeddedChannel:
    """The channel recomputed from raw events in this process: a JSON Lines file
    (`args.events`), or the Kafka topics (optionally one `args.distributor`). Audit facts
    are recorded once, from the whole history: recorded per chunk, a statement would come
    from the first chunk (a period's close is read before the movements) and never be
    corrected."""
    settings = settings_of(args)
    # the worker's grace: a replay closes the periods the worker closed, no others
    channel = EmbeddedChannel(
        rebate_grace_days=settings.rebate_grace_days,
        rules=settings.time_rules(),
        score=settings.score_config(),
    )
    path = _events_file(args)
    known_at = known_at_of(args)
    if path is not None:
        inputs = with_proposal(file_inputs(path, known_at), proposal)
        channel.feed(progress(inputs, "replay"), until=until)
        _print_dead_letters(channel.dead_letters, path)
        return channel
    from streams.runners.kafka_replay import replay_into

    meter = Progress("replay")
    whole = asyncio.run(
        replay_into(
            channel,
            settings,
            until,
            getattr(args, "distributor", None),
            meter.tick,
            known_at,
            proposal,
        )
    )
    meter.close()
    print(f"replay: {whole.applied:,} events from Kafka", file=sys.stderr)
    channel.record(whole, until)
    _print_dead_letters(channel.dead_letters, None)
    return channel


def _print_dead_letters(letters: Iterable[DeadLetter], path: Path | None) -> None:
    """Each dead letter of a replay on stderr: file and line, or topic, partition and offset,
    then `#index` for an event of a bundle (a JSON array line: its place in it, from 0, as
    the dead letter's `source_index` and the lineage's `offset#index` name it)."""
    for letter in letters:
        if path is not None:
            where = f"{path}:{letter.offset}"
        else:
            where = f"{letter.source}:{letter.partition}@{letter.offset}"
        if letter.index is not None:
            where += f"#{letter.index}"
        print(f"{where}: {letter.reason}: {letter.detail}", file=sys.stderr)
