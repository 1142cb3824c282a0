"""What the bench scripts share: progress lines, the measured revision, rates and verdicts,
fresh topics (created, waited for, deleted) and `channelflow worker` subprocesses.

The scripts run as modules from the repository root (`python -m bench.throughput`), so
`bench.common` is importable without installing bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
import psycopg
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql

from streams.config import Settings
from streams.kafka.io import delete_topics
from streams.runners.processing import GC_THRESHOLD

REPO = Path(__file__).resolve().parents[1]
DEFAULT_KAFKA = os.environ.get("CHANNELFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
T = TypeVar("T")


class BenchError(Exception):
    """Something broke: printed without a traceback, exit status 1."""


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def revision() -> str:
    """The git commit measured, marked dirty when tracked files have changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{'+dirty' if dirty else ''}"


def machine() -> str:
    """The line every report starts with: when, which commit, how busy the machine was."""
    return (
        f"measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on commit {revision()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end"
    )


@contextmanager
def batch_gc() -> Iterator[None]:
    """The collector's thresholds of the batch jobs (`channelflow replay`, `ingest`, the
    worker) for what runs inside, as they run it; the caller's back after."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def positive_int(text: str) -> int:
    """An argparse type: a user's mistake is an argparse error, not a traceback."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_async(coro: Coroutine[Any, Any, T], timeout: float, what: str) -> T:
    """Run `coro` to its end on a fresh event loop, within `timeout` seconds."""

    async def bounded() -> T:
        try:
            return await asyncio.wait_for(coro, timeout)
        except TimeoutError:
            raise BenchError(f"{what} did not finish within {timeout:.0f} s") from None

    return asyncio.run(bounded())


# -- topics --------------------------------------------------------------------------------


