"""How a worker scales with the length of its history (issue 12).

A generated channel (bench/channel_history.py: 50 distributors, 200 SKUs, 60+ weeks of
weekly reports, prices, two rebate programs, counts, late lines after a close) is published
in steps to one `channelflow worker` on fresh topics, its own PostgreSQL database and a
temp data dir. For each step:

1. the worker is stopped (SIGTERM) and the step is generated and published (its events
   recorded by the broker before the worker reads them; see "why stopped" below);
2. the worker is started on the same data dir; from its first applied event until every
   event of the step is applied, every GET endpoint of the API is requested in turn
   (latencies), /metrics is scraped for progress and /proc for the worker's RSS;
3. at rest: the past quarters closed, the figures checked against what was generated, the
   snapshot export timed, /api/inventory noted; then `kill -9`, a restart with the same
   settings and data dir, and the time until /health answers 200 and until /api/inventory
   answers exactly what it answered before the kill.

Then the late-lines figure: 1,000 and then 10,000 sale lines dated in a closed quarter are
published to the running worker, timed until the statement shows that many more
adjustments, with /health polled meanwhile.

Why stopped while a step is published: with the default grace (15 days) a running worker
closes a past quarter within one recording round (10 s) of applying its first line, and
every line of that quarter recorded after the close is one adjustment. Publishing a quarter
takes longer than that, so a running worker would turn most of each step's first quarter
into adjustments. Stopped, the whole step is recorded before the closes, as when a history
is loaded before its periods close; the steps' own late lines (20 a step) are the
adjustments.

Progress goes to stderr, the Markdown result to stdout; targets are printed (PASS/MISS),
never asserted. Exit status 0 unless something broke: a timeout, the worker died, an
endpoint answered 5xx or not at all, or a figure disagrees with the generated events (1).

    .venv/bin/python -m bench.history_scaling --quick
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import psycopg
from psycopg import sql

from bench.channel_history import ChannelHistory
from bench.channel_reference import SELL_THROUGH_PROGRAM
from bench.channel_steps import Published, next_quarter, quarter_key, quarter_start
from bench.common import (
    BenchError,
    WorkerProcess,
    free_port,
    progress,
    rate,
    remove_topics,
    revision,
    run_async,
    samples,
    wait_for_leaders,
)
from schemas.events import Envelope
from schemas.topics import DEAD_LETTER_TOPIC, RAW_TOPICS, topic_name
from streams.auth import token_hash
from streams.config import Settings
from streams.kafka.io import ensure_topics, publish_events
from streams.worker.app import CONSUMED_TOPICS

DEFAULT_STEPS = "1000000,5000000"
QUICK_STEPS = "100000,300000"
DEFAULT_DSN = "postgresql://channelflow:channelflow@127.0.0.1:5433/channelflow_test"
LATE_LINES = (1_000, 10_000)
LATE_DISTRIBUTOR = "D01"

#: every GET endpoint of the API with data (streams/api/app.py), default paging
ENDPOINTS = (
    "/health",
    "/metrics",
    "/api/inventory",
    "/api/inventory/summary",
    "/api/sell-through",
    "/api/quality",
    "/api/compliance",
    "/api/reports",
    "/api/resellers",
    "/api/resellers/growth",
    "/api/resellers/top",
    "/api/violations",
    "/api/violations/summary",
    "/api/rebates",
    "/api/rebates/watchlist",
    "/api/prices",
    "/api/unpriced",
    "/api/price-protection",
    "/api/products",
    "/api/dead-letters",
    "/api/dead-letters/lines?order=newest&limit=10",
)
SNAPSHOT = "/api/snapshot"

TARGET_RATE_RATIO = 0.8
TARGET_P99_MS = 100.0
TARGET_RSS = 1024**3
TARGET_RESTART_S = 10.0
TARGET_LINEAR = 1.5  # recording time per line of the larger late batch / of the smaller one
POLL_SECONDS = 0.5
#: no recording round ended for this long while adjustments are missing: stalled
STALL_SECONDS = 120.0
REQUEST_TIMEOUT = 60.0
GRACE_DAYS = Settings().rebate_grace_days


# -- HTTP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (refused, reset, timed out)
    seconds: float
    body: bytes
    error: str = ""

    def json(self) -> Any:
        return orjson.loads(self.body)


def request(
    url: str,
    token: str | None = None,
    method: str = "GET",
    timeout: float = REQUEST_TIMEOUT,
) -> Answer:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = b"{}" if method == "POST" else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            body = response.read()
            return Answer(response.status, time.perf_counter() - started, body)
    except urllib.error.HTTPError as exc:
        body = exc.read()
        text = body[:300].decode("utf-8", "replace")
        return Answer(exc.code, time.perf_counter() - started, body, text)
    except (OSError, TimeoutError) as exc:
        return Answer(0, time.perf_counter() - started, b"", f"{type(exc).__name__}: {exc}")


@dataclass
class Latencies:
    """Latencies (s) per endpoint, and what went wrong."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, answer: Answer) -> None:
        self.seconds.setdefault(path, []).append(answer.seconds)
        if answer.status != 200:
            what = f"{answer.status or 'no answer'} after {answer.seconds:.1f} s: {answer.error}"
            self.errors.setdefault(path, []).append(what.strip())


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def stats_ms(values: list[float]) -> tuple[float, float, float]:
    return (
        percentile(values, 0.5) * 1000,
        percentile(values, 0.99) * 1000,
        max(values) * 1000,
    )


