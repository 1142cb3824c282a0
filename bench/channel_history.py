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
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from schemas.events import (
    Envelope,
    InventoryCounted,
    PriceChanged,
    ProductDefined,
    ProductIdentifiers,
    RebateProgramDefined,
    ReportSubmitted,
    ResellerOnboarded,
    SaleReported,
    ShipmentRecorded,
    Source,
    Tier,
)

CURRENCY = "USD"
CENT = Decimal("0.01")
#: the rebate programs (sell-through revenue, retroactive; sell-in units, incremental)
SELL_THROUGH_PROGRAM = "H12-ST"
SELL_IN_PROGRAM = "H12-SI"
MIN_WEEKS = 60
#: an exact resend for every this many original sale lines
RESEND_EVERY = 200
CONFLICTS_PER_STEP = 3
LATE_LINES_PER_STEP = 20
#: the distributor whose late lines come in each step after the first
LATE_DISTRIBUTOR = "D03"

_QUANTITIES = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 10)
_ABOVE = tuple(Decimal(n) / 100 for n in range(100, 126))  # x floor: at or above it
_BELOW = tuple(Decimal(n) / 1000 for n in range(700, 996, 5))  # x floor: under it
_ADJECTIVES = ("Compact", "Rugged", "Pro", "Smart", "Dual", "Wireless", "Industrial", "Mini")
_NOUNS = ("Router", "Switch", "Sensor", "Gateway", "Camera", "Controller", "Adapter", "Hub")
_CITIES = ("Austin", "Denver", "Boise", "Tampa", "Fresno", "Omaha", "Tulsa", "Reno", "Mesa")
_WORDS = ("Tech", "Systems", "Supply", "Networks", "Solutions", "Integrators", "IT")
_SOURCES: tuple[Source, ...] = ("api", "kafka", "csv")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def at(day: date, seconds: int = 0) -> datetime:
    """`seconds` after midnight UTC of `day`."""
    return datetime.combine(day, time(tzinfo=UTC)) + timedelta(seconds=seconds)


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


