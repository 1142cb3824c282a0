"""The `channelflow` command line."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import orjson

from domain.roles import Role
from schemas.codec import encode_event
from schemas.events import Envelope
from streams.cli.support import (
    UserError,
    as_of,
    bearer_token,
    document_exit_status,
    failure,
    http_failure,
    package_version,
    print_json,
    replay_of,
    settings_of,
    token_flags,
)
from streams.config import Settings
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input


def _positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return number


def cmd_demo(args: argparse.Namespace) -> int:
    from streams.generator import generate_channel, malformed_lines

    channel = EmbeddedChannel(
        args.eventstore or "sqlite:///:memory:", rules=settings_of(args).time_rules()
    )
    _demo_read_models(channel, args)
    channel.feed_events(generate_channel(seed=args.seed, weeks=args.weeks), source="demo")
    channel.feed(Input(raw, None, "demo") for raw, _ in malformed_lines())
    if args.once:
        print_json(channel.snapshot())
        return 0
    settings = settings_of(args)
    from aiohttp import web

    from streams.api.app import make_web_app
    from streams.api.context import ApiContext
    from streams.auth import TokenRegistry

    url = f"http://{settings.web_host}:{settings.web_port}"
    print(f"channelflow demo: open {url}/dashboard  (API: {url}/api/openapi.json)", flush=True)
    print("Ctrl-C stops the demo.", flush=True)
    web.run_app(
        make_web_app(ApiContext.of_channel(channel, TokenRegistry.from_env())),
        host=settings.web_host,
        port=settings.web_port,
        print=None,
    )
    return 0


def _demo_read_models(channel: EmbeddedChannel, args: argparse.Namespace) -> None:
    """Read models in PostgreSQL, with CHANNELFLOW_READMODEL_URL or a postgresql:// --eventstore."""
    import psycopg

    from streams.runners.readmodel_sink import attach_embedded

    settings = settings_of(args).model_copy(
        update={"eventstore_url": args.eventstore or "sqlite:///:memory:"}
    )
    try:
        writer = attach_embedded(channel, settings)
    except psycopg.OperationalError:
        raise  # unreachable: status 3
    except psycopg.Error as exc:
        raise UserError(f"cannot write the read models to PostgreSQL: {exc}") from None
    if writer is not None:
        print(f"read models: PostgreSQL schema {writer.schema!r}", file=sys.stderr)


def cmd_readmodels(args: argparse.Namespace) -> int:
    import psycopg

    from infra.readmodels import ALL_TABLES, ReadModelWriter

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
    except psycopg.OperationalError:
        raise  # unreachable: status 3
    except psycopg.Error as exc:
        raise UserError(f"read-model database: {exc}") from None
    finally:
        writer.close()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    print_json(replay_of(args, as_of(args.as_of)).snapshot)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    import urllib.request

    from infra.eventstore import open_audit_log
    from streams.audit.verify import audit_differences, snapshot_differences

    replay = replay_of(args, None)
    token = bearer_token(args)
    request = urllib.request.Request(f"{args.url.rstrip('/')}/api/snapshot")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            live = orjson.loads(response.read())
    except OSError as exc:
        raise http_failure("the live snapshot", args.url, exc) from None
    differences = list(snapshot_differences(replay.snapshot, live))
    rows = sum(len(rows) for rows in live.values())
    verified, audit = audit_differences(
        replay.audit(), open_audit_log(settings_of(args).eventstore_url)
    )
    differences += audit
    for difference in differences:
        print(difference)
    if differences:
        print(f"{len(differences)} differences", file=sys.stderr)
        return 1
    print(f"{rows} snapshot rows and {verified} audit events verified")
    return 0


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

    async def run() -> int:
        await ensure_topics(settings)
        return await publish_events(settings, events)

    sent = asyncio.run(run())
    print(f"published {sent:,} events to {settings.kafka_bootstrap}", file=sys.stderr)
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from streams.kafka.io import ensure_topics

    asyncio.run(ensure_topics(settings_of(args), check_partitions=True))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from streams.kafka.io import ensure_topics
    from streams.worker.app import build_worker

    settings = settings_of(args)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    asyncio.run(ensure_topics(settings, check_partitions=True))
    app = build_worker(settings)
    app.finalize()
    worker = app.Worker(loglevel=args.loglevel, quiet=True)
    # Faust's terminal spinner sets the root logger to DEBUG: every debug line of Faust
    # and aiokafka would then be formatted (measured: 15-25 % of the worker's CPU).
    worker.spinner = None
    worker.execute_from_commandline()
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    try:
        return _token_command(args, Path(args.file))
    except ValueError as exc:
        raise UserError(f"token file {args.file}: {exc}") from None


