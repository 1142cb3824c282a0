"""A run of bench/throughput.py: its settings per phase, its workers, the figures it found
(one `Row` each) and the table they are printed in."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    WorkerProcess,
    free_port,
    machine,
    progress,
    verdict,
    worker_group,
)
from streams.config import Settings


@dataclass(frozen=True)
class Row:
    figure: str
    value: float | None  # None: not measured (see note)
    unit: str
    raw: str = ""  # the ratio to the raw baseline of the same run, where it means something
    target: str = ""
    ok: bool | None = None  # None: no target
    note: str = ""
    at_least: bool = False  # the value is a lower bound


@dataclass
class Run:
    args: argparse.Namespace
    tag: str
    workdir: Path
    rows: list[Row] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)

    def settings(self, name: str, partitions: int | None = None) -> Settings:
        """A topic set of its own (prefix, app id, data dir, port) for one phase, of
        `partitions` partitions (default --partitions)."""
        prefix = f"{self.tag}{name}"
        data = self.workdir / name
        data.mkdir(exist_ok=True)
        return Settings(
            kafka_bootstrap=self.args.kafka,
            topic_prefix=prefix,
            app_id=prefix,
            partitions=partitions or self.args.partitions,
            web_port=free_port(),
            data_dir=str(data / "data"),
            eventstore_url=f"sqlite:///{data / 'audit.db'}",
        )

    def worker(self, settings: Settings) -> WorkerProcess:
        worker = WorkerProcess(settings, Path(settings.data_dir).parent)
        self.workers.append(worker)
        return worker

    def group(self, settings: Settings, count: int) -> list[WorkerProcess]:
        """`count` workers of one consumer group on the phase's topics (`worker_group`)."""
        workers = worker_group(settings, Path(settings.data_dir).parent, count)
        self.workers += workers
        return workers

    def add(self, row: Row) -> None:
        self.rows.append(row)
        shown = "skipped" if row.value is None else f"{row.value:,.0f} {row.unit}"
        progress(f"== {row.figure}: {shown}")


def ratio(value: float, base: float) -> str:
    return f"{value / base:.3f}" if base else ""


def table(run: Run, seconds: float) -> str:
    a = run.args
    lines = [
        "",
        f"channelflow throughput (issue 14), {machine()}; the run took {seconds:.0f} s",
        f"single {a.single:,} sales, bundled {a.bundled:,} sales (bundles of {a.bundle}), CSV "
        f"{a.csv_lines:,} lines, latency {a.rate:,.0f} lines/s for {a.seconds:.0f} s, "
        f"{a.partitions} partitions",
        "",
        f"| {'figure':<56} | {'value':>18} | {'vs raw':>6} | {'target':<44} | verdict |",
        f"|{'-' * 58}|{'-' * 19}:|{'-' * 7}:|{'-' * 46}|---------|",
    ]
    for row in run.rows:
        value = "—" if row.value is None else f"{row.value:,.0f} {row.unit}"
        if row.at_least:
            value = f"> {value}"
        ok = "" if row.ok is None else verdict(row.ok)
        lines.append(
            f"| {row.figure:<56} | {value:>18} | {row.raw:>6} | {row.target:<44} | {ok:<7} |"
        )
    notes = [f"- {row.figure}: {row.note}" for row in run.rows if row.note]
    return "\n".join([*lines, "", *notes])