@dataclass
class _Sale:
    """What a resend needs of an original line."""

    event: SaleReported


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
        self.mean_qty = sum(_QUANTITIES) / len(_QUANTITIES)

        self.start = self._history_start(len(targets))
        self.end = today  # exclusive: the history ends with yesterday
        self.steps = self._layout(targets)

        self.case = {sku: 12 for sku in self.sku_ids if self.rng.random() < 0.3}
        self._reference = self._make_reference()
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

    # -- layout ---------------------------------------------------------------------------

    def _history_start(self, steps: int) -> date:
        """The latest quarter start at least MIN_WEEKS before today, earlier still if the
        steps need more quarters than that."""
        start = quarter_start(self.today - timedelta(weeks=MIN_WEEKS))
        while True:
            quarters = 0
            day = start
            while day < self.today:
                quarters += 1
                day = next_quarter(day)
            if quarters >= steps and (self.today - start).days >= 7:
                return start
            start = quarter_start(start - timedelta(days=1))

    def _layout(self, targets: list[int]) -> list[Step]:
        """Cut the history at quarter starts, each step's share of days close to its share
        of events, at least one quarter per step."""
        bounds = [self.start]
        day = next_quarter(self.start)
        while day < self.end:
            bounds.append(day)
            day = next_quarter(day)
        total_days = (self.end - self.start).days
        cuts: list[int] = []  # indexes into bounds of each step's first day (after the first)
        last = 0
        for i, target in enumerate(targets[:-1]):
            wanted = target / targets[-1] * total_days
            remaining = len(targets) - 1 - i  # steps after this one, one quarter each
            choices = range(last + 1, len(bounds) - remaining + 1)
            best = min(choices, key=lambda j: abs((bounds[j] - self.start).days - wanted))
            cuts.append(best)
            last = best
        firsts = [self.start, *(bounds[j] for j in cuts)]
        ends = [*(bounds[j] for j in cuts), self.end]
        steps = []
        previous = 0
        for n, (first, end, target) in enumerate(zip(firsts, ends, targets, strict=True), 1):
            steps.append(Step(n, first, end, target, target - previous))
            previous = target
        return steps

    # -- reference data -------------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _reference_count(self) -> int:
        return len(self._reference)

    def _opening_count(self) -> int:
        return len(self.dist_ids) * len(self.sku_ids)

    def reference(self) -> list[Envelope]:
        """Products, programs, prices and resellers: published before the first step's
        movements, and counted in it."""
        return list(self._reference)

    def _make_reference(self) -> list[Envelope]:
        rng = self.rng
        begin = at(self.start)
        events: list[Envelope] = []
        for n, sku in enumerate(self.sku_ids):
            defined = begin - timedelta(days=90)
            events.append(
                ProductDefined(
                    event_id=self._uuid(),
                    occurred_at=defined,
                    source="erp",
                    sku=sku,
                    description=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {n + 1:04d}",
                    base_unit="EA",
                    unit_conversions={"CA": 12} if sku in self.case else {},
                    identifiers=ProductIdentifiers(vendor_part=f"VP-{n + 1:04d}"),
                )
            )
        defined = begin - timedelta(days=60)
        events.append(
            RebateProgramDefined(
                event_id=self._uuid(),
                occurred_at=defined,
                source="erp",
                program_id=SELL_THROUGH_PROGRAM,
                distributor_ids="all",
                basis="sell_through",
                measure="revenue",
                period="quarter",
                tiers=[
                    Tier(threshold=Decimal("0"), rate=Decimal("0")),
                    Tier(threshold=Decimal("50000"), rate=Decimal("0.02")),
                    Tier(threshold=Decimal("250000"), rate=Decimal("0.035")),
                ],
                tier_mode="retroactive",
                currency=CURRENCY,
            )
        )
        events.append(
            RebateProgramDefined(
                event_id=self._uuid(),
                occurred_at=defined,
                source="erp",
                program_id=SELL_IN_PROGRAM,
                distributor_ids="all",
                basis="sell_in",
                measure="units",
                period="quarter",
                tiers=[
                    Tier(threshold=Decimal("500"), rate=Decimal("0.01")),
                    Tier(threshold=Decimal("5000"), rate=Decimal("0.02")),
                ],
                tier_mode="incremental",
                minimum_commitment=Decimal("200"),
                currency=CURRENCY,
            )
        )
        events.extend(self._prices(begin))
        events.extend(self._resellers(begin))
        return events

    def _prices(self, begin: datetime) -> list[PriceChanged]:
        """A list price per SKU, four cost drops per quarter, two distributor prices: each
        announced (`published_at`) a week before it takes effect."""
        rng = self.rng
        #: sku -> [(effective_from, cost, floor)] ascending; (sku, distributor) -> the same
        self.list_prices: dict[str, list[tuple[datetime, Decimal, Decimal]]] = {}
        self.special: dict[tuple[str, str], list[tuple[datetime, Decimal, Decimal]]] = {}
        events: list[PriceChanged] = []

        def price(
            sku: str, effective: datetime, cost: Decimal, floor: Decimal, dist: str | None = None
        ) -> None:
            events.append(
                PriceChanged(
                    event_id=self._uuid(),
                    occurred_at=effective - timedelta(days=7),
                    source="erp",
                    sku=sku,
                    distributor_cost=cost,
                    floor_price=floor,
                    currency=CURRENCY,
                    effective_from=effective,
                    distributor_id=dist,
                    published_at=effective - timedelta(days=7),
                )
            )
            schedule = (
                self.list_prices.setdefault(sku, [])
                if dist is None
                else self.special.setdefault((sku, dist), [])
            )
            schedule.append((effective, cost, floor))
            schedule.sort()

        listed = begin - timedelta(days=30)
        for sku in self.sku_ids:
            cost = money(Decimal(str(round(rng.uniform(4.0, 400.0), 2))))
            floor = money(cost * Decimal(str(round(rng.uniform(1.08, 1.35), 3))))
            price(sku, listed, cost, floor)
        quarter = self.start
        while quarter < self.end:
            effective = at(quarter + timedelta(days=40))
            if effective < at(self.end):
                for sku in rng.sample(self.sku_ids, 4):
                    _, cost, floor = self._in_effect(self.list_prices[sku], effective)
                    price(
                        sku, effective, money(cost * Decimal("0.9")), money(floor * Decimal("0.92"))
                    )
            quarter = next_quarter(quarter)
        middle = self.start + (self.end - self.start) / 2
        for dist, sku, when in (
            (self.dist_ids[1], self.sku_ids[3], self.start + timedelta(days=10)),
            (self.dist_ids[4], self.sku_ids[7], middle),
        ):
            _, cost, floor = self._in_effect(self.list_prices[sku], at(when))
            price(sku, at(when), money(cost * Decimal("0.95")), money(floor * Decimal("0.9")), dist)
        return events

    @staticmethod
    def _in_effect(
        schedule: list[tuple[datetime, Decimal, Decimal]], moment: datetime
    ) -> tuple[datetime, Decimal, Decimal]:
        index = bisect.bisect_right(schedule, (moment, Decimal("Infinity"), Decimal(0))) - 1
        if index < 0:
            raise KeyError(f"no price in effect at {moment}")
        return schedule[index]

    def floor(self, sku: str, dist: str, moment: datetime) -> Decimal:
        """The floor in effect: the distributor's own price once in effect, else the list."""
        special = self.special.get((sku, dist))
        if special is not None and special[0][0] <= moment:
            return self._in_effect(special, moment)[2]
        return self._in_effect(self.list_prices[sku], moment)[2]

    def cost(self, sku: str, dist: str, moment: datetime) -> Decimal:
        special = self.special.get((sku, dist))
        if special is not None and special[0][0] <= moment:
            return self._in_effect(special, moment)[1]
        return self._in_effect(self.list_prices[sku], moment)[1]

    def _resellers(self, begin: datetime) -> list[ResellerOnboarded]:
        """Two thirds onboarded before the history, the rest during it."""
        rng = self.rng
        self.resellers: dict[str, list[str]] = {}
        #: distributor -> the day from which each reseller (in rank order) buys: ascending
        self.buys_from: dict[str, list[date]] = {}
        events = []
        established = -(-2 * self.resellers_per // 3)
        newcomers = self.resellers_per - established
        span = (self.end - self.start).days
        for d in self.dist_ids:
            self.resellers[d] = [f"{d}-R{n:03d}" for n in range(1, self.resellers_per + 1)]
            self.buys_from[d] = []
            for rank, reseller in enumerate(self.resellers[d]):
                onboarded = begin - timedelta(days=rng.randint(30, 300))
                if rank >= established:
                    days = (rank - established + 1) * span // (newcomers + 1)
                    onboarded = begin + timedelta(days=days)
                onboarded += timedelta(seconds=rng.randint(8 * 3600, 17 * 3600))
                self.buys_from[d].append(onboarded.date() + timedelta(days=1))
                events.append(
                    ResellerOnboarded(
                        event_id=self._uuid(),
                        occurred_at=onboarded,
                        source=self.source[d],
                        distributor_id=d,
                        reseller_id=reseller,
                        name=f"{rng.choice(_CITIES)} {rng.choice(_WORDS)} {reseller[-3:]}",
                        onboarded_at=onboarded,
                    )
                )
        return events

    # -- steps ----------------------------------------------------------------------------

    def _report_of(self, d: str, monday: date) -> tuple[datetime, bool]:
        """When the distributor submits the report of the week starting `monday`, and
        whether it never does (keyed draws: known before the week is generated)."""
        rng = Random(f"{self.seed}:report:{d}:{monday.isoformat()}")
        late = rng.random() < 0.1
        day = monday + timedelta(days=7 + (rng.randint(3, 5) if late else rng.randint(0, 2)))
        skipped = d == self.dist_ids[-1] and rng.random() < 0.04
        return at(day, rng.randint(8 * 3600, 18 * 3600)), skipped

    def _headers_in(self, first: date, end: date) -> list[tuple[datetime, str, date]]:
        """(submitted_at, distributor, monday) of the reports submitted in [first, end)."""
        found = []
        monday = self.start - timedelta(days=self.start.weekday())
        while monday < end:
            for d in self.dist_ids:
                submitted, skipped = self._report_of(d, monday)
                if not skipped and at(first) <= submitted < at(min(end, self.end)):
                    found.append((submitted, d, monday))
            monday += timedelta(weeks=1)
        return found

    def _plan(self, step: Step) -> tuple[int, int, int, int, int, int]:
        """(shipments per distributor and Monday, counts per distributor and month end,
        fixed events, sale lines, resends, late lines) of a step."""
        days = [step.first_day + timedelta(days=n) for n in range(step.days)]
        mondays = sum(1 for day in days if day.weekday() == 0)
        month_ends = sum(1 for day in days if (day + timedelta(days=1)).day == 1)
        weeks = max(step.days / 7, 1)
        per_dist_week = step.events / weeks / len(self.dist_ids)
        n_ship = max(2, min(len(self.sku_ids), round(0.1 * per_dist_week)))
        n_count = max(2, min(len(self.sku_ids), round(0.1 * per_dist_week)))
        headers = len(self._headers_in(step.first_day, step.end_day))
        late = LATE_LINES_PER_STEP if step.number > 1 else 0
        fixed = (
            len(self.dist_ids) * (n_ship * mondays + n_count * month_ends)
            + headers
            + CONFLICTS_PER_STEP
            + late
        )
        if step.number == 1:
            fixed += self._reference_count() + self._opening_count()
        rest = step.events - fixed
        if rest < 10 * RESEND_EVERY:
            raise ValueError(
                f"step {step.number} ({step.events:,} events over {step.days} days) is too small "
                f"for its {fixed:,} shipments, counts, reports and reference events"
            )
        sales = rest * RESEND_EVERY // (RESEND_EVERY + 1)
        return n_ship, n_count, fixed, sales, rest - sales, late

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
        per_day = self._lines_per_day(days, sales)
        # resends per day, in proportion to its lines; conflicting resends on three days
        day_sales = [sum(row) for row in per_day]
        resend_of_day = _resends_per_day(day_sales, resends, sales)
        busy = [i for i, n in enumerate(day_sales) if n > 0]
        conflict_days = Counter(self.rng.choice(busy) for _ in range(CONFLICTS_PER_STEP))
        # demand per distributor and SKU per week, for replenishment targets
        weekly_lines = [sales / max(step.days / 7, 1) * s / sum(self.size) for s in self.size]
        headers = sorted(self._headers_in(step.first_day, step.end_day))
        header_index = 0

        def emit(event: Envelope) -> Envelope:
            stats.events += 1
            stats.by_type[event.event_type] += 1
            return event

        for event in self._step_opening(number, late, weekly_lines, stats):
            yield emit(event)
        for index, day in enumerate(days):
            batch: list[Envelope] = []
            if day.weekday() == 0:
                batch.extend(self._replenish(day, n_ship, weekly_lines, stats))
            originals = [
                self._sale(d, day, stats)
                for di, d in enumerate(self.dist_ids)
                for _ in range(per_day[index][di])
            ]
            batch.extend(originals)
            due = bisect.bisect_left(
                headers, at(day + timedelta(days=1)), lo=header_index, key=lambda h: h[0]
            )
            batch.extend(
                self._header(d, monday, submitted)
                for submitted, d, monday in headers[header_index:due]
            )
            header_index = due
            if (day + timedelta(days=1)).day == 1:
                batch.extend(self._counts(day, n_count))
            # each distributor's day together, as its report or its POS feed sends it (and
            # as the publishers then bundle it)
            batch.sort(key=lambda e: (getattr(e, "distributor_id", ""), e.business_time))
            for event in batch:
                yield emit(event)
            repeats = self._repeats(
                originals, resend_of_day[index], conflict_days.get(index, 0), stats
            )
            for event in repeats:
                yield emit(event)
        if header_index != len(headers) or stats.events != step.events:
            raise AssertionError(
                f"step {number}: generated {stats.events:,} events, planned {step.events:,}"
            )

    def _lines_per_day(self, days: list[date], sales: int) -> list[list[int]]:
        """Sale lines per (day, distributor), exactly `sales` in all: weekdays busier
        than Saturdays, Saturdays than Sundays; bigger distributors more."""
        day_weight = [10 if day.weekday() < 5 else (4 if day.weekday() == 5 else 2) for day in days]
        total = sum(day_weight) * sum(self.size)
        per_day: list[list[int]] = []
        cumulative = assigned = 0
        for w in day_weight:
            row = []
            for size in self.size:
                cumulative += w * size
                n = sales * cumulative // total - assigned
                assigned += n
                row.append(n)
            per_day.append(row)
        return per_day

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
            yield original.model_copy(update={"event_id": self._uuid()})
        for _ in range(conflicts):
            original = rng.choice(originals)
            quantity = original.quantity + (1 if original.quantity > 0 else -1)
            stats.conflicts += 1
            yield original.model_copy(update={"event_id": self._uuid(), "quantity": quantity})

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
        return ShipmentRecorded(
            event_id=self._uuid(),
            occurred_at=stamp,
            source="erp",
            shipment_id=f"SH-{self.ship_seq:08d}",
            distributor_id=d,
            sku=sku,
            quantity=quantity,
            unit="EA",
            unit_price=self.cost(sku, d, stamp),
            currency=CURRENCY,
            shipped_at=stamp,
        )

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
            quantity = max(1, min(rng.choice(_QUANTITIES), self.on_hand[d, sku]))
        floor = self.floor(sku, d, sold_at)
        below = quantity > 0 and rand() < 0.01
        factor = rng.choice(_BELOW) if below else rng.choice(_ABOVE)
        self.txn[d] += 1
        monday = day - timedelta(days=day.weekday())
        iso = monday.isocalendar()
        self.report_lines[d, monday] += 1
        self.on_hand[d, sku] -= quantity
        stats.sale_lines += 1
        stats.below_floor += below
        stats.sold += quantity
        return SaleReported(
            event_id=self._uuid(),
            occurred_at=sold_at,
            source=self.source[d],
            distributor_id=d,
            transaction_id=f"{d}-T{self.txn[d]:08d}",
            reseller_id=reseller,
            end_customer=f"EC-{rng.randint(1, 9999):05d}" if rand() < 0.2 else None,
            sku=sku,
            quantity=quantity,
            unit="EA",
            unit_price=money(floor * factor),
            currency=CURRENCY,
            sold_at=sold_at,
            report_id=f"{d}-{iso.year}W{iso.week:02d}",
        )

    def _header(self, d: str, monday: date, submitted: datetime) -> ReportSubmitted:
        iso = monday.isocalendar()
        return ReportSubmitted(
            event_id=self._uuid(),
            occurred_at=submitted,
            source=self.source[d],
            distributor_id=d,
            report_id=f"{d}-{iso.year}W{iso.week:02d}",
            period_start=monday,
            period_end=monday + timedelta(days=6),
            line_count=self.report_lines.pop((d, monday), 0),
            submitted_at=submitted,
        )

    def _counts(self, day: date, n_count: int) -> list[InventoryCounted]:
        """Month end, 23:00: a physical count of some SKUs, small variances."""
        counted_at = at(day, 23 * 3600)
        counts = []
        for d in self.dist_ids:
            for sku in self.rng.sample(self.sku_ids, n_count):
                delta = self.rng.choice((0, 0, 0, 0, 0, -1, -1, -2, 1))
                on_hand = max(0, self.on_hand[d, sku] + delta)
                self.on_hand[d, sku] = on_hand
                counts.append(
                    InventoryCounted(
                        event_id=self._uuid(),
                        occurred_at=counted_at,
                        source=self.source[d],
                        distributor_id=d,
                        sku=sku,
                        on_hand=on_hand,
                        unit="EA",
                        counted_at=counted_at,
                    )
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
            floor = self.floor(sku, d, sold_at)
            lines.append(
                SaleReported(
                    event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    occurred_at=sold_at,
                    source=self.source[d],
                    distributor_id=d,
                    transaction_id=f"{d}-{tag}-{k:06d}",
                    reseller_id=self.resellers[d][rng.randrange(known)],
                    sku=sku,
                    quantity=rng.randint(1, 3),
                    unit="EA",
                    unit_price=money(floor * rng.choice(_ABOVE)),
                    currency=CURRENCY,
                    sold_at=sold_at,
                )
            )
        return lines


def _resends_per_day(day_sales: list[int], resends: int, sales: int) -> list[int]:
    """`resends` spread over the days in proportion to their sale lines."""
    resend_of_day = []
    cumulative = assigned = 0
    for n in day_sales:
        cumulative += n
        k = resends * cumulative // sales - assigned
        assigned += k
        resend_of_day.append(k)
    return resend_of_day