def _token_command(args: argparse.Namespace, path: Path) -> int:
    from domain.permissions import is_scoped
    from domain.roles import Role
    from streams.auth import create_token, load_entries, revoke_tokens

    if args.action == "list":
        entries = load_entries(path)
        print(f"{'actor':<24} {'role':<16} {'distributor':<14} sha256")
        for entry in entries:
            distributor = entry.get("distributor_id") or "-"
            digest = entry["sha256"][:12]
            print(f"{entry['actor']:<24} {entry['role']:<16} {distributor:<14} {digest}…")
        print(f"{len(entries)} tokens in {path}", file=sys.stderr)
        return 0
    if not args.actor:
        raise UserError(f"token {args.action} needs --actor")
    if args.action == "revoke":
        removed = revoke_tokens(path, args.actor)
        if not removed:
            raise UserError(f"{args.actor!r} has no token in {path}")
        print(f"revoked {removed} token(s) of {args.actor} in {path}", file=sys.stderr)
        return 0
    if args.role is None:
        raise UserError("token create needs --role")
    if is_scoped(Role(args.role)) != (args.distributor is not None):
        raise UserError("--distributor is required for, and only for, role distributor")
    token = create_token(path, Role(args.role), args.actor, args.distributor)
    print(token)
    print(f"stored its hash in {path}; the token is shown only once", file=sys.stderr)
    return 0


def cmd_violation(args: argparse.Namespace) -> int:
    from uuid import UUID

    from eventsourcing.application import AggregateNotFoundError

    from domain.violation import IllegalTransition, NotAllowed
    from infra.eventstore import open_audit_log
    from streams.api.documents import violation_document

    try:
        violation_id = UUID(args.violation_id)
    except ValueError:
        raise UserError(f"{args.violation_id!r} is not a violation id (a UUID)") from None
    audit = open_audit_log(settings_of(args).eventstore_url)
    try:
        if args.action == "show":
            found = audit.violation(violation_id)
        else:
            step: dict[str, object] = {
                "actor_id": args.actor,
                "role": args.role,
                "actor_distributor_id": args.distributor,
                "at": datetime.now(UTC),
                "reason": args.reason,
            }
            if args.action == "resolve":
                step["resolution"] = args.resolution
                step["amount"] = None if args.amount is None else Decimal(args.amount)
            found = audit.violation_step(violation_id, args.action, **step)
    except AggregateNotFoundError:
        raise UserError(f"no violation {violation_id} in the event store") from None
    except (IllegalTransition, NotAllowed, ValueError, InvalidOperation) as exc:
        raise UserError(str(exc)) from None
    print_json(violation_document(found))
    return 0