class Sampler(threading.Thread):
    """Requests `paths` one after another, `pause` seconds apart, until stopped."""

    def __init__(self, base: str, paths: tuple[str, ...], token: str, pause: float) -> None:
        super().__init__(name=f"sampler {paths[0]}", daemon=True)
        self.base = base
        self.paths = paths
        self.token = token
        self.pause = pause
        self.latencies = Latencies()
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for path in self.paths:
                if self.halt.is_set():
                    return
                answer = request(f"{self.base}{path}", self.token)
                self.latencies.add(path, answer)
                self.halt.wait(self.pause)

    def stop(self) -> Latencies:
        self.halt.set()
        self.join(REQUEST_TIMEOUT + 5)
        return self.latencies


# -- the worker ------------------------------------------------------------------------------


class Worker(WorkerProcess):
    """The run's worker, with an admin token; its answers as `Answer`s."""

    def __init__(self, settings: Settings, workdir: Path, token: str, loglevel: str) -> None:
        tokens = [{"sha256": token_hash(token), "role": "admin", "actor": "bench"}]
        super().__init__(
            settings, workdir, loglevel, {"CHANNELFLOW_TOKENS": orjson.dumps(tokens).decode()}
        )
        self.token = token
        #: times it did not stop within 90 s of SIGTERM (then it was killed)
        self.ignored_sigterm = 0

    def get(self, path: str, timeout: float = REQUEST_TIMEOUT) -> Answer:
        return request(f"{self.url}{path}", self.token, timeout=timeout)

    def get_json(self, path: str, timeout: float = REQUEST_TIMEOUT) -> Any:
        answer = self.get(path, timeout)
        if answer.status != 200:
            raise BenchError(f"GET {path}: {answer.status or 'no answer'} {answer.error}")
        return answer.json()

    def get_text(self, path: str) -> str:
        answer = self.get(path)
        if answer.status != 200:
            raise BenchError(f"GET {path}: {answer.status or 'no answer'} {answer.error}")
        return answer.body.decode()

    def stop(self, wait: float = 90.0) -> bool:
        stopped = super().stop(wait)
        self.ignored_sigterm += not stopped
        return stopped


def wait_for(
    worker: Worker, check: Callable[[], Any], timeout: float, what: str, every: float = 0.2
) -> Any:
    deadline = time.perf_counter() + timeout
    while True:
        worker.check_alive()
        value = check()
        if value:
            return value
        if time.perf_counter() >= deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# -- /metrics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scrape:
    consumed: int  # inputs of the raw topics applied by this process (not its own closes)
    lag: int  # Σ consumer lag over the owned raw partitions
    lag_series: int
    round_sum: float  # Σ seconds of recording rounds
    round_count: int
    #: the event-loop lag histogram: (upper bound s, cumulative probes)
    loop_lag: tuple[tuple[float, float], ...] = ()


def scrape(text: str) -> Scrape:
    consumed = lag = series = rounds = 0
    round_sum = 0.0
    loop_lag = []
    for name, labels, value in samples(text):
        if name == "channelflow_event_loop_lag_seconds_bucket":
            loop_lag.append((float(labels["le"]), value))
        if name == "channelflow_events_consumed_total":
            if labels["verdict"] != "skipped" and labels["event_type"] != "RebatePeriodClosed":
                consumed += int(value)
        elif name == "channelflow_consumer_lag_messages":
            lag += int(value)
            series += 1
        elif name == "channelflow_round_seconds_sum" and labels["round"] == "recording":
            round_sum = value
        elif name == "channelflow_round_seconds_count" and labels["round"] == "recording":
            rounds = int(value)
    return Scrape(consumed, lag, series, round_sum, rounds, tuple(sorted(loop_lag)))


def loop_lag_note(buckets: tuple[tuple[float, float], ...]) -> str:
    """The event-loop lag histogram in words: its p99's bucket and the probes late by more
    than 50 and 100 ms."""
    if not buckets or not buckets[-1][1]:
        return "event-loop lag not measured"
    total = buckets[-1][1]
    p99 = next(le for le, n in buckets if n >= 0.99 * total)
    late = {le: total - n for le, n in buckets}
    return (
        f"event-loop lag (a probe every 20 ms): p99 ≤ {p99 * 1000:,.0f} ms; "
        f"{late.get(0.05, 0):,.0f} of {total:,.0f} probes late by more than 50 ms, "
        f"{late.get(0.1, 0):,.0f} by more than 100 ms"
    )


# -- PostgreSQL: a database of the run's own ---------------------------------------------------


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


# -- phases ------------------------------------------------------------------------------------


@dataclass
class StepResult:
    number: int
    events: int
    cumulative: int
    first_day: date
    end_day: date
    publish_seconds: float = 0.0
    ready_seconds: float = 0.0  # worker start -> /health
    apply_seconds: float = 0.0  # first applied -> all applied
    applied_in_window: int = 0  # events applied in that window
    from_start_seconds: float = 0.0  # worker start -> all applied
    rss_peak: int = 0
    rss_rest: int = 0
    latencies: Latencies = field(default_factory=Latencies)
    snapshot: list[float] = field(default_factory=list)
    snapshot_bytes: int = 0
    inventory_rows: int = 0
    expected_on_hand: int = 0
    restart_health: float = 0.0
    restart_first_inventory: float = 0.0
    restart_inventory: float = 0.0
    rounds: int = 0
    loop_lag: tuple[tuple[float, float], ...] = ()  # at the end of applying

    @property
    def apply_rate(self) -> float:
        return rate(self.applied_in_window, self.apply_seconds)


