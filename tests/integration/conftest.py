"""Fixtures for tests on the real Kafka broker and PostgreSQL server.

Both are started by the README's test command (scripts/test.sh); a missing server is
a test failure with a hint, never a silent skip.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

from streams.config import Settings
from streams.kafka.io import delete_topics
from tests.integration.audit_db import fresh_database

REPO = Path(__file__).resolve().parents[2]


def _reachable(host_port: str) -> bool:
    host, port = host_port.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


#: The busiest tests (kills over 100,000 events, several workers, whole replays again and
#: again) run one after the other on one of `make test`'s two pytest processes
#: (`--dist loadgroup`), while the other takes the lighter tests, which mostly wait on the
#: broker and the workers.
HEAVY = pytest.mark.xdist_group("heavy")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("CHANNELFLOW_TEST_KAFKA", "127.0.0.1:9092")
    if not _reachable(bootstrap):
        pytest.fail(f"Kafka is not reachable at {bootstrap}: run `bash infra/kafka.sh start`")
    return bootstrap


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    dsn = os.environ.get(
        "CHANNELFLOW_TEST_PG_DSN",
        "postgresql://channelflow:channelflow@127.0.0.1:5433/channelflow_test",
    )
    host_port = dsn.split("@", 1)[1].split("/", 1)[0]
    if not _reachable(host_port):
        pytest.fail(
            f"PostgreSQL is not reachable at {host_port}: run `bash infra/postgres.sh start`"
        )
    return dsn


@pytest.fixture
def database(pg_dsn: str) -> Iterator[str]:
    """A new, empty PostgreSQL database of the test's own, dropped after it."""
    with fresh_database(pg_dsn) as dsn:
        yield dsn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_settings(kafka_bootstrap: str, directory: Path) -> Settings:
    """Settings of their own: topics, consumer group, port, data dir and event store in
    `directory`. Delete the topics afterwards (`delete_topics` with the topic prefix)."""
    tag = f"t{uuid.uuid4().hex[:10]}"
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=tag,
        app_id=tag,
        partitions=4,
        web_port=free_port(),
        api_port=free_port(),
        data_dir=str(directory / "data"),
        eventstore_url=f"sqlite:///{directory / 'audit.db'}",
        claims_interval_seconds=1.0,
        # the relay would publish every test's decisions in a shared event store: on only
        # where a test asks for it (tests/integration/test_decisions_kafka.py)
        decisions_relay=False,
        decisions_interval_seconds=0.2,
    )