async def wait_for_leaders(bootstrap: str, topics: Iterable[str], partitions: int) -> None:
    """Until every partition of these new topics has a leader (no produce retries)."""
    names = list(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            described = await admin.describe_topics(names)
            ready = all(
                topic["error_code"] == 0
                and len(topic["partitions"]) == partitions
                and all(p["error_code"] == 0 and p["leader"] >= 0 for p in topic["partitions"])
                for topic in described
            )
            if ready:
                return
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def remove_topics(bootstrap: str, prefix: str) -> None:
    """The run's topics, deleted; a failure is reported, never raised (it must not hide the
    result)."""
    try:
        names = asyncio.run(asyncio.wait_for(delete_topics(bootstrap, prefix), 60))
        progress(f"deleted {len(names)} topics {prefix}*")
    except Exception as exc:
        progress(f"could not delete topics {prefix}*: {exc!r}")


def clean_up(keep: bool, workdir: Path, bootstrap: str, prefix: str) -> None:
    """The run's temp dir and topics removed, or said where they were kept (--keep)."""
    if keep:
        progress(f"kept {workdir} and topics {prefix}*")
        return
    shutil.rmtree(workdir, ignore_errors=True)
    remove_topics(bootstrap, prefix)


# -- /metrics --------------------------------------------------------------------------------


def samples(text: str) -> Iterable[tuple[str, Mapping[str, str], float]]:
    """(name, labels, value) of every sample of a Prometheus exposition."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, sample.labels, sample.value


# -- peer consumers -----------------------------------------------------------------------------


def peer_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options every peer consumer takes."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--topic", required=True, help="the topic to read")
    parser.add_argument("--count", type=positive_int, required=True, help="messages to wait for")
    parser.add_argument("--result", type=Path, required=True, help="where to write the figure")
    parser.add_argument(
        "--group", default=f"{prog}{uuid.uuid4().hex[:10]}", help="consumer group (app id)"
    )
    parser.add_argument("--kafka", default=DEFAULT_KAFKA, help="default %(default)s")
    return parser


class PeerTally:
    """Messages a peer consumer (bench/faust_noop.py, bench/quix_peer.py) has read; once
    `count` are in, {"messages": N, "seconds": S} (S from the first to the last) goes to
    `result`, which bench/throughput.py waits for."""

    def __init__(self, count: int, result: Path) -> None:
        self.count = count
        self.result = result
        self.read = 0
        self.first = 0.0

    def add(self, messages: int) -> None:
        if not self.read:
            self.first = time.perf_counter()
        self.read += messages
        if self.read >= self.count and not self.result.exists():
            seconds = time.perf_counter() - self.first
            partial = self.result.with_suffix(".part")
            partial.write_bytes(orjson.dumps({"messages": self.read, "seconds": seconds}))
            os.replace(partial, self.result)


# -- worker subprocesses ----------------------------------------------------------------------


class WorkerProcess:
    """`channelflow worker` subprocesses with a run's settings, one at a time; the caller's
    own CHANNELFLOW_* settings stay out, so only the run's apply."""

    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        loglevel: str = "warning",
        extra_env: Mapping[str, str] | None = None,
        profile: Path | None = None,
        command: str = "worker",
        root: Path = REPO,
    ) -> None:
        self.settings = settings
        #: the checkout the process runs (an extracted base revision, for an A/B)
        self.root = root
        self.loglevel = loglevel
        self.extra_env = dict(extra_env or {})
        self.profile = profile
        #: `worker`, or `api`: the API process beside it (on settings.api_port)
        self.command = command
        self.log_path = workdir / f"{command}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        port = settings.api_port if command == "api" else settings.web_port
        self.url = f"http://127.0.0.1:{port}"
        self.started_at = 0.0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHANNELFLOW_")}
        loopback = {"CHANNELFLOW_WEB_HOST": "127.0.0.1"}
        return env | self.settings.environment() | loopback | self.extra_env

    def start(self) -> None:
        command = [sys.executable]
        if self.profile is not None:
            command += ["-m", "cProfile", "-o", str(self.profile)]
        command += ["-m", "streams.cli", self.command, "--loglevel", self.loglevel]
        with self.log_path.open("ab") as log:
            started = f"\n==== bench: {self.command} started {time.strftime('%H:%M:%S')}\n"
            log.write(started.encode())
            log.flush()
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(
                command, cwd=self.root, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise BenchError(f"the {self.command} exited with status {code}:\n{self.log_tail()}")

    def get_json(self, path: str, timeout: float = 5.0) -> Any:
        """A GET of the worker's API without a token (the bench runs it open)."""
        with urllib.request.urlopen(f"{self.url}{path}", timeout=timeout) as response:
            return orjson.loads(response.read())

    def metrics(self, timeout: float = 5.0) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=timeout) as response:
            return str(response.read().decode())

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self, wait: float = 90.0) -> bool:
        """SIGTERM and wait; False when it ignored SIGTERM for `wait` s and was killed."""
        if self.proc is None or self.proc.poll() is not None:
            return True
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(wait)
            return True
        except subprocess.TimeoutExpired:
            progress(f"the worker ignored SIGTERM for {wait:.0f} s: killing it")
            self.proc.kill()
            self.proc.wait(30)
            return False

    def rss(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in bytes: now, and the peak of this process's life."""
        values = {"VmRSS": 0, "VmHWM": 0}
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    name, _, rest = line.partition(":")
                    if name in values:
                        values[name] = int(rest.split()[0]) * 1024
        except OSError:
            pass
        return values["VmRSS"], values["VmHWM"]

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no worker log)"
        return "\n".join(text.splitlines()[-lines:])

    def log_problems(self) -> list[str]:
        """Lines of the worker log at ERROR or above, and tracebacks."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [
            line
            for line in text.splitlines()
            if "ERROR" in line or "CRITICAL" in line or line.startswith("Traceback")
        ]


def worker_group(
    settings: Settings, workdir: Path, count: int, extra_env: Mapping[str, str] | None = None
) -> list[WorkerProcess]:
    """`count` workers of one consumer group (`settings.app_id`) on the same topics, each
    with a port, a data dir and an audit event store of its own under `workdir`/<n>."""
    made = []
    for n in range(count):
        home = workdir / str(n)
        home.mkdir(parents=True, exist_ok=True)
        own = settings.model_copy(
            update={
                "web_port": free_port(),
                "data_dir": str(home / "data"),
                "eventstore_url": f"sqlite:///{home / 'audit.db'}",
            }
        )
        made.append(WorkerProcess(own, home, extra_env=extra_env))
    return made


# -- PostgreSQL: a database of the run's own ----------------------------------------------


def run_database(dsn: str, tag: str) -> str:
    """Create a database for the run next to the one `dsn` names; its DSN. The audit event
    store and the read models of the run live there (nothing shared with other runs)."""
    parts = urlsplit(dsn)
    name = f"{parts.path.strip('/')}_{tag}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return parts._replace(path=f"/{name}").geturl()


def drop_database(admin_dsn: str, run_dsn: str) -> None:
    name = urlsplit(run_dsn).path.strip("/")
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        progress(f"dropped database {name}")
    except Exception as exc:
        progress(f"could not drop database {name}: {exc!r}")


@contextmanager
def fresh_database(dsn: str, tag: str) -> Iterator[str]:
    """A database of the run's own (`run_database`), dropped afterwards."""
    run_dsn = run_database(dsn, tag)
    try:
        yield run_dsn
    finally:
        drop_database(dsn, run_dsn)


def cpu_best_of(rounds: int, prepared: Callable[[], Callable[[], Any]]) -> float:
    """The fastest of `rounds` runs, in seconds of CPU time: each round times the run that
    `prepared()` returns (fresh stores, say), not what preparing it costs."""
    times = []
    for _ in range(rounds):
        run = prepared()
        began = time.process_time()
        run()
        times.append(time.process_time() - began)
    return min(times)
