"""`channelflow demo` (the embedded channel, no servers needed) and `channelflow worker`
(a Faust worker on the Kafka topics): the commands that run the channel."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from streams.cli.support import (
    Subcommands,
    UserError,
    kafka_flags,
    positive_int,
    print_json,
    settings_of,
    start_wait_flag,
)
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input

if TYPE_CHECKING:
    from streams.api.context import ApiContext


def register(sub: Subcommands) -> None:
    demo = sub.add_parser("demo", help="run the embedded demo (no servers needed)")
    demo.add_argument("--once", action="store_true", help="print the snapshot and exit")
    demo.add_argument(
        "--seed", type=int, default=7, help="random seed of the generated channel (default 7)"
    )
    demo.add_argument(
        "--weeks", type=positive_int, default=6, help="weeks of activity to generate (default 6)"
    )
    demo.add_argument("--host", help="HTTP host (CHANNELFLOW_WEB_HOST, default 127.0.0.1)")
    demo.add_argument("--port", type=int, help="HTTP port (CHANNELFLOW_WEB_PORT, default 6066)")
    demo.add_argument("--eventstore", help="event store URL (default in-memory SQLite)")
    demo.set_defaults(func=cmd_demo)

    worker = sub.add_parser("worker", help="run a Faust worker on the Kafka topics")
    kafka_flags(worker)
    worker.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    worker.add_argument("--host", help="HTTP host (CHANNELFLOW_WEB_HOST, default 127.0.0.1)")
    worker.add_argument("--port", type=int, help="HTTP port (CHANNELFLOW_WEB_PORT, default 6066)")
    worker.add_argument("--loglevel", default="warning", help="log level (default warning)")
    start_wait_flag(worker)
    worker.set_defaults(func=cmd_worker)

    api = sub.add_parser(
        "api",
        help="serve the HTTP API in a process of its own, from the workers' databases",
        description="Serve the HTTP API beside the workers on this machine: their state "
        "databases are read as RocksDB secondary instances, so requests never wait for a "
        "worker's batches; given every worker's data directory, it answers for the whole "
        "channel (docs/OPERATIONS.md).",
    )
    kafka_flags(api)
    api.add_argument("--eventstore", help="event store URL (CHANNELFLOW_EVENTSTORE_URL)")
    api.add_argument("--host", help="HTTP host (CHANNELFLOW_WEB_HOST, default 127.0.0.1)")
    api.add_argument(
        "--port", dest="api_port", type=int, help="HTTP port (CHANNELFLOW_API_PORT, default 6067)"
    )
    api.add_argument(
        "--worker-data-dir",
        action="append",
        metavar="DIR",
        help="a data directory of a worker on this machine, whose state to read; repeat it "
        "for each worker (CHANNELFLOW_API_DATA_DIRS, comma-separated; default "
        "CHANNELFLOW_DATA_DIR, the worker's beside it)",
    )
    api.add_argument("--loglevel", default="warning", help="log level (default warning)")
    start_wait_flag(api)
    api.set_defaults(func=cmd_api)


def cmd_demo(args: argparse.Namespace) -> int:
    from streams.generator import generate_channel, malformed_lines

    settings = settings_of(args)
    channel = EmbeddedChannel(
        args.eventstore or "sqlite:///:memory:",
        rules=settings.time_rules(),
        score=settings.score_config(),
    )
    _demo_read_models(channel, args)
    channel.feed_events(generate_channel(seed=args.seed, weeks=args.weeks), source="demo")
    channel.feed(Input(raw, None, "demo") for raw, _ in malformed_lines())
    if args.once:
        print_json(channel.snapshot())
        return 0
    from streams.api.context import ApiContext
    from streams.auth import TokenRegistry

    context = ApiContext.of_channel(channel, TokenRegistry.from_env())
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the runner cleaned up, status 0
        asyncio.run(_serve_demo(context, settings.web_host, settings.web_port))
    return 0


async def _serve_demo(context: ApiContext, host: str, port: int) -> None:
    """Serve the demo's app until Ctrl-C or SIGTERM; its URL printed once the port is bound."""
    from aiohttp import web

    from streams.api.app import app_runner

    runner = app_runner(context)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        url = f"http://{host}:{port}"
        print(f"channelflow demo: open {url}/dashboard  (API: {url}/api/openapi.json)", flush=True)
        print("Ctrl-C stops the demo.", flush=True)
        stopped = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        await stopped.wait()
    finally:
        await runner.cleanup()


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


def cmd_worker(args: argparse.Namespace) -> int:
    import logging

    from infra.eventstore import open_audit_log
    from streams.kafka.io import ensure_topics
    from streams.kafka.worker_topics import worker_topics
    from streams.worker.app import build_worker
    from streams.worker.start_wait import GaveUpLines, StartWait

    settings = settings_of(args)
    _check_free(settings.web_host, settings.web_port)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    wait = StartWait(settings.start_wait_seconds)
    with wait.kafka_clients():
        asyncio.run(ensure_topics(settings, check_partitions=True, also=worker_topics(settings)))
        url = settings.eventstore_url
        audit = wait.postgres(url, lambda: open_audit_log(url))
        app = build_worker(settings, audit, started=wait.done)
        app.finalize()
        worker = app.Worker(loglevel=args.loglevel, quiet=True)
        # Faust's terminal spinner sets the root logger to DEBUG: every debug line of Faust
        # and aiokafka would then be formatted (measured: 15-25 % of the worker's CPU).
        worker.spinner = None
        logging.getLogger("faust.worker").addFilter(GaveUpLines(wait))
        try:
            worker.execute_from_commandline()
        except SystemExit as stopped:
            if stopped.code and wait.gave_up is not None:  # the broker gone in faust's start
                raise wait.gave_up from None
            raise
    return 0


def _check_free(host: str, port: int) -> None:
    """Raise the error of binding `host:port` now (in use, not this machine's address): the
    worker binds only once it runs, and Faust's crash there is pages of traceback."""
    with socket.create_server((host, port)):  # SO_REUSEADDR, as aiohttp binds
        pass


def cmd_api(args: argparse.Namespace) -> int:
    import logging

    from infra.eventstore import open_audit_log
    from streams.worker.api_process import ApiProcess
    from streams.worker.start_wait import StartWait

    logging.basicConfig(level=args.loglevel.upper(), format="%(asctime)s %(name)s %(message)s")
    settings = settings_of(args)
    if args.api_port is not None:
        settings = settings.model_copy(update={"api_port": args.api_port})
    if args.worker_data_dir:
        settings = settings.model_copy(update={"api_data_dirs": ",".join(args.worker_data_dir)})
    wait = StartWait(settings.start_wait_seconds)
    url = settings.eventstore_url
    with wait.kafka_clients(), contextlib.suppress(KeyboardInterrupt):
        audit = wait.postgres(url, lambda: open_audit_log(url))
        asyncio.run(ApiProcess(settings, audit, wait.done).serve())
    return 0
