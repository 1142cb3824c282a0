"""A long, deterministic channel history for bench/history_scaling.py, generated in steps.

50 distributors (D01..D50), 200 SKUs, 20 resellers each, list prices with cost drops and two
distributor-specific prices, two quarterly rebate programs, then day by day: Monday
replenishment shipments, daily sell-through lines (returns, ~1 % below the floor, exact
resends and a few conflicting ones) carrying their weekly report's id, the weekly
`ReportSubmitted` headers (~10 % late, a few never sent) and month-end counts.

The history runs from the start of a quarter at least 60 weeks ago up to the end of
yesterday (UTC), and is cut into steps at quarter starts: each step covers its own quarters,
in time order, and the reference data (products, programs, prices, resellers) is published
first, with the first step. Every step has exactly the number of events asked for (the sale
lines fill what the other events leave). From the second step on, a step begins with a few
late sale lines dated in the previous step's last quarter, which was closed by then: the
"late lines after a close" of issue 12.

Everything is drawn from `random.Random` seeded by `seed` (and keyed by it): the same seed,
steps and end date give the same events. Steps are generated lazily, one day at a time, and
must be asked for in order; nothing holds a whole step in memory.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random

from bench.channel_reference import ChannelShape, make_reference
from bench.channel_steps import (
    CONFLICTS_PER_STEP,
    Published,
    Step,
    history_start,
    layout,
    lines_per_day,
    plan_step,
    quarter_start,
    reports_submitted,
    resends_per_day,
)
from schemas.events import (
    Envelope,
    InventoryCounted,
    ReportSubmitted,
    SaleReported,
    ShipmentRecorded,
    Source,
)
from streams.channel_events import (
    QUANTITIES,
    at,
    inventory_counted,
    money,
    new_uuid,
    report_submitted,
    sale_reported,
    shipment_recorded,
    weekly_report_id,
)

#: the distributor whose late lines come in each step after the first
LATE_DISTRIBUTOR = "D03"

_ABOVE = tuple(Decimal(n) / 100 for n in range(100, 126))  # x floor: at or above it
_BELOW = tuple(Decimal(n) / 1000 for n in range(700, 996, 5))  # x floor: under it
_SOURCES: tuple[Source, ...] = ("api", "kafka", "csv")
#: a step's day: (shipments per distributor and Monday, counts per distributor and month
#: end, each distributor's weekly lines)
_DayPlan = tuple[int, int, list[float]]


class ChannelHistory:
    """The history of one run: `reference()` first, then `step(1)`, `step(2)`, ... in order."""

    def __init__(
        self,
        seed: int,
        targets: list[int],
        today: date,
        distributors: int = 50,
        skus: int = 200,
        resellers: int = 20,
    ) -> None:
        if not targets or any(b <= a for a, b in itertools.pairwise([0, *targets])):
            raise ValueError("step targets must be positive and increasing")
        self.seed = seed
        self.rng = Random(seed)
        self.today = today
        self.dist_ids = [f"D{n:02d}" for n in range(1, distributors + 1)]
        self.sku_ids = [f"SKU-{n:04d}" for n in range(1, skus + 1)]
        self.resellers_per = resellers
        self.source = {d: _SOURCES[i % len(_SOURCES)] for i, d in enumerate(self.dist_ids)}
        # distributor size (integer weights: exact allocation) and SKU popularity
        self.size = [round(1000 / (1 + 0.06 * i)) for i in range(distributors)]
        popularity = [1 / (rank + 1) ** 0.8 for rank in range(skus)]
        self.rng.shuffle(popularity)
        total = sum(popularity)
        self.share = [p / total for p in popularity]
        self.sku_cum = list(itertools.accumulate(popularity))
        self.reseller_cum = list(itertools.accumulate(1 / (r + 1) ** 1.1 for r in range(resellers)))
        self.mean_qty = sum(QUANTITIES) / len(QUANTITIES)

        self.start = history_start(today, len(targets))
        self.end = today  # exclusive: the history ends with yesterday
        self.steps = layout(self.start, self.end, targets)

        self.case = {sku: 12 for sku in self.sku_ids if self.rng.random() < 0.3}
        shape = ChannelShape(
            self.dist_ids, self.sku_ids, self.source, self.case, resellers, self.start, self.end
        )
        reference = make_reference(self.rng, shape)
        self._reference = reference.events
        self.prices, self.resellers = reference.prices, reference.resellers
        self.buys_from = reference.buys_from
        if self._reference_count() + self._opening_count() >= self.steps[0].events:
            raise ValueError(
                f"the first step ({self.steps[0].events:,} events) must hold more than the "
                f"reference data and opening stock ({self._reference_count():,} + "
                f"{self._opening_count():,})"
            )
        self.on_hand: dict[tuple[str, str], int] = dict.fromkeys(
            ((d, s) for d in self.dist_ids for s in self.sku_ids), 0
        )
        self.txn = dict.fromkeys(self.dist_ids, 0)
        self.ship_seq = 0
        self.report_lines: Counter[tuple[str, date]] = Counter()
        self.next_step = 1

    def _reference_count(self) -> int:
        return len(self._reference)

    def _opening_count(self) -> int:
        return len(self.dist_ids) * len(self.sku_ids)

    def reference(self) -> list[Envelope]:
        """Products, programs, prices and resellers: published before the first step's
        movements, and counted in it."""
        return list(self._reference)

    # -- steps ----------------------------------------------------------------------------

    def _headers_in(self, first: date, end: date) -> list[tuple[datetime, str, date]]:
        """(submitted_at, distributor, monday) of the reports submitted in [first, end)."""
        return reports_submitted(self.seed, self.dist_ids, (self.start, self.end), (first, end))

    def _plan(self, step: Step) -> tuple[int, int, int, int, int, int]:
        """The plan of a step (`plan_step`) for this history's channel."""
        headers = len(self._headers_in(step.first_day, step.end_day))
        opening = self._reference_count() + self._opening_count() if step.number == 1 else 0
        return plan_step(step, (len(self.dist_ids), len(self.sku_ids)), headers, opening)

    def step(self, number: int, published: Published | None = None) -> Iterator[Envelope]:
        """The events of step `number` (exactly `steps[number - 1].events`), day by day, each
        distributor's in business-time order; `published` is filled in as they are
        generated."""
        if number != self.next_step:
            raise ValueError(f"steps are generated in order: step {self.next_step} is next")
        self.next_step += 1
        step = self.steps[number - 1]
        stats = published if published is not None else Published()
        n_ship, n_count, _, sales, resends, late = self._plan(step)
        days = [step.first_day + timedelta(days=n) for n in range(step.days)]
        per_day = lines_per_day(days, self.size, sales)
        # resends per day, in proportion to its lines; conflicting resends on three days
        day_sales = [sum(row) for row in per_day]
        resend_of_day = resends_per_day(day_sales, resends, sales)
        busy = [i for i, n in enumerate(day_sales) if n > 0]
        conflict_days = Counter(self.rng.choice(busy) for _ in range(CONFLICTS_PER_STEP))
        # demand per distributor and SKU per week, for replenishment targets
        weekly_lines = [sales / max(step.days / 7, 1) * s / sum(self.size) for s in self.size]
        headers = deque(sorted(self._headers_in(step.first_day, step.end_day)))
        plan: _DayPlan = (n_ship, n_count, weekly_lines)
        yield from _counted(self._step_opening(number, late, weekly_lines, stats), stats)
        for index, day in enumerate(days):
            repeats = (resend_of_day[index], conflict_days.get(index, 0))
            events = self._day(day, per_day[index], repeats, plan, headers, stats)
            yield from _counted(events, stats)
        if headers or stats.events != step.events:
            raise AssertionError(
                f"step {number}: generated {stats.events:,} events, planned {step.events:,}"
            )

    def _day(
        self,
        day: date,
        lines: list[int],
        repeats: tuple[int, int],
        plan: _DayPlan,
        headers: deque[tuple[datetime, str, date]],
        stats: Published,
    ) -> Iterator[Envelope]:
        """A day: Monday replenishment, each distributor's `lines` sale lines, the report
        headers submitted that day, month-end counts; then (resends, conflicts) of them."""
        n_ship, n_count, weekly_lines = plan
        batch: list[Envelope] = []
        if day.weekday() == 0:
            batch.extend(self._replenish(day, n_ship, weekly_lines, stats))
        originals = [
            self._sale(d, day, stats)
            for di, d in enumerate(self.dist_ids)
            for _ in range(lines[di])
        ]
        batch.extend(originals)
        while headers and headers[0][0] < at(day + timedelta(days=1)):
            submitted, d, monday = headers.popleft()
            batch.append(self._header(d, monday, submitted))
        if (day + timedelta(days=1)).day == 1:
            batch.extend(self._counts(day, n_count))
        # each distributor's day together, as its report or its POS feed sends it (and
        # as the publishers then bundle it)
        batch.sort(key=lambda e: (getattr(e, "distributor_id", ""), e.business_time))
        yield from batch
        yield from self._repeats(originals, *repeats, stats)

    def _step_opening(
        self, number: int, late: int, weekly_lines: list[float], stats: Published
    ) -> Iterator[Envelope]:
        """What a step begins with: the reference data and opening stock (the first step),
        the late lines of the previous step's closed quarter (the others)."""
        if number == 1:
            yield from self._reference
            for shipment in self._opening(self.steps[0].first_day, weekly_lines):
                stats.shipped += shipment.quantity
                yield shipment
        if late:
            yield from self._late_sales(late, LATE_DISTRIBUTOR, self.steps[number - 2], stats)

    def _repeats(
        self, originals: list[SaleReported], resends: int, conflicts: int, stats: Published
    ) -> Iterator[SaleReported]:
        """A day's resends, after the lines they repeat: exact ones, then conflicting ones."""
        rng = self.rng
        for _ in range(resends):
            original = rng.choice(originals)
            stats.resends += 1
            yield original.model_copy(update={"event_id": new_uuid(self.rng)})
        for _ in range(conflicts):
            original = rng.choice(originals)
            quantity = original.quantity + (1 if original.quantity > 0 else -1)
            stats.conflicts += 1
            yield original.model_copy(update={"event_id": new_uuid(self.rng), "quantity": quantity})

    def _opening(self, day: date, weekly_lines: list[float]) -> Iterator[ShipmentRecorded]:
        """Opening stock on the first day: three weeks of demand of every SKU."""
        for di, d in enumerate(self.dist_ids):
            for si, sku in enumerate(self.sku_ids):
                quantity = max(4, math.ceil(3 * weekly_lines[di] * self.share[si] * self.mean_qty))
                yield self._shipment(d, sku, quantity, at(day, 5 * 3600 + si))

    def _replenish(
        self, day: date, n_ship: int, weekly_lines: list[float], stats: Published
    ) -> list[ShipmentRecorded]:
        """Monday: the n SKUs furthest below three weeks of demand, up to it."""
        shipments = []
        for di, d in enumerate(self.dist_ids):
            targets = [
                max(4, math.ceil(3 * weekly_lines[di] * share * self.mean_qty))
                for share in self.share
            ]
            gaps = sorted(
                range(len(self.sku_ids)),
                key=lambda si: (self.on_hand[d, self.sku_ids[si]] - targets[si], si),
            )
            for si in gaps[:n_ship]:
                sku = self.sku_ids[si]
                quantity = max(1, targets[si] - self.on_hand[d, sku])
                stamp = at(day, 6 * 3600 + self.rng.randint(0, 4 * 3600))
                shipments.append(self._shipment(d, sku, quantity, stamp))
        for shipment in shipments:
            stats.shipped += shipment.quantity
        return shipments

    def _shipment(self, d: str, sku: str, quantity: int, stamp: datetime) -> ShipmentRecorded:
        pack = self.case.get(sku, 1)
        quantity = -(-quantity // pack) * pack
        self.ship_seq += 1
        self.on_hand[d, sku] += quantity
        line = (d, sku, quantity)
        cost = self.prices.in_effect(sku, d, stamp).distributor_cost
        return shipment_recorded(new_uuid(self.rng), f"SH-{self.ship_seq:08d}", line, cost, stamp)

    def _sale(self, d: str, day: date, stats: Published) -> SaleReported:
        rng = self.rng
        rand = rng.random
        sold_at = at(day, 13 * 3600 + int(rand() * 9 * 3600))
        known = bisect.bisect_right(self.buys_from[d], day)
        pick = rand() * self.reseller_cum[known - 1]
        reseller = self.resellers[d][bisect.bisect(self.reseller_cum, pick, 0, known - 1)]
        if rand() < 0.015:
            sku = self.sku_ids[bisect.bisect(self.sku_cum, rand() * self.sku_cum[-1])]
            quantity = -rng.randint(1, 3)
        else:
            for _ in range(5):  # a stocked-out SKU: the reseller buys another one
                sku = self.sku_ids[bisect.bisect(self.sku_cum, rand() * self.sku_cum[-1])]
                if self.on_hand[d, sku] > 0:
                    break
            quantity = max(1, min(rng.choice(QUANTITIES), self.on_hand[d, sku]))
        floor = self.prices.in_effect(sku, d, sold_at).floor_price
        below = quantity > 0 and rand() < 0.01
        factor = rng.choice(_BELOW) if below else rng.choice(_ABOVE)
        self.txn[d] += 1
        monday = day - timedelta(days=day.weekday())
        self.report_lines[d, monday] += 1
        self.on_hand[d, sku] -= quantity
        stats.sale_lines += 1
        stats.below_floor += below
        stats.sold += quantity
        event_id = new_uuid(rng)
        end_customer = f"EC-{rng.randint(1, 9999):05d}" if rand() < 0.2 else None
        return sale_reported(
            event_id,
            self.source[d],
            (d, f"{d}-T{self.txn[d]:08d}", reseller, sku, quantity),
            money(floor * factor),
            sold_at,
            end_customer=end_customer,
            unit="EA",
            report_id=weekly_report_id(d, monday),
        )

    def _header(self, d: str, monday: date, submitted: datetime) -> ReportSubmitted:
        week = (monday, self.report_lines.pop((d, monday), 0))
        return report_submitted(new_uuid(self.rng), self.source[d], d, week, submitted)

    def _counts(self, day: date, n_count: int) -> list[InventoryCounted]:
        """Month end, 23:00: a physical count of some SKUs, small variances."""
        counted_at = at(day, 23 * 3600)
        counts = []
        for d in self.dist_ids:
            for sku in self.rng.sample(self.sku_ids, n_count):
                delta = self.rng.choice((0, 0, 0, 0, 0, -1, -1, -2, 1))
                on_hand = max(0, self.on_hand[d, sku] + delta)
                self.on_hand[d, sku] = on_hand
                line = (d, sku, on_hand)
                counts.append(
                    inventory_counted(new_uuid(self.rng), self.source[d], line, counted_at)
                )
        return counts

    def _late_sales(
        self, n: int, d: str, previous: Step, stats: Published
    ) -> Iterator[SaleReported]:
        """Lines of the previous step's last quarter, sent now: after its close."""
        last_quarter = max(quarter_start(previous.end_day - timedelta(days=1)), previous.first_day)
        for line in self.late_lines(
            n, d, last_quarter, previous.end_day, f"S{previous.number + 1}"
        ):
            stats.sale_lines += 1
            stats.late_lines += 1
            stats.sold += line.quantity
            yield line

    def late_lines(self, n: int, d: str, first: date, end: date, tag: str) -> list[SaleReported]:
        """`n` priced sale lines of distributor `d` dated in [first, end) (before the history's
        end), with transaction ids of their own (`tag`): drawn from a keyed generator, so
        they never change the rest of the history."""
        rng = Random(f"{self.seed}:late:{tag}:{d}")
        end = min(end, self.end)
        span = int((at(end) - at(first)).total_seconds())
        lines = []
        for k in range(1, n + 1):
            sold_at = at(first) + timedelta(seconds=rng.randrange(span))
            sku = self.sku_ids[bisect.bisect(self.sku_cum, rng.random() * self.sku_cum[-1])]
            known = max(1, bisect.bisect_right(self.buys_from[d], sold_at.date()))
            floor = self.prices.in_effect(sku, d, sold_at).floor_price
            event_id = new_uuid(rng)
            reseller = self.resellers[d][rng.randrange(known)]
            line = (d, f"{d}-{tag}-{k:06d}", reseller, sku, rng.randint(1, 3))
            price = money(floor * rng.choice(_ABOVE))
            lines.append(sale_reported(event_id, self.source[d], line, price, sold_at, unit="EA"))
        return lines


def _counted(events: Iterable[Envelope], stats: Published) -> Iterator[Envelope]:
    """The events, counted in `stats` as they pass."""
    for event in events:
        stats.events += 1
        stats.by_type[event.event_type] += 1
        yield event
