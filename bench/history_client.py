"""The HTTP side of bench/history_scaling.py: requests and their latencies, the endpoint
sampler, the run's worker and what its /metrics say."""

from __future__ import annotations

import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.common import BenchError, WorkerProcess, samples
from streams.auth import token_hash
from streams.config import Settings

REQUEST_TIMEOUT = 60.0
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
    """The run's worker (or its API process), with an admin token; its answers as
    `Answer`s."""

    def __init__(
        self, settings: Settings, workdir: Path, token: str, loglevel: str, command: str = "worker"
    ) -> None:
        tokens = [{"sha256": token_hash(token), "role": "admin", "actor": "bench"}]
        env = {"CHANNELFLOW_TOKENS": orjson.dumps(tokens).decode()}
        super().__init__(settings, workdir, loglevel, env, command=command)
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


def merge(a: Latencies, b: Latencies) -> Latencies:
    for path, values in b.seconds.items():
        a.seconds.setdefault(path, []).extend(values)
    for path, errors in b.errors.items():
        a.errors.setdefault(path, []).extend(errors)
    return a
