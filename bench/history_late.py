"""The late-lines phase of bench/history_scaling.py: sale lines dated in a closed quarter,
timed until the statement lists their adjustments."""

from __future__ import annotations

import time
from datetime import date

from bench.channel_reference import SELL_THROUGH_PROGRAM
from bench.channel_steps import next_quarter, quarter_key, quarter_start
from bench.common import BenchError, progress
from bench.history_client import Sampler, Scrape, request, scrape, stats_ms, wait_for
from bench.history_run import LATE_DISTRIBUTOR, LATE_LINES, STALL_SECONDS, LateResult, Run, publish


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
    worker = run.worker
    lines = run.history.late_lines(n, LATE_DISTRIBUTOR, first, end, f"L{n}")
    before = scrape(worker.get_text("/metrics"))
    health = Sampler(worker.url, ("/health",), run.token, 0.05)
    health.start()
    statement: list[float] = []
    began = time.perf_counter()
    try:
        sent, publish_seconds = publish(run.settings, lines)
        if sent != n:
            raise BenchError(f"published {sent} late lines of {n}")
        finished, count = wait_recorded(run, period, n, base, before, began, statement)
        seconds = time.perf_counter() - began
    finally:
        health_latencies = health.stop()
    after = before
    if finished:
        after, count = round_ended(run, period, n, base)
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
    note_batch(result)
    return result


def wait_recorded(
    run: Run,
    period: str,
    n: int,
    base: int,
    before: Scrape,
    began: float,
    statement: list[float],
) -> tuple[bool, int]:
    """Poll the statement until it lists the `n` adjustments beyond `base`, or
    recording stalls or the late timeout passes (a problem then); whether they all came, and
    how many the statement listed (GET latencies appended to `statement`)."""
    worker, args = run.worker, run.args
    count = base
    rounds, last_round = before.round_count, began
    while True:
        worker.check_alive()
        answer = worker.get(statement_path(period))
        statement.append(answer.seconds)
        if answer.status == 200:
            count = len(answer.json()["adjustments"])
            if count >= base + n:
                return True, count
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
            return False, count
        time.sleep(0.5)


def round_ended(run: Run, period: str, n: int, base: int) -> tuple[Scrape, int]:
    """The metrics once the round that recorded the last late line has ended (it is counted
    when it ends), and the adjustments the statement then lists."""
    worker = run.worker
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
    return after, count


def note_batch(result: LateResult) -> None:
    polls = result.health.seconds.get("/health") or [0.0]
    p50, p99, top = stats_ms(polls)
    progress(
        f"late lines: {result.lines:,} "
        + (
            f"recorded as adjustments {result.seconds:.1f} s after publishing began "
            f"({result.per_line_ms:.2f} ms a line)"
            if result.finished
            else f"NOT all recorded: {result.recorded:,} after {result.seconds:.0f} s"
        )
        + f"; /health p50 {p50:.0f} p99 {p99:.0f} max {top:.0f} ms"
    )
