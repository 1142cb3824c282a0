"""Progress on stderr: a bar on a terminal, plain lines (or nothing) anywhere else."""

from __future__ import annotations

import asyncio
import io

from streams.cli.progress import LOG_SECONDS, Progress, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_short_task_writes_nothing():
    log = io.StringIO()
    meter = Progress("checking", "lines", stream=log, clock=Clock())
    meter.tick(8)
    meter.close()
    assert log.getvalue() == ""


def test_off_a_terminal_a_long_task_writes_whole_lines():
    log, clock = io.StringIO(), Clock()
    meter = Progress("publishing", "events", total=400, stream=log, clock=clock)
    for _ in range(4):
        clock.now += LOG_SECONDS / 2
        meter.tick(50)
    clock.now += 1
    meter.update_to(400)
    meter.close()
    assert "\r" not in log.getvalue()
    assert log.getvalue().splitlines() == [
        "publishing: 100/400 events (25%) in 10 s, 10 events/s",
        "publishing: 200/400 events (50%) in 20 s, 10 events/s",
        "publishing done: 400/400 events (100%) in 21 s, 19 events/s",
    ]


def test_on_a_terminal_a_bar_with_the_time_left():
    screen = Terminal()
    meter = Progress("uploading", "events", total=9, stream=screen)
    meter.update_to(4)
    meter.update_to(9)
    meter.close()
    drawn = screen.getvalue()
    assert drawn.startswith("\ruploading:")
    last = drawn.rstrip("\n").rsplit("\r", 1)[-1]
    assert "100%" in last and "9/9" in last
    assert "<00:00" in last  # elapsed<remaining: the ETA


def test_the_count_is_read_while_a_task_runs():
    screen = Terminal()
    done = {"lines": 0}

    async def work() -> str:
        for _ in range(3):
            done["lines"] += 1
            await asyncio.sleep(0.01)
        return "result"

    async def run() -> str:
        meter = Progress("checking", "lines", count=lambda: done["lines"], stream=screen)
        return str(await meter.follow(asyncio.create_task(work())))

    assert asyncio.run(run()) == "result"
    assert "checking: 3 lines" in screen.getvalue().rsplit("\r", 1)[-1]


def test_items_pass_through_counted():
    assert list(progress(iter(range(5)), "replay")) == [0, 1, 2, 3, 4]
