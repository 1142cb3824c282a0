"""The Markdown report of bench/history_scaling.py and its targets (printed, never asserted)."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from bench.channel_steps import quarter_key
from bench.common import rate, revision, verdict
from bench.history_client import ENDPOINTS, SNAPSHOT, loop_lag_note, stats_ms
from bench.history_late import statement_path
from bench.history_run import GRACE_DAYS, LATE_DISTRIBUTOR, LateResult, Run, StepResult

TARGET_RATE_RATIO = 0.8
TARGET_P99_MS = 100.0
TARGET_RSS = 1024**3
TARGET_RESTART_S = 10.0
TARGET_LINEAR = 1.5  # recording time per line of the larger late batch / of the smaller one


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


def report(run: Run, wall_seconds: float) -> None:
    """Print the run's Markdown report to stdout."""
    lines = [
        *intro(run, wall_seconds),
        *steps_section(run.steps),
        *endpoints_section(run.steps, run.args.pause),
        *late_section(run),
        "",
        "## Targets",
        "",
        *targets(run),
    ]
    problems = run.problems + run.worker.log_problems()[:20]
    if problems:
        lines += ["", "## Problems", "", *(f"- {p}" for p in problems)]
    print("\n".join(lines), flush=True)


def intro(run: Run, wall_seconds: float) -> list[str]:
    args, history = run.args, run.history
    weeks = (history.end - history.start).days / 7
    return [
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
    ]


def steps_section(steps: list[StepResult]) -> list[str]:
    lines = [
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
    return lines


def endpoints_section(steps: list[StepResult], pause: float) -> list[str]:
    lines = [
        "",
        "## Endpoints while the worker applies",
        "",
        "Milliseconds: p50 / p99 / max (requests). One client requests the endpoints in turn, "
        f"{pause:g} s apart, with the admin token and default paging; /metrics also "
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
    return lines


def late_section(run: Run) -> list[str]:
    lines = ["", "## Late lines after a close", ""]
    if not run.late:
        return [*lines, "not measured (the run stopped before)"]
    period = quarter_key(run.history.steps[0].first_day)
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
    lines += late_ratio(run.late)
    health_errors = [
        f"{late.lines}: {e}" for late in run.late for e in late.health.errors.get("/health", [])
    ]
    if health_errors:
        lines += ["", "Failed /health polls: " + "; ".join(health_errors[:5])]
    return lines


def late_ratio(late: list[LateResult]) -> list[str]:
    """Per-line figures of the largest finished batch against the smallest's."""
    done = [batch for batch in late if batch.finished]
    if len(done) < 2:
        return []
    small, large = done[0], done[-1]
    rounds = (
        f"{large.round_ms_per_line / small.round_ms_per_line:.2f}" if small.round_seconds else "n/a"
    )
    return [
        "",
        f"Wall time per line, {large.lines:,} over {small.lines:,} lines: "
        f"{large.per_line_ms / small.per_line_ms:.2f} (fixed costs, such as waiting for "
        f"the next recording round every 10 s, spread over more lines); time in "
        f"recording rounds per line: {large.round_ms_per_line:.2f} vs "
        f"{small.round_ms_per_line:.2f} ms ({rounds}; 1 = linear).",
    ]


def history_targets(run: Run) -> list[int]:
    return [step.target for step in run.history.steps]


def targets(run: Run) -> list[str]:
    steps = [s for s in run.steps if s.apply_seconds]
    if not steps:
        return ["not measured"]
    return [*applying_targets(run.steps, steps), *late_targets(run.late)]


def applying_targets(every: list[StepResult], applied: list[StepResult]) -> list[str]:
    """The apply-rate, latency, RSS and restart targets (`applied`: the steps with a rate)."""
    first, last = applied[0], applied[-1]
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
    worst = max(s.restart_inventory for s in every if s.restart_inventory)
    lines.append(
        f"- kill -9 + restart to a correct /health and /api/inventory ≤ {TARGET_RESTART_S:.0f} s "
        f"(every step): **{verdict(worst <= TARGET_RESTART_S)}** (worst {worst:.1f} s)"
    )
    return lines


def late_targets(late: list[LateResult]) -> list[str]:
    """The late-lines targets: recorded in time linear in them, /health answering meanwhile."""
    lines = []
    unfinished = [batch for batch in late if not batch.finished]
    if unfinished:
        batch = unfinished[0]
        lines.append(
            f"- adjustments of {batch.lines:,} late lines recorded in time linear in them: "
            f"**MISS** (not recorded: the statement lists {batch.recorded:,} of them after "
            f"{batch.seconds:.0f} s; see Problems)"
        )
    elif len(late) >= 2:
        small, large = late[0], late[-1]
        ratio = large.round_ms_per_line / small.round_ms_per_line if small.round_seconds else 0.0
        lines.append(
            f"- adjustments of {large.lines:,} late lines recorded in time linear in them "
            f"(recording-round time per line ≤ {TARGET_LINEAR} × that of {small.lines:,}): "
            f"**{verdict(ratio <= TARGET_LINEAR)}** ({large.round_ms_per_line:.2f} vs "
            f"{small.round_ms_per_line:.2f} ms a line, {ratio:.2f}; all recorded "
            f"{large.seconds:.1f} s after publishing began)"
        )
    if late:
        polls = [v for batch in late for v in batch.health.seconds.get("/health", [])]
        failed = sum(len(batch.health.errors.get("/health", [])) for batch in late)
        p99 = stats_ms(polls)[1]
        ok = failed == 0 and p99 <= TARGET_P99_MS
        lines.append(
            f"- /health keeps answering meanwhile (every poll 200, p99 ≤ {TARGET_P99_MS:.0f} ms): "
            f"**{verdict(ok)}** ({len(polls):,} polls, {failed} failed, p99 {p99:,.0f} ms, "
            f"max {max(polls) * 1000:,.0f} ms)"
        )
    return lines