@dataclass
class LateResult:
    lines: int
    publish_seconds: float
    seconds: float  # publish start -> the statement shows them all
    round_seconds: float  # Σ recording rounds meanwhile
    rounds: int
    health: Latencies
    statement: list[float]
    finished: bool = True
    recorded: int = 0  # adjustments the statement lists for them

    @property
    def per_line_ms(self) -> float:
        return self.seconds / self.lines * 1000

    @property
    def round_ms_per_line(self) -> float:
        return self.round_seconds / self.lines * 1000


@dataclass
class Run:
    args: argparse.Namespace
    settings: Settings
    history: ChannelHistory
    worker: Worker
    token: str
    steps: list[StepResult] = field(default_factory=list)
    late: list[LateResult] = field(default_factory=list)
    published: Published = field(default_factory=Published)  # cumulative
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        progress(f"PROBLEM: {text}")
        self.problems.append(text)


def publish(settings: Settings, events: Iterable[Envelope]) -> tuple[int, float]:
    began = time.perf_counter()
    sent = asyncio.run(publish_events(settings, events))
    return sent, time.perf_counter() - began


def publish_step(run: Run, number: int) -> StepResult:
    step = run.history.steps[number - 1]
    result = StepResult(number, step.events, step.target, step.first_day, step.end_day)
    progress(
        f"step {number}: generating and publishing {step.events:,} events "
        f"({step.first_day} .. {step.end_day - timedelta(days=1)}, {', '.join(step.quarters)})"
    )
    stats = Published()
    sent, seconds = publish(run.settings, run.history.step(number, stats))
    if sent != step.events:
        raise BenchError(f"step {number}: published {sent:,} events, planned {step.events:,}")
    cumulative = run.published
    cumulative.events += stats.events
    cumulative.by_type.update(stats.by_type)
    for name in ("sale_lines", "resends", "conflicts", "late_lines", "below_floor", "sold"):
        setattr(cumulative, name, getattr(cumulative, name) + getattr(stats, name))
    cumulative.shipped += stats.shipped
    result.publish_seconds = seconds
    progress(
        f"step {number}: published {sent:,} in {seconds:.1f} s ({rate(sent, seconds):,.0f}/s, "
        f"generation included): {dict(stats.by_type)}"
    )
    return result


def apply_step(run: Run, result: StepResult) -> None:
    """Start the worker on the published step; sample every endpoint until it is applied."""
    worker, args = run.worker, run.args
    worker.start()
    deadline = worker.started_at + args.timeout
    wait_for(worker, lambda: worker.get("/health", 5).status == 200, args.timeout, "/health")
    result.ready_seconds = time.perf_counter() - worker.started_at
    progress(
        f"step {result.number}: worker {worker.pid} answers /health after "
        f"{result.ready_seconds:.1f} s; sampling {len(ENDPOINTS)} endpoints while it applies"
    )
    sampler = Sampler(worker.url, ENDPOINTS, run.token, args.pause)
    sampler.start()
    first: tuple[float, int] | None = None
    done_at: float | None = None
    last_report = time.perf_counter()
    peak = 0
    try:
        while True:
            worker.check_alive()
            answer = worker.get("/metrics")
            now = time.perf_counter()
            sampler.latencies.add("/metrics", answer)
            rss, hwm = worker.rss()
            peak = max(peak, rss, hwm)
            if answer.status == 200:
                seen = scrape(answer.body.decode())
                if first is None and seen.consumed > 0:
                    first = (now, seen.consumed)
                if done_at is None and seen.consumed >= result.events:
                    done_at = now
                if (
                    done_at is not None
                    and seen.lag == 0
                    and seen.lag_series == len(CONSUMED_TOPICS) * run.settings.partitions
                ):
                    result.loop_lag = seen.loop_lag
                    break
                if now - last_report >= 10 and first is not None:
                    last_report = now
                    progress(
                        f"  {seen.consumed:,} of {result.events:,} applied "
                        f"({rate(seen.consumed - first[1], now - first[0]):,.0f}/s), lag "
                        f"{seen.lag:,}, RSS {rss / 2**20:,.0f} MiB"
                    )
            if now >= deadline:
                raise BenchError(
                    f"step {result.number} not applied within {args.timeout:.0f} s of the start"
                )
            time.sleep(POLL_SECONDS)
    finally:
        result.latencies = merge(result.latencies, sampler.stop())
    assert first is not None and done_at is not None
    result.apply_seconds = done_at - first[0]
    result.applied_in_window = result.events - first[1]
    result.from_start_seconds = done_at - worker.started_at
    result.rss_peak = peak
    progress(
        f"step {result.number}: {result.events:,} applied in {result.apply_seconds:.1f} s from "
        f"the first applied ({result.apply_rate:,.0f}/s); RSS peak {peak / 2**20:,.0f} MiB"
    )


