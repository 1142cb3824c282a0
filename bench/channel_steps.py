"""How bench/channel_history.py cuts its history into steps, and spreads a step's lines.

Quarters, the steps (cut at quarter starts, each step's share of days close to its share of
events), what a published step holds, when the weekly reports come, and the exact integer
spreading of sale lines over days and distributors and of resends over days. Nothing here
draws from the history's generator (the reports' days come from generators of their own).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random

from streams.channel_events import at

#: the history starts at least this many weeks before today
MIN_WEEKS = 60
#: an exact resend for every this many original sale lines
RESEND_EVERY = 200
CONFLICTS_PER_STEP = 3
LATE_LINES_PER_STEP = 20


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter(start: date) -> date:
    return date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)


def quarter_key(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Step:
    """One step: the days [first_day, end_day) and how many events it holds."""

    number: int  # 1-based
    first_day: date
    end_day: date  # exclusive
    target: int  # cumulative events once this step is published
    events: int  # events of this step (the first one includes the reference data)

    @property
    def days(self) -> int:
        return (self.end_day - self.first_day).days

    @property
    def quarters(self) -> list[str]:
        keys: list[str] = []
        day = quarter_start(self.first_day)
        while day < self.end_day:
            keys.append(quarter_key(day))
            day = next_quarter(day)
        return keys


@dataclass
class Published:
    """What a step holds, for the bench's checks."""

    events: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    sale_lines: int = 0  # original lines, accepted once (late lines included)
    resends: int = 0  # exact duplicates: counted, not applied
    conflicts: int = 0  # same key, other content: dead-lettered
    late_lines: int = 0
    below_floor: int = 0  # original lines sold under the floor in effect: violations
    sold: int = 0  # Σ quantity of the original lines (returns negative)
    shipped: int = 0  # Σ quantity shipped


def history_start(today: date, steps: int) -> date:
    """The latest quarter start at least MIN_WEEKS before today, earlier still if the
    steps need more quarters than that."""
    start = quarter_start(today - timedelta(weeks=MIN_WEEKS))
    while True:
        quarters = 0
        day = start
        while day < today:
            quarters += 1
            day = next_quarter(day)
        if quarters >= steps and (today - start).days >= 7:
            return start
        start = quarter_start(start - timedelta(days=1))


def layout(start: date, end: date, targets: list[int]) -> list[Step]:
    """Cut [start, end) at quarter starts, each step's share of days close to its share
    of events, at least one quarter per step."""
    bounds = [start]
    day = next_quarter(start)
    while day < end:
        bounds.append(day)
        day = next_quarter(day)
    total_days = (end - start).days
    cuts: list[int] = []  # indexes into bounds of each step's first day (after the first)
    last = 0
    for i, target in enumerate(targets[:-1]):
        wanted = target / targets[-1] * total_days
        remaining = len(targets) - 1 - i  # steps after this one, one quarter each
        choices = range(last + 1, len(bounds) - remaining + 1)
        best = min(choices, key=lambda j: abs((bounds[j] - start).days - wanted))
        cuts.append(best)
        last = best
    firsts = [start, *(bounds[j] for j in cuts)]
    ends = [*(bounds[j] for j in cuts), end]
    steps = []
    previous = 0
    for n, (first, step_end, target) in enumerate(zip(firsts, ends, targets, strict=True), 1):
        steps.append(Step(n, first, step_end, target, target - previous))
        previous = target
    return steps


def plan_step(
    step: Step, channel: tuple[int, int], headers: int, opening: int
) -> tuple[int, int, int, int, int, int]:
    """(shipments per distributor and Monday, counts per distributor and month end, fixed
    events, sale lines, resends, late lines) of a step of a channel of (distributors, SKUs)
    with `headers` report headers and `opening` reference and opening-stock events."""
    distributors, skus = channel
    days = [step.first_day + timedelta(days=n) for n in range(step.days)]
    mondays = sum(1 for day in days if day.weekday() == 0)
    month_ends = sum(1 for day in days if (day + timedelta(days=1)).day == 1)
    weeks = max(step.days / 7, 1)
    per_dist_week = step.events / weeks / distributors
    n_ship = max(2, min(skus, round(0.1 * per_dist_week)))
    n_count = max(2, min(skus, round(0.1 * per_dist_week)))
    late = LATE_LINES_PER_STEP if step.number > 1 else 0
    fixed = (
        distributors * (n_ship * mondays + n_count * month_ends)
        + headers
        + CONFLICTS_PER_STEP
        + late
        + opening
    )
    rest = step.events - fixed
    if rest < 10 * RESEND_EVERY:
        raise ValueError(
            f"step {step.number} ({step.events:,} events over {step.days} days) is too small "
            f"for its {fixed:,} shipments, counts, reports and reference events"
        )
    sales = rest * RESEND_EVERY // (RESEND_EVERY + 1)
    return n_ship, n_count, fixed, sales, rest - sales, late


def lines_per_day(days: list[date], sizes: list[int], sales: int) -> list[list[int]]:
    """Sale lines per (day, distributor), exactly `sales` in all: weekdays busier
    than Saturdays, Saturdays than Sundays; bigger distributors (`sizes`) more."""
    day_weight = [10 if day.weekday() < 5 else (4 if day.weekday() == 5 else 2) for day in days]
    total = sum(day_weight) * sum(sizes)
    per_day: list[list[int]] = []
    cumulative = assigned = 0
    for w in day_weight:
        row = []
        for size in sizes:
            cumulative += w * size
            n = sales * cumulative // total - assigned
            assigned += n
            row.append(n)
        per_day.append(row)
    return per_day


def resends_per_day(day_sales: list[int], resends: int, sales: int) -> list[int]:
    """`resends` spread over the days in proportion to their sale lines."""
    resend_of_day = []
    cumulative = assigned = 0
    for n in day_sales:
        cumulative += n
        k = resends * cumulative // sales - assigned
        assigned += k
        resend_of_day.append(k)
    return resend_of_day


def report_of(seed: int, distributor: str, monday: date, last: bool) -> tuple[datetime, bool]:
    """When a distributor submits the report of the week starting `monday`, and whether it
    never does (only the `last` distributor skips a few; keyed draws: known before the week
    is generated)."""
    rng = Random(f"{seed}:report:{distributor}:{monday.isoformat()}")
    late = rng.random() < 0.1
    day = monday + timedelta(days=7 + (rng.randint(3, 5) if late else rng.randint(0, 2)))
    skipped = last and rng.random() < 0.04
    return at(day, rng.randint(8 * 3600, 18 * 3600)), skipped


def reports_submitted(
    seed: int, dist_ids: list[str], history: tuple[date, date], window: tuple[date, date]
) -> list[tuple[datetime, str, date]]:
    """(submitted_at, distributor, monday) of the reports of a history [start, end)
    submitted in the `window` [first, end)."""
    (start, history_end), (first, end) = history, window
    found = []
    monday = start - timedelta(days=start.weekday())
    while monday < end:
        for d in dist_ids:
            submitted, skipped = report_of(seed, d, monday, d == dist_ids[-1])
            if not skipped and at(first) <= submitted < at(min(end, history_end)):
                found.append((submitted, d, monday))
        monday += timedelta(weeks=1)
    return found