def cmd_rebates(args: argparse.Namespace) -> int:
    from eventsourcing.application import AggregateNotFoundError

    from domain.rebate_statement import IllegalTransition
    from infra.eventstore import open_audit_log
    from streams.api.documents import statement_document
    from streams.kafka.io import ensure_topics, publish_events
    from streams.runners.rebate_closing import close_event

    settings = settings_of(args)
    if args.rebates_command == "close":
        try:
            event = close_event(args.program_id, args.period, datetime.now(UTC), args.actor)
        except ValueError as exc:
            raise UserError(str(exc)) from None

        async def publish() -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="channelflow",
        description="Event-sourced distributor management for two-tier sales channels.",
        epilog="Settings also come from CHANNELFLOW_* environment variables (see README).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def kafka_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--kafka", help="bootstrap servers (CHANNELFLOW_KAFKA_BOOTSTRAP)")
        p.add_argument("--prefix", help="topic name prefix (CHANNELFLOW_TOPIC_PREFIX)")
        p.add_argument("--partitions", type=int, help="partitions of new topics")
        p.add_argument(
            "--replication-factor",
            type=int,
            help="replication factor of new topics (CHANNELFLOW_REPLICATION_FACTOR, default 1)",
        )

    def jobs_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--jobs",
            type=_positive,
            metavar="N",
            help="processes sharing the replay, split by distributor (default: one per "
            "core; 1: in this process)",
        )

    demo = sub.add_parser("demo", help="run the embedded demo (no servers needed)")
    demo.add_argument("--once", action="store_true", help="print the snapshot and exit")
    demo.add_argument("--seed", type=int, default=7, help="random seed of the generated channel")
    demo.add_argument("--weeks", type=int, default=6, help="weeks of activity to generate")
    demo.add_argument("--host", help="HTTP host (default 127.0.0.1)")
    demo.add_argument("--port", type=int, help="HTTP port (default 6066)")
    demo.add_argument("--eventstore", help="event store URL (default in-memory SQLite)")
    demo.set_defaults(func=cmd_demo)

    worker = sub.add_parser("worker", help="run a Faust worker on the Kafka topics")
    kafka_flags(worker)
    worker.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    worker.add_argument("--host", help="HTTP host (CHANNELFLOW_WEB_HOST)")
    worker.add_argument("--port", type=int, help="HTTP port (CHANNELFLOW_WEB_PORT)")
    worker.add_argument("--loglevel", default="warning", help="log level (default warning)")
    worker.set_defaults(func=cmd_worker)

    replay = sub.add_parser("replay", help="recompute the snapshot from raw events")
    source = replay.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", help="JSON Lines file, one event per line")
    source.add_argument("--from-kafka", action="store_true", help="the raw topics, from the start")
    replay.add_argument("--as-of", help="business date (2026-09-30) or datetime with timezone")
    replay.add_argument("--distributor", help="with --from-kafka: only this distributor's lines")
    jobs_flag(replay)
    kafka_flags(replay)
    replay.set_defaults(func=cmd_replay)

    verify = sub.add_parser(
        "verify", help="replay the raw topics; compare with the live API and the event store"
    )
    verify.add_argument("--url", default="http://127.0.0.1:6066", help="a worker's HTTP API")
    token_flags(verify, "auditor role")
    verify.add_argument("--events", help="replay this JSON Lines file instead of Kafka")
    verify.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    verify.set_defaults(func=cmd_verify, distributor=None)
    jobs_flag(verify)
    kafka_flags(verify)

    generate = sub.add_parser("generate", help="write a generated channel as JSON Lines")
    generate.add_argument("--out", required=True, help="output file")
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--weeks", type=int, default=6)
    generate.add_argument(
        "--sales", type=int, help="this many sale lines and their catalog (for load tests)"
    )
    generate.set_defaults(func=cmd_generate)

    publish = sub.add_parser("publish", help="publish a JSON Lines event file to the raw topics")
    publish.add_argument("--events", required=True, help="JSON Lines file, one event per line")
    kafka_flags(publish)
    publish.set_defaults(func=cmd_publish)

    token = sub.add_parser(
        "token",
        help="create, list or revoke API bearer tokens (only hashes are stored)",
        description="create (the default): a new token, printed once; list: who has tokens; "
        "revoke: remove every token of --actor. Running servers follow the file: a change "
        "counts from their next request.",
    )
    token.add_argument("action", nargs="?", default="create", choices=["create", "list", "revoke"])
    token.add_argument("--role", choices=[r.value for r in Role], help="create: its role")
    token.add_argument(
        "--actor", help="create: who uses it (recorded on every step); revoke: whose"
    )
    token.add_argument("--distributor", help="create: the distributor id (role distributor only)")
    token.add_argument(
        "--file",
        default=os.environ.get("CHANNELFLOW_TOKENS_FILE") or "channelflow-tokens.json",
        help="token file (default: CHANNELFLOW_TOKENS_FILE, else channelflow-tokens.json)",
    )
    token.set_defaults(func=cmd_token)

    violation = sub.add_parser("violation", help="show or move a pricing violation along")
    violation.add_argument("action", choices=["show", "acknowledge", "dispute", "resolve"])
    violation.add_argument("violation_id")
    violation.add_argument("--actor", default="cli", help="who takes the step")
    violation.add_argument("--role", default="admin", choices=[r.value for r in Role])
    violation.add_argument("--distributor", help="the actor's distributor (role distributor)")
    violation.add_argument("--reason", default="", help="why (required for a step)")
    violation.add_argument("--resolution", choices=["waived", "credited", "penalized"])
    violation.add_argument("--amount", help="money involved in the resolution, e.g. 125.00")
    violation.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    violation.set_defaults(func=cmd_violation)

    rebates = sub.add_parser("rebates", help="close rebate periods; show, approve, pay statements")
    rebates_sub = rebates.add_subparsers(dest="rebates_command", required=True, metavar="ACTION")
    close = rebates_sub.add_parser("close", help="close a program's period (publishes the close)")
    close.add_argument("program_id")
    close.add_argument("period", help="2026-Q3 or 2026")
    close.add_argument("--actor", default="cli", help="who closes it")
    kafka_flags(close)
    close.set_defaults(func=cmd_rebates)
    statement = rebates_sub.add_parser("statement", help="show, approve or pay a statement")
    statement.add_argument("program_id")
    statement.add_argument("distributor_id")
    statement.add_argument("period")
    step = statement.add_mutually_exclusive_group()
    step.add_argument("--approve", action="store_true", help="calculated → approved")
    step.add_argument(
        "--pay", metavar="REFERENCE", help="approved → paid, with the payment reference"
    )
    statement.add_argument("--actor", default="cli", help="who approves or pays")
    statement.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    statement.set_defaults(func=cmd_rebates)

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

    topics = sub.add_parser("topics", help="create the raw and dead-letter topics")
    kafka_flags(topics)
    topics.set_defaults(func=cmd_topics)
    from streams.cli.audit import add_audit_commands  # verify --audit, audit ...

    add_audit_commands(sub)
    from streams.cli.ingest import add_ingest_commands  # ingest, deadletters

    add_ingest_commands(sub, kafka_flags)
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