def merge(a: Latencies, b: Latencies) -> Latencies:
    for path, values in b.seconds.items():
        a.seconds.setdefault(path, []).extend(values)
    for path, errors in b.errors.items():
        a.errors.setdefault(path, []).extend(errors)
    return a


def due_quarters(run: Run, upto: date) -> set[str]:
    """Quarters of the history before `upto` whose grace has passed (wall clock)."""
    due = set()
    day = run.history.start
    today = datetime.now(UTC)
    while day < upto:
        end = next_quarter(day)
        if datetime.combine(end, datetime.min.time(), UTC) + timedelta(days=GRACE_DAYS) <= today:
            due.add(quarter_key(day))
        day = end
    return due


def at_rest(run: Run, result: StepResult) -> None:
    """The closes of past quarters applied; the figures checked; the snapshot timed."""
    worker, args = run.worker, run.args
    due = due_quarters(run, result.end_day)

    def all_closed() -> bool:
        rows = worker.get_json("/api/rebates?limit=10000")["rows"]
        return all(row["status"] == "closed" for row in rows if row["period"] in due)

    wait_for(worker, all_closed, args.timeout, f"the past quarters {sorted(due)} to close", 1.0)
    # closes are applied as input too: wait until the lag is 0 again
    wait_for(
        worker,
        lambda: scrape(worker.get_text("/metrics")).lag == 0,
        args.timeout,
        "the closes to be applied",
        0.5,
    )
    result.rss_rest = worker.rss()[0]
    check_figures(run, result)
    for _ in range(3):
        answer = worker.get(SNAPSHOT, timeout=600)
        result.snapshot.append(answer.seconds)
        result.snapshot_bytes = len(answer.body)
        if answer.status != 200:
            run.problem(f"GET {SNAPSHOT} at rest: {answer.status or 'no answer'} {answer.error}")
    progress(
        f"step {result.number}: at rest, RSS {result.rss_rest / 2**20:,.0f} MiB; snapshot "
        f"{result.snapshot_bytes / 2**20:,.1f} MiB in {min(result.snapshot):.2f} s"
    )


def check_figures(run: Run, result: StepResult) -> None:
    """What the API shows against what was generated (cumulative)."""
    worker, expected = run.worker, run.published
    inventory = inventory_answer(worker)
    sell_in = sum(int(row["sell_in"]) for row in inventory)
    sell_through = sum(int(row["sell_through"]) for row in inventory)
    quality = worker.get_json("/api/quality?limit=10000")["rows"]
    duplicates = sum(int(row["duplicates"]) for row in quality)
    conflicts = sum(int(row["conflicts"]) for row in quality)
    rejected = sum(int(row["rejected"]) for row in quality)
    violations = worker.get_json("/api/violations?limit=1")["total"]
    unpriced = worker.get_json("/api/unpriced?limit=1")["total"]
    checks = [
        ("Σ sell_in", sell_in, expected.shipped),
        ("Σ sell_through", sell_through, expected.sold),
        ("duplicates", duplicates, expected.resends),
        ("conflicts", conflicts, expected.conflicts),
        ("rejected", rejected, 0),
        ("violations", violations, expected.below_floor),
        ("unpriced", unpriced, 0),
    ]
    for name, got, want in checks:
        if got != want:
            run.problem(
                f"step {result.number}: {name} is {got:,}, the generated events say {want:,}"
            )
    progress(
        f"step {result.number}: checked " + ", ".join(f"{name} {got:,}" for name, got, _ in checks)
    )


def inventory_answer(worker: Worker) -> list[dict[str, Any]]:
    """Every row of /api/inventory (pages of 10,000)."""
    rows: list[dict[str, Any]] = []
    while True:
        page = worker.get_json(f"/api/inventory?limit=10000&offset={len(rows)}")
        rows.extend(page["rows"])
        if len(rows) >= page["total"] or not page["rows"]:
            return rows


def restart(run: Run, result: StepResult) -> None:
    """kill -9, restart with the same settings and data dir; time /health and /api/inventory."""
    worker, args = run.worker, run.args
    before = inventory_answer(worker)
    result.inventory_rows = len(before)
    result.expected_on_hand = sum(int(row["expected_on_hand"]) for row in before)
    progress(
        f"step {result.number}: /api/inventory: {len(before):,} rows, Σ expected_on_hand "
        f"{result.expected_on_hand:,}; kill -9 {worker.pid} and restart"
    )
    killed_at = time.perf_counter()
    worker.kill9()
    worker.start()

    def health() -> bool:
        return worker.get("/health", 5).status == 200

    wait_for(worker, health, args.timeout, "/health after the restart", 0.05)
    result.restart_health = time.perf_counter() - killed_at
    first_answer: float | None = None

    def same() -> bool:
        nonlocal first_answer
        answer = worker.get("/api/inventory?limit=10000", 30)
        if answer.status != 200:
            return False
        if first_answer is None:
            first_answer = time.perf_counter() - killed_at
        page = answer.json()
        if page["total"] != len(before):
            return False
        return (
            inventory_answer(worker) == before
            if page["total"] > 10_000
            else (page["rows"] == before)
        )

    wait_for(worker, same, args.timeout, "/api/inventory to answer as before the kill", 0.1)
    result.restart_inventory = time.perf_counter() - killed_at
    result.restart_first_inventory = first_answer or result.restart_inventory
    progress(
        f"step {result.number}: restarted: /health after {result.restart_health:.1f} s, "
        f"/api/inventory as before after {result.restart_inventory:.1f} s "
        f"(first answer after {result.restart_first_inventory:.1f} s)"
    )


