"""The state of a bench/history_scaling.py run: its settings and results, its own PostgreSQL
database, and publishing events."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from bench.channel_history import ChannelHistory
from bench.channel_steps import Published
from bench.common import progress, rate
from bench.history_client import Latencies, Worker
from schemas.events import Envelope
from streams.config import Settings
from streams.kafka.io import publish_events

LATE_LINES = (1_000, 10_000)
LATE_DISTRIBUTOR = "D01"
POLL_SECONDS = 0.5
#: no recording round ended for this long while adjustments are missing: stalled
STALL_SECONDS = 120.0
GRACE_DAYS = Settings().rebate_grace_days


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
    #: `--api-process`: the API process beside the worker, which the endpoints are read from
    api: Worker | None = None

    @property
    def reader(self) -> Worker:
        """Where the endpoints are sampled: the API process when there is one."""
        return self.api or self.worker

    published: Published = field(default_factory=Published)  # cumulative
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        progress(f"PROBLEM: {text}")
        self.problems.append(text)


def publish(settings: Settings, events: Iterable[Envelope]) -> tuple[int, float]:
    began = time.perf_counter()
    sent = asyncio.run(publish_events(settings, events))
    return sent, time.perf_counter() - began
