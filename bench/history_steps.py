"""The steps of bench/history_scaling.py: publish a step to the stopped worker, apply it while
every endpoint is sampled, check it at rest, and time a kill -9 + restart."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.channel_steps import Published, next_quarter, quarter_key
from bench.common import BenchError, progress, rate
from bench.history_client import (
    ENDPOINTS,
    SNAPSHOT,
    Sampler,
    Worker,
    loop_lag_note,
    merge,
    scrape,
    wait_for,
)
from bench.history_run import GRACE_DAYS, POLL_SECONDS, Run, StepResult, publish
from streams.worker.app import CONSUMED_TOPICS


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


def start_worker(run: Run, result: StepResult) -> None:
    """Start the worker on the data dir and wait until /health answers."""
    worker, args = run.worker, run.args
    worker.start()
    wait_for(worker, lambda: worker.get("/health", 5).status == 200, args.timeout, "/health")
    result.ready_seconds = time.perf_counter() - worker.started_at
    progress(
        f"step {result.number}: worker {worker.pid} answers /health after "
        f"{result.ready_seconds:.1f} s; sampling {len(ENDPOINTS)} endpoints while it applies"
    )


def apply_step(run: Run, result: StepResult) -> None:
    """Start the worker on the published step; sample every endpoint until it is applied."""
    worker, args = run.worker, run.args
    start_worker(run, result)
    deadline = worker.started_at + args.timeout
    sampler = Sampler(run.reader.url, ENDPOINTS, run.token, args.pause)
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
            if run.api is None:  # else the worker's /metrics is not what is sampled
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
    if run.api is not None:
        rss, hwm = run.api.rss()
        progress(f"  the API process: RSS {rss / 2**20:,.0f} MiB (peak {hwm / 2**20:,.0f} MiB)")
        lag = scrape(run.api.get_text("/metrics")).loop_lag
        progress(f"  the API process since its start: {loop_lag_note(lag)}")


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