def statement_path(period: str) -> str:
    return f"/api/rebates/statements/{SELL_THROUGH_PROGRAM}/{LATE_DISTRIBUTOR}/{period}"


def late_lines(run: Run) -> None:
    """Late lines in a closed quarter: time until the statement holds their adjustments."""
    worker, args, history = run.worker, run.args, run.history
    first = history.steps[0].first_day
    period = quarter_key(first)
    rows = worker.get_json(
        f"/api/rebates?program_id={SELL_THROUGH_PROGRAM}&period={period}"
        f"&distributor_id={LATE_DISTRIBUTOR}"
    )["rows"]
    if not rows or rows[0]["status"] != "closed":
        progress(f"late lines: closing {SELL_THROUGH_PROGRAM} {period} through the admin API")
        answer = request(
            f"{worker.url}/api/rebates/{SELL_THROUGH_PROGRAM}/{period}/close", run.token, "POST"
        )
        if answer.status != 202:
            raise BenchError(f"closing {period}: {answer.status} {answer.error}")
    found = wait_for(
        worker,
        lambda: (a := worker.get(statement_path(period))).status == 200 and a.json(),
        args.timeout,
        f"the statement {SELL_THROUGH_PROGRAM}/{LATE_DISTRIBUTOR}/{period}",
        1.0,
    )
    base = len(found["adjustments"])
    progress(f"late lines: statement {period} of {LATE_DISTRIBUTOR} has {base} adjustments")
    end = min(next_quarter(quarter_start(first)), history.end)
    for n in LATE_LINES:
        result = late_batch(run, period, first, end, n, base)
        run.late.append(result)
        if not result.finished:
            break
        base += n


def late_batch(run: Run, period: str, first: date, end: date, n: int, base: int) -> LateResult:
    """Publish `n` late lines; wait (bounded) until the statement lists their adjustments."""
    worker, args = run.worker, run.args
    lines = run.history.late_lines(n, LATE_DISTRIBUTOR, first, end, f"L{n}")
    before = scrape(worker.get_text("/metrics"))
    health = Sampler(worker.url, ("/health",), run.token, 0.05)
    health.start()
    statement: list[float] = []
    count = base
    rounds, last_round = before.round_count, time.perf_counter()
    began = time.perf_counter()
    finished = False
    try:
        sent, publish_seconds = publish(run.settings, lines)
        if sent != n:
            raise BenchError(f"published {sent} late lines of {n}")
        while True:
            worker.check_alive()
            answer = worker.get(statement_path(period))
            statement.append(answer.seconds)
            if answer.status == 200:
                count = len(answer.json()["adjustments"])
                if count >= base + n:
                    finished = True
                    break
            now = time.perf_counter()
            seen = scrape(worker.get_text("/metrics"))
            if seen.round_count != rounds:
                rounds, last_round = seen.round_count, now
            stalled = now - last_round >= STALL_SECONDS
            if stalled or now - began >= args.late_timeout:
                why = (
                    f"no recording round ended for {now - last_round:.0f} s"
                    if stalled
                    else f"not within {args.late_timeout:.0f} s"
                )
                run.problem(
                    f"late lines: {n:,} published, the statement lists {count - base:,} of their "
                    f"adjustments after {now - began:.0f} s ({why}; "
                    f"{seen.round_count - before.round_count} recording rounds ended since "
                    "publishing began)"
                )
                break
            time.sleep(0.5)
        seconds = time.perf_counter() - began
    finally:
        health_latencies = health.stop()
    after = before
    if finished:
        # the round that recorded the last of them is counted when it ends: wait for it
        done = scrape(worker.get_text("/metrics"))
        after = wait_for(
            worker,
            lambda: (m := scrape(worker.get_text("/metrics"))).round_count > done.round_count and m,
            STALL_SECONDS,
            "the recording round to end",
            0.2,
        )
        count = len(worker.get_json(statement_path(period))["adjustments"])
        if count != base + n:
            run.problem(f"late lines: the statement lists {count - base:,} adjustments for {n:,}")
    result = LateResult(
        n,
        publish_seconds,
        seconds,
        after.round_sum - before.round_sum,
        after.round_count - before.round_count,
        health_latencies,
        statement,
        finished,
        count - base,
    )
    polls = health_latencies.seconds.get("/health") or [0.0]
    p50, p99, top = stats_ms(polls)
    progress(
        f"late lines: {n:,} "
        + (
            f"recorded as adjustments {seconds:.1f} s after publishing began "
            f"({result.per_line_ms:.2f} ms a line)"
            if finished
            else f"NOT all recorded: {count - base:,} after {seconds:.0f} s"
        )
        + f"; /health p50 {p50:.0f} p99 {p99:.0f} max {top:.0f} ms"
    )
    return result


# -- the report ----------------------------------------------------------------------------


def mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def cell(values: list[float] | None) -> str:
    if not values:
        return "n/a"
    p50, p99, top = stats_ms(values)
    return f"{p50:,.0f} / {p99:,.0f} / {top:,.0f} ({len(values)})"