@pytest.fixture
def settings(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings isolated per test: own topics, consumer group, port, data dir, event store.

    The test's topics (raw, dead letters, table changelogs) are deleted afterwards, so the
    broker does not pile up thousands of partitions over many runs.
    """
    isolated = isolated_settings(kafka_bootstrap, tmp_path)
    yield isolated
    asyncio.run(delete_topics(kafka_bootstrap, isolated.topic_prefix))


def http_body(url: str, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers), timeout=30
    ) as response:
        return bytes(response.read())


def http_json(url: str, token: str | None = None) -> Any:
    return orjson.loads(http_body(url, token))


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # server not up yet, etc.
            last_error = exc
        time.sleep(0.25)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


def wait_for_count(
    count: Callable[[], int], target: int, stall: float, what: str, bound: float = 900
) -> None:
    """Wait until `count()` reaches `target`, as long as it keeps growing: it fails once the
    count has not grown for `stall` seconds, or passed `target` (counted twice), or after
    `bound` seconds. A slow machine makes the wait longer; a worker that stopped fails it."""
    started = grown = time.monotonic()
    last = -1
    while True:
        now = time.monotonic()
        try:
            found = count()
        except Exception:  # the server busy or restarting: as no growth
            found = last
        if found == target:
            return
        assert found < target, f"{what}: counted {found}, more than {target}"
        if found > last:
            last, grown = found, now
        if now - grown > stall or now - started > bound:
            raise AssertionError(
                f"{what}: {last} of {target} after {now - started:.0f} s, "
                f"the last {now - grown:.0f} s without growing"
            )
        time.sleep(0.25)


def stop_process(proc: subprocess.Popen[bytes], wait: float = 30) -> None:
    """SIGTERM `proc` and wait; killed when it is still running after `wait` s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(wait)


class WorkerProcess:
    """A `channelflow worker` subprocess with test settings."""

    COMMAND = "worker"
    #: every one started in this pytest process, in order (a failed test's report shows
    #: the logs of those it started and of those still running: `pytest_runtest_makereport`)
    started: ClassVar[list[WorkerProcess]] = []

    def __init__(
        self, settings: Settings, log_path: Path, extra_env: dict[str, str] | None = None
    ) -> None:
        self.settings = settings
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.token: str | None = None  # sent with every read when set
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return self.settings.web_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return dict(os.environ) | self.settings.environment() | self.extra_env

    def start(self) -> WorkerProcess:
        """Launch it and wait until it answers, its reference data read (until then the
        pages of reference data are a 503)."""
        self.launch()
        wait_until(self.loaded, 60, f"the {self.COMMAND}'s /health, its reference data read")
        return self

    def loaded(self) -> bool:
        health = http_json(f"{self.url}/health")
        return bool(health) and health.get("reference", {"loaded": True})["loaded"]

    def launch(self, *flags: str) -> WorkerProcess:
        """Start the process with `flags`, without waiting for it to answer."""
        if self not in WorkerProcess.started:  # a restart: its log is one
            WorkerProcess.started.append(self)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", self.COMMAND, "--loglevel", "info", *flags],
            cwd=REPO,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def get(self, path: str, token: str | None = None) -> Any:
        return http_json(f"{self.url}{path}", token or self.token)

    def metrics_text(self) -> str:
        """Its /metrics (with its token when it has one: the vendor's roles read them)."""
        return http_body(f"{self.url}/metrics", self.token).decode()

    def post(self, path: str, body: Any, token: str) -> tuple[int, Any]:
        """POST JSON, or bytes as they are (an uploaded report); (status, JSON answer)."""
        raw = isinstance(body, bytes)
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=body if raw else orjson.dumps(body),
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/octet-stream" if raw else "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, orjson.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, orjson.loads(error.read())

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


#: how many processes had been started when the test now running began
_STARTED_BEFORE = pytest.StashKey[int]()


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED_BEFORE] = len(WorkerProcess.started)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report ends with the last lines of the logs of the workers (and API
    processes) it started or that were still running: CI keeps nothing else of them."""
    report = yield
    if report.when in ("setup", "call") and report.failed:
        first = item.stash.get(_STARTED_BEFORE, 0)
        for number, process in enumerate(WorkerProcess.started):
            if (number >= first or process.running()) and process.log_path.exists():
                report.sections.append(
                    (f"{process.log_path.name} (last lines)", process.log_tail(60))
                )
    return report


class ApiProcess(WorkerProcess):
    """A `channelflow api` subprocess beside a worker of the same settings."""

    COMMAND = "api"

    @property
    def port(self) -> int:
        return self.settings.api_port


#: a rebate grace (days) that no test's period ends within
NO_AUTOMATIC_CLOSE = 10_000


@pytest.fixture
def no_automatic_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rebate periods are closed by the test alone (the workers and `verify`'s replay it
    starts). The tests' quarters ended long ago by the wall clock: a worker's recording
    round would close one by itself as soon as it applied the first of its lines, and the
    lines posted after that close would become adjustments too."""
    monkeypatch.setenv("CHANNELFLOW_REBATE_GRACE_DAYS", str(NO_AUTOMATIC_CLOSE))


@pytest.fixture
def worker_factory(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def make(env: dict[str, str] | None = None, **overrides: Any) -> WorkerProcess:
        worker_settings = settings.model_copy(update=overrides)
        worker = WorkerProcess(worker_settings, tmp_path / f"worker{len(started)}.log", env)
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.kill()
