"""Progress of a long command on stderr, as a user of command-line tools expects it.

On a terminal: a tqdm bar (with the share done and the time left when the total is known,
else the count and rate), redrawn in place. Anywhere else (a pipe, a log file, a CI job):
no carriage returns and nothing for a short task; a plain line every `LOG_SECONDS` while a
long one runs, and a last line when it ends.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

#: how often a progress line is written when stderr is not a terminal
LOG_SECONDS = 10.0
#: how often a terminal's bar is redrawn at most
REDRAW_SECONDS = 0.2


class Progress:
    """Counts `unit`s done, out of `total` when known. `tick` adds to the count; a `count`
    callable, when given, is read instead by `poll` (and `follow`)."""

    def __init__(
        self,
        label: str,
        unit: str = "events",
        total: int | None = None,
        count: Callable[[], int] | None = None,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.unit, self.total, self.count = label, unit, total, count
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.done = 0
        self.started = self.logged = clock()
        self.lines_written = 0
        self.bar: tqdm[Any] | None = None
        if _is_terminal(self.stream):
            self.bar = tqdm(
                total=total,
                desc=label,
                unit="B" if unit == "bytes" else f" {unit}",
                unit_scale=unit == "bytes",
                unit_divisor=1024 if unit == "bytes" else 1000,
                file=self.stream,
                mininterval=REDRAW_SECONDS,
                dynamic_ncols=True,
            )

    def tick(self, n: int = 1) -> None:
        self.update_to(self.done + n)

    def update_to(self, done: int) -> None:
        """Set the count done so far."""
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.done = done
            return
        self.done = done
        now = self.clock()
        if now - self.logged >= LOG_SECONDS:
            self.logged = now
            self._line(now, "")

    def poll(self) -> None:
        """Take the count from the `count` callable."""
        if self.count is not None:
            self.update_to(self.count())

    def close(self) -> None:
        """End the bar; off a terminal, a last line when a line was written before."""
        self.poll()
        if self.bar is not None:
            self.bar.close()
        elif self.lines_written:
            self._line(self.clock(), " done")

    async def follow(self, task: asyncio.Task[Any]) -> Any:
        """Show the count while `task` runs; its result (or exception) when it is done."""
        try:
            while not task.done():
                self.poll()
                await asyncio.sleep(REDRAW_SECONDS)
        finally:
            self.close()
        return task.result()

    def _line(self, now: float, state: str) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            counted = f"{self.done:,}/{self.total:,} {self.unit} ({self.done / self.total:.0%})"
        else:
            counted = f"{self.done:,} {self.unit}"
        print(
            f"{self.label}{state}: {counted} in {elapsed:,.0f} s, {rate:,.0f} {self.unit}/s",
            file=self.stream,
            flush=True,
        )
        self.lines_written += 1


def progress(items: Iterable[T], label: str, unit: str = "events") -> Iterator[T]:
    """Pass items through, counting them on stderr."""
    meter = Progress(label, unit)
    try:
        for item in items:
            yield item
            meter.tick()
    finally:
        meter.close()


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