def worst_p99(result: StepResult) -> tuple[float, str]:
    return max(
        (stats_ms(values)[1], path) for path, values in result.latencies.seconds.items() if values
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(run: Run, wall_seconds: float) -> None:
    args, history, steps = run.args, run.history, run.steps
    weeks = (history.end - history.start).days / 7
    lines = [
        "# channelflow history scaling (issue 12)",
        "",
        f"Seed {args.seed}; steps {' / '.join(f'{t:,}' for t in history_targets(run))} events; "
        f"{len(history.dist_ids)} distributors, {len(history.sku_ids)} SKUs, "
        f"{len(history.dist_ids) * history.resellers_per:,} resellers; business dates "
        f"{history.start} .. {history.end - timedelta(days=1)} ({weeks:.0f} weeks); "
        f"{run.settings.partitions} partitions, the worker's defaults otherwise (batch "
        f"{run.settings.batch_size}, rebate grace {GRACE_DAYS} days); PostgreSQL event store "
        f"and read models (a database of the run's own); {os.cpu_count()} CPUs; measured "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')} on commit {revision()}; the whole run took "
        f"{wall_seconds / 60:.1f} min.",
        "",
        "## Steps",
        "",
        "| step | events (cumulative) | business dates | publish/s | apply rate (events/s) "
        "| ratio to step 1 | worst p99 while applying | RSS peak | RSS at rest "
        "| restart → /health | restart → /api/inventory |",
        "|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    first_rate = steps[0].apply_rate if steps and steps[0].apply_seconds else None
    for s in steps:
        ratio = f"{s.apply_rate / first_rate:.2f}" if first_rate and s.apply_seconds else "n/a"
        p99, path = worst_p99(s) if s.latencies.seconds else (float("nan"), "n/a")
        lines.append(
            f"| {s.number} | {s.events:,} ({s.cumulative:,}) | {s.first_day} .. "
            f"{s.end_day - timedelta(days=1)} | {rate(s.events, s.publish_seconds):,.0f} | "
            f"{s.apply_rate:,.0f} | {ratio} | {p99:,.0f} ms {path} | {mib(s.rss_peak)} | "
            f"{mib(s.rss_rest)} | {s.restart_health:.1f} s | {s.restart_inventory:.1f} s |"
        )
    lines += [
        "",
        "Publish/s: generating, encoding and producing the step (`publish_events`, acks=all), "
        "the worker stopped meanwhile. Apply rate: the step's events applied after the first "
        "scrape of `/metrics` (every 0.5 s) that shows applied events, over the seconds to the "
        "first scrape that shows them all (`channelflow_events_consumed_total` of the freshly "
        "started worker: every verdict, its own period closes and skipped redeliveries left "
        "out); the step is done when the consumer lag of every owned partition is 0 as well. "
        "RSS: VmRSS sampled every 0.5 s and the process's VmHWM, from start to applied. "
        "Restart: from the `kill -9` to the first `/health` 200 and to the first "
        "`/api/inventory` (all rows) equal to its answer before the kill.",
        "",
    ]
    for s in steps:
        lines.append(
            f"- step {s.number}: worker start → /health {s.ready_seconds:.1f} s; start → all "
            f"applied {s.from_start_seconds:.1f} s ({rate(s.events, s.from_start_seconds):,.0f}"
            f"/s); /api/inventory {s.inventory_rows:,} rows, Σ expected_on_hand "
            f"{s.expected_on_hand:,}; after the restart its first answer came after "
            f"{s.restart_first_inventory:.1f} s; {loop_lag_note(s.loop_lag)} while applying"
        )
    lines += [
        "",
        "## Endpoints while the worker applies",
        "",
        "Milliseconds: p50 / p99 / max (requests). One client requests the endpoints in turn, "
        f"{args.pause:g} s apart, with the admin token and default paging; /metrics also "
        "counts the progress scrapes.",
        "",
        "| endpoint | " + " | ".join(f"step {s.number}" for s in steps) + " |",
        "|---|" + "---|" * len(steps),
    ]
    for path in ENDPOINTS:
        lines.append(
            f"| `{path}` | " + " | ".join(cell(s.latencies.seconds.get(path)) for s in steps) + " |"
        )
    lines.append(
        f"| `{SNAPSHOT}` (the export of everything: at rest, not while applying) | "
        + " | ".join(
            f"{cell(s.snapshot)}, {s.snapshot_bytes / 2**20:,.1f} MiB" if s.snapshot else "n/a"
            for s in steps
        )
        + " |"
    )
    errors = [
        f"- step {s.number} `{path}`: {len(found)} failed, e.g. {found[0]}"
        for s in steps
        for path, found in s.latencies.errors.items()
    ]
    if errors:
        lines += ["", "Failed requests:", "", *errors]
    lines += ["", "## Late lines after a close", ""]
    if run.late:
        period = quarter_key(history.steps[0].first_day)
        lines += [
            f"Sale lines of {LATE_DISTRIBUTOR} dated in {period} (closed), published to the "
            f"running worker; timed from the start of publishing until GET "
            f"`{statement_path(period)}` lists that many more adjustments (polled every 0.5 s); "
            "/health polled every 0.05 s meanwhile.",
            "",
            "| late lines | publish | until all are adjustments | per line | recording rounds "
            "(Σ s, rounds) | statement GET p50 / p99 / max (n) | /health p50 / p99 / max (n) |",
            "|---:|---:|---:|---:|---:|---|---|",
        ]
        for late in run.late:
            until = (
                f"{late.seconds:.1f} s"
                if late.finished
                else f"not finished: {late.recorded:,} after {late.seconds:.0f} s"
            )
            per_line = f"{late.per_line_ms:.2f} ms" if late.finished else "n/a"
            lines.append(
                f"| {late.lines:,} | {late.publish_seconds:.1f} s | {until} | {per_line} | "
                f"{late.round_seconds:.1f} s, {late.rounds} | {cell(late.statement)} | "
                f"{cell(late.health.seconds.get('/health'))} |"
            )
        done = [late for late in run.late if late.finished]
        if len(done) >= 2:
            small, large = done[0], done[-1]
            rounds = (
                f"{large.round_ms_per_line / small.round_ms_per_line:.2f}"
                if small.round_seconds
                else "n/a"
            )
            lines += [
                "",
                f"Wall time per line, {large.lines:,} over {small.lines:,} lines: "
                f"{large.per_line_ms / small.per_line_ms:.2f} (fixed costs, such as waiting for "
                f"the next recording round every 10 s, spread over more lines); time in "
                f"recording rounds per line: {large.round_ms_per_line:.2f} vs "
                f"{small.round_ms_per_line:.2f} ms ({rounds}; 1 = linear).",
            ]
        health_errors = [
            f"{late.lines}: {e}" for late in run.late for e in late.health.errors.get("/health", [])
        ]
        if health_errors:
            lines += ["", "Failed /health polls: " + "; ".join(health_errors[:5])]
    else:
        lines.append("not measured (the run stopped before)")
    lines += ["", "## Targets", ""]
    lines += targets(run)
    problems = run.problems + run.worker.log_problems()[:20]
    if problems:
        lines += ["", "## Problems", "", *(f"- {p}" for p in problems)]
    print("\n".join(lines), flush=True)


def history_targets(run: Run) -> list[int]:
    return [step.target for step in run.history.steps]


def targets(run: Run) -> list[str]:
    steps = [s for s in run.steps if s.apply_seconds]
    if not steps:
        return ["not measured"]
    first, last = steps[0], steps[-1]
    at = (
        f"at {last.cumulative:,} events"
        if last.cumulative == 5_000_000
        else f"at {last.cumulative:,} events (the target is for 5,000,000)"
    )
    lines = []
    ratio = last.apply_rate / first.apply_rate
    lines.append(
        f"- last step's apply rate ≥ {TARGET_RATE_RATIO} × the first's: "
        f"**{verdict(ratio >= TARGET_RATE_RATIO)}** ({last.apply_rate:,.0f} / "
        f"{first.apply_rate:,.0f} = {ratio:.2f})"
    )
    over = sorted(
        ((stats_ms(v)[1], p) for p, v in last.latencies.seconds.items() if v),
        reverse=True,
    )
    slow = [f"{p} {ms:,.0f} ms" for ms, p in over if ms > TARGET_P99_MS]
    lines.append(
        f"- every endpoint's p99 ≤ {TARGET_P99_MS:.0f} ms while applying, {at}: "
        f"**{verdict(not slow)}**"
        + (
            f" ({len(slow)} over: {', '.join(slow)})"
            if slow
            else f" (worst {over[0][1]} {over[0][0]:,.0f} ms)"
        )
    )
    lines.append(
        f"- RSS ≤ 1 GiB {at}: **{verdict(last.rss_peak <= TARGET_RSS)}** "
        f"(peak {mib(last.rss_peak)})"
    )
    worst = max(s.restart_inventory for s in run.steps if s.restart_inventory)
    lines.append(
        f"- kill -9 + restart to a correct /health and /api/inventory ≤ {TARGET_RESTART_S:.0f} s "
        f"(every step): **{verdict(worst <= TARGET_RESTART_S)}** (worst {worst:.1f} s)"
    )
    unfinished = [late for late in run.late if not late.finished]
    if unfinished:
        late = unfinished[0]
        lines.append(
            f"- adjustments of {late.lines:,} late lines recorded in time linear in them: "
            f"**MISS** (not recorded: the statement lists {late.recorded:,} of them after "
            f"{late.seconds:.0f} s; see Problems)"
        )
    elif len(run.late) >= 2:
        small, large = run.late[0], run.late[-1]
        ratio = large.round_ms_per_line / small.round_ms_per_line if small.round_seconds else 0.0
        lines.append(
            f"- adjustments of {large.lines:,} late lines recorded in time linear in them "
            f"(recording-round time per line ≤ {TARGET_LINEAR} × that of {small.lines:,}): "
            f"**{verdict(ratio <= TARGET_LINEAR)}** ({large.round_ms_per_line:.2f} vs "
            f"{small.round_ms_per_line:.2f} ms a line, {ratio:.2f}; all recorded "
            f"{large.seconds:.1f} s after publishing began)"
        )
    if run.late:
        polls = [v for late in run.late for v in late.health.seconds.get("/health", [])]
        failed = sum(len(late.health.errors.get("/health", [])) for late in run.late)
        p99 = stats_ms(polls)[1]
        ok = failed == 0 and p99 <= TARGET_P99_MS
        lines.append(
            f"- /health keeps answering meanwhile (every poll 200, p99 ≤ {TARGET_P99_MS:.0f} ms): "
            f"**{verdict(ok)}** ({len(polls):,} polls, {failed} failed, p99 {p99:,.0f} ms, "
            f"max {max(polls) * 1000:,.0f} ms)"
        )
    return lines


# -- main ----------------------------------------------------------------------------------


def step_targets(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give event counts like 1000000,5000000"
        ) from None
    if not values or any(b <= a for a, b in zip([0, *values], values, strict=False)):
        raise argparse.ArgumentTypeError(f"{text!r}: the counts must be positive and increasing")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="history_scaling",
        description=(
            "Publish a generated channel history in steps (cumulative event counts) to a "
            "channelflow worker and measure, per step: the apply rate, every GET endpoint's "
            "latency while it applies, its RSS, and the time from a kill -9 + restart to a "
            "correct /health and /api/inventory; then how long 1,000 and 10,000 late lines "
            "after a close take to become adjustments (issue 12)."
        ),
        epilog=(
            "Targets (printed, never asserted): last step's apply rate >= 0.8 x the first's; "
            "every endpoint's p99 <= 100 ms and RSS <= 1 GiB at 5,000,000 events; restart to "
            "serving <= 10 s. Needs Kafka and PostgreSQL (make kafka-up pg-up)."
        ),
    )
    parser.add_argument(
        "--steps",
        type=step_targets,
        default=None,
        help=f"cumulative events after each step (default {DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a small run: --steps {QUICK_STEPS} (a few minutes)",
    )
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument(
        "--pg-dsn",
        default=DEFAULT_DSN,
        help="PostgreSQL server (its database is used to create and drop one for the run); "
        f"default {DEFAULT_DSN}",
    )
    parser.add_argument(
        "--kafka",
        default=os.environ.get("CHANNELFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        help="bootstrap servers (default $CHANNELFLOW_KAFKA_BOOTSTRAP or 127.0.0.1:9092)",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.05,
        help="seconds between two endpoint requests while a step is applied (default 0.05)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=14400.0,
        help="seconds allowed per phase (default 14400: applying 4,000,000 events at ~1,100/s "
        "takes about an hour here)",
    )
    parser.add_argument(
        "--late-timeout",
        type=float,
        default=600.0,
        help="seconds allowed for each batch of late lines to become adjustments (default 600; "
        f"it stops earlier when no recording round ends for {STALL_SECONDS:.0f} s)",
    )
    parser.add_argument(
        "--worker-loglevel", default="warning", help="the worker's --loglevel (default warning)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temp dir (worker.log, data dir), the topics and the run's database",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.steps is None:
        args.steps = step_targets(QUICK_STEPS if args.quick else DEFAULT_STEPS)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    tag = f"hist{uuid.uuid4().hex[:10]}"
    workdir = Path(tempfile.mkdtemp(prefix=f"channelflow-{tag}-"))
    token = secrets.token_urlsafe(24)
    began = time.perf_counter()
    run_dsn: str | None = None
    worker: Worker | None = None
    run: Run | None = None
    try:
        history = ChannelHistory(args.seed, args.steps, datetime.now(UTC).date())
        progress(
            f"run {tag}: topics {tag}.*, temp dir {workdir}; history {history.start} .. "
            f"{history.end - timedelta(days=1)}; steps "
            + "; ".join(
                f"{s.number}: {s.events:,} events, {', '.join(s.quarters)}" for s in history.steps
            )
        )
        run_dsn = run_database(args.pg_dsn, tag)
        settings = Settings(
            kafka_bootstrap=args.kafka,
            topic_prefix=tag,
            app_id=tag,
            web_port=free_port(),
            data_dir=str(workdir / "data"),
            eventstore_url=run_dsn,
        )
        worker = Worker(settings, workdir, token, args.worker_loglevel)
        run = Run(args, settings, history, worker, token)
        asyncio.run(ensure_topics(settings))
        names = [topic_name(tag, t) for t in (*RAW_TOPICS, DEAD_LETTER_TOPIC)]
        run_async(wait_for_leaders(args.kafka, names, settings.partitions), 120, "topic leaders")
        for step in history.steps:
            worker.stop()
            result = publish_step(run, step.number)
            run.steps.append(result)
            apply_step(run, result)
            at_rest(run, result)
            restart(run, result)
        late_lines(run)
        for s in run.steps:
            for path, errors in s.latencies.errors.items():
                run.problem(f"step {s.number}: {path} failed {len(errors)} times: {errors[0]}")
        worker.stop()
        if worker.ignored_sigterm:
            run.problem(
                f"the worker did not stop within 90 s of SIGTERM ({worker.ignored_sigterm} "
                "time(s)); it was killed"
            )
        report(run, time.perf_counter() - began)
        return 1 if run.problems else 0
    except BenchError as exc:
        print(f"history_scaling: error: {exc}", file=sys.stderr)
        if run is not None and run.steps and run.steps[0].apply_seconds:
            report(run, time.perf_counter() - began)
        return 1
    except KeyboardInterrupt:
        progress("interrupted")
        return 130
    finally:
        if worker is not None:
            worker.stop()
        if args.keep:
            progress(f"kept {workdir}, topics {tag}* and database {run_dsn}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            if run_dsn is not None:
                drop_database(args.pg_dsn, run_dsn)
            remove_topics(args.kafka, tag)


if __name__ == "__main__":
    sys.exit(main())
