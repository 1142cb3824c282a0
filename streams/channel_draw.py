"""The channel `streams.generator.generate_channel` returns, drawn section by section.

Products, rebate programs, price lists, resellers, demand, then week by week:
replenishment, daily sales, Sunday counts, returns to vendor and the weekly reports;
last the resends and one corrected report. Every section draws from the one
`random.Random` in turn: the order of the sections is part of the output.
"""

from __future__ import annotations

import bisect
import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from projections.price_book import PriceEntry, PriceHistory, apply_price, price_in_effect
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

_ADJECTIVES = ("Compact", "Rugged", "Pro", "Smart", "Dual", "Wireless", "Industrial", "Mini")
_NOUNS = ("Router", "Switch", "Sensor", "Gateway", "Camera", "Controller", "Adapter", "Hub")
_RESELLER_WORDS = ("Tech", "Systems", "Supply", "Networks", "Solutions", "Integrators", "IT")
#: a POS line's quantities, equally likely
QUANTITIES = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 10)
_CITIES = ("Austin", "Denver", "Boise", "Tampa", "Fresno", "Omaha", "Tulsa", "Reno", "Mesa")


def money(value: Decimal | float) -> Decimal:
    """Round to cents, half up."""
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _uuid(rng: Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _at(day: date, seconds: int) -> datetime:
    """`seconds` after midnight UTC of `day`."""
    return datetime.combine(day, time(tzinfo=UTC)) + timedelta(seconds=seconds)


def _upc(rng: Random) -> str:
    """A 12-digit UPC-A with a valid check digit."""
    digits = [rng.randrange(10) for _ in range(11)]
    odd = sum(digits[0::2])
    even = sum(digits[1::2])
    check = (10 - (odd * 3 + even) % 10) % 10
    return "".join(map(str, digits)) + str(check)


class ChannelDraw:
    """A channel drawn section by section from one random generator, in a fixed order
    (every draw moves the generator: the sections must run in the order given)."""

    def __init__(
        self,
        rng: Random,
        distributors: int,
        skus: int,
        resellers_per_distributor: int,
        weeks: int,
        start: date,
    ) -> None:
        self.rng, self.weeks, self.start = rng, weeks, start
        self.distributors, self.skus = distributors, skus
        self.resellers_per_distributor = resellers_per_distributor
        self.events: list[Envelope] = []
        self.sku_ids = [f"SKU-{n:04d}" for n in range(1, skus + 1)]
        self.dist_ids = [f"D{n:02d}" for n in range(1, distributors + 1)]
        self.dist_source: dict[str, Source] = {
            d: ("api" if i % 2 == 0 else "kafka") for i, d in enumerate(self.dist_ids)
        }
        self.begin = _at(start, 0)
        self.case_size: dict[str, int] = {}
        self.histories: dict[str, PriceHistory] = {}
        self.reseller_ids: dict[str, list[str]] = {}
        #: the day from which each reseller (in rank order) buys: ascending
        self.buys_from: dict[str, list[date]] = {}
        self.reseller_weights: list[float] = []
        self.on_hand: dict[tuple[str, str], int] = {
            (d, s): 0 for d in self.dist_ids for s in self.sku_ids
        }
        self.shipment_seq = itertools.count(1)
        self.txn_seq = {d: itertools.count(1) for d in self.dist_ids}
        self.sales: list[SaleReported] = []
        self.headers: dict[tuple[str, int], ReportSubmitted] = {}

    def products(self) -> None:
        rng = self.rng
        upcs: set[str] = set()
        for sku in self.sku_ids:
            upc = _upc(rng)
            while upc in upcs:
                upc = _upc(rng)
            upcs.add(upc)
            conversions = {"CA": 12} if rng.random() < 0.35 else {}
            if conversions:
                self.case_size[sku] = 12
            self.events.append(
                ProductDefined(
                    event_id=_uuid(rng),
                    occurred_at=self.begin - timedelta(days=30),
                    recorded_at=self.begin - timedelta(days=30),
                    source="erp",
                    sku=sku,
                    description=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {sku[-4:]}",
                    base_unit="EA",
                    unit_conversions=conversions,
                    identifiers=ProductIdentifiers(upc=upc, vendor_part=f"VP-{sku[-4:]}"),
                )
            )

    def rebate_programs(self) -> None:
        programs_at = self.begin - timedelta(days=21)
        self.events.append(
            RebateProgramDefined(
                event_id=_uuid(self.rng),
                occurred_at=programs_at,
                recorded_at=programs_at,
                source="erp",
                program_id="VPA-2026-ST",
                distributor_ids="all",
                basis="sell_through",
                measure="revenue",
                period="quarter",
                tiers=[
                    Tier(threshold=Decimal("0"), rate=Decimal("0")),
                    Tier(threshold=Decimal("100000"), rate=Decimal("0.02")),
                    Tier(threshold=Decimal("250000"), rate=Decimal("0.035")),
                ],
                tier_mode="retroactive",
                currency=CURRENCY,
            )
        )
        self.events.append(
            RebateProgramDefined(
                event_id=_uuid(self.rng),
                occurred_at=programs_at,
                recorded_at=programs_at,
                source="erp",
                program_id="VPA-2026-SI",
                distributor_ids=self.dist_ids[:2],
                basis="sell_in",
                measure="units",
                period="quarter",
                tiers=[
                    Tier(threshold=Decimal("1000"), rate=Decimal("0.01")),
                    Tier(threshold=Decimal("5000"), rate=Decimal("0.02")),
                ],
                tier_mode="incremental",
                minimum_commitment=Decimal("500"),
                currency=CURRENCY,
            )
        )

    def price_lists(self) -> None:
        """A general list for every SKU, a few cost drops mid-period and one special
        price authorization for one distributor."""
        rng, begin, dist_ids = self.rng, self.begin, self.dist_ids
        list_at = begin - timedelta(days=14)
        for sku in self.sku_ids:
            cost = money(rng.uniform(4.0, 400.0))
            floor = money(cost * Decimal(str(round(rng.uniform(1.08, 1.35), 3))))
            self.events.append(self.price_event(sku, list_at, cost, floor))
        if self.weeks >= 4:
            drop_at = begin + timedelta(weeks=self.weeks // 2)
            for sku in rng.sample(self.sku_ids, k=min(2, len(self.sku_ids))):
                old = self.in_effect(sku, dist_ids[0], drop_at)
                cost = money(old.distributor_cost * Decimal("0.9"))
                floor = money(old.floor_price * Decimal("0.92"))
                self.events.append(self.price_event(sku, drop_at, cost, floor))
        if self.distributors >= 2:
            spa_sku = rng.choice(self.sku_ids)
            general = self.in_effect(spa_sku, dist_ids[1], begin)
            spa_cost = money(general.distributor_cost * Decimal("0.95"))
            spa_floor = money(general.floor_price * Decimal("0.9"))
            spa_at = begin + timedelta(days=3)
            self.events.append(self.price_event(spa_sku, spa_at, spa_cost, spa_floor, dist_ids[1]))

    def price_event(
        self, sku: str, at: datetime, cost: Decimal, floor: Decimal, distributor: str | None = None
    ) -> PriceChanged:
        """A price change, kept in the price history the generator prices its own lines
        from (the same the projections use)."""
        event = PriceChanged(
            event_id=_uuid(self.rng),
            occurred_at=at,
            recorded_at=at,
            source="erp",
            sku=sku,
            distributor_cost=cost,
            floor_price=floor,
            currency=CURRENCY,
            effective_from=at,
            distributor_id=distributor,
            published_at=at,
        )
        history = self.histories.get(sku) or PriceHistory(sku)
        self.histories[sku] = apply_price(history, event, None, None)[0]
        return event

    def in_effect(self, sku: str, distributor: str, at: datetime) -> PriceEntry:
        entry = price_in_effect(self.histories[sku], at, distributor, None)
        if entry is None:
            raise KeyError(f"no price for {sku} at {at}")
        return entry

    def resellers(self) -> None:
        """Resellers, with a skewed share of each distributor's business. Two thirds were
        onboarded before the period; the network grows by the rest during it, and a
        reseller buys only once onboarded."""
        rng, begin, per_distributor = self.rng, self.begin, self.resellers_per_distributor
        self.reseller_weights = list(
            itertools.accumulate(1 / (rank + 1) ** 1.2 for rank in range(per_distributor))
        )
        established = max(1, -(-2 * per_distributor // 3))
        newcomers = per_distributor - established
        for d in self.dist_ids:
            self.reseller_ids[d] = [f"{d}-R{n:03d}" for n in range(1, per_distributor + 1)]
            self.buys_from[d] = []
            for rank, reseller in enumerate(self.reseller_ids[d]):
                at = begin - timedelta(days=rng.randint(1, 10), seconds=rng.randint(0, 86_399))
                if rank >= established:  # same draws either way: the rest of the data stays
                    days = (rank - established + 1) * self.weeks * 7 // (newcomers + 1)
                    at = begin + timedelta(days=days, seconds=at.second + 60 * at.minute)
                self.buys_from[d].append(max(self.start, at.date() + timedelta(days=1)))
                self.events.append(
                    ResellerOnboarded(
                        event_id=_uuid(rng),
                        occurred_at=at,
                        recorded_at=at + timedelta(minutes=rng.randint(1, 90)),
                        source=self.dist_source[d],
                        distributor_id=d,
                        reseller_id=reseller,
                        name=f"{rng.choice(_CITIES)} {rng.choice(_RESELLER_WORDS)} {reseller[-3:]}",
                        onboarded_at=at,
                    )
                )

    def demand(self) -> None:
        """SKU popularity (skewed) and distributor size drive demand."""
        self.popularity = [1 / (rank + 1) ** 0.9 for rank in range(self.skus)]
        self.rng.shuffle(self.popularity)
        self.total_popularity = sum(self.popularity)
        self.sku_weights = list(itertools.accumulate(self.popularity))
        self.size = {d: 1.0 / (1 + 0.35 * i) for i, d in enumerate(self.dist_ids)}
        self.mean_qty = sum(QUANTITIES) / len(QUANTITIES)

    def week(self, week: int) -> None:
        """A week: replenishment, daily sales, Sunday counts, returns, the reports."""
        monday = self.start + timedelta(weeks=week)
        sunday = monday + timedelta(days=6)
        iso = monday.isocalendar()
        report_ids: dict[str, str | None] = {
            d: f"{d}-{iso.year}W{iso.week:02d}" for d in self.dist_ids
        }
        if week == 2 and self.distributors >= 3:
            report_ids[self.dist_ids[-1]] = None  # streamed live, the report never comes
        lines_in_report = dict.fromkeys(self.dist_ids, 0)
        self.replenish(monday)
        for day_index in range(7):
            day = monday + timedelta(days=day_index)
            self.sell_through(day, day_index >= 5, report_ids, lines_in_report)
        self.count(sunday)
        self.returns_to_vendor(sunday)
        self.reports(week, monday, sunday, report_ids, lines_in_report)

    def replenish(self, monday: date) -> None:
        """Monday replenishment up to ~3 weeks of expected demand."""
        rng = self.rng
        for d in self.dist_ids:
            lines_per_week = 7 * 14 * self.size[d]
            for s_index, sku in enumerate(self.sku_ids):
                popularity = self.popularity[s_index]
                demand = lines_per_week * popularity / self.total_popularity * self.mean_qty
                target = int(demand * 3) + 4
                quantity = target - self.on_hand[(d, sku)]
                if quantity <= 0:
                    continue
                pack = self.case_size.get(sku, 1)
                quantity = -(-quantity // pack) * pack
                shipped_at = _at(monday, 13 * 3600 + rng.randint(0, 4 * 3600))
                self.events.append(self.shipment("SH", d, sku, quantity, shipped_at))
                self.on_hand[(d, sku)] += quantity

    def shipment(
        self, prefix: str, d: str, sku: str, quantity: int, shipped_at: datetime
    ) -> ShipmentRecorded:
        """A shipment (a return to vendor: a negative quantity) at the distributor cost."""
        return ShipmentRecorded(
            event_id=_uuid(self.rng),
            occurred_at=shipped_at,
            recorded_at=shipped_at + timedelta(minutes=self.rng.randint(1, 30)),
            source="erp",
            shipment_id=f"{prefix}-{next(self.shipment_seq):06d}",
            distributor_id=d,
            sku=sku,
            quantity=quantity,
            unit="EA",
            unit_price=self.in_effect(sku, d, shipped_at).distributor_cost,
            currency=CURRENCY,
            shipped_at=shipped_at,
        )

    def sell_through(
        self,
        day: date,
        weekend: bool,
        report_ids: dict[str, str | None],
        lines_in_report: dict[str, int],
    ) -> None:
        """A day's POS lines of every distributor (fewer on the week's last two days)."""
        for d in self.dist_ids:
            lines = int(self.rng.randint(10, 18) * self.size[d] * (0.4 if weekend else 1.0))
            for _ in range(lines):
                sale = self.sale(d, day, report_ids[d])
                if sale is None:
                    continue  # stocked out
                self.sales.append(sale)
                self.on_hand[(d, sale.sku)] -= sale.quantity
                lines_in_report[d] += 1

    def sale(self, d: str, day: date, report_id: str | None) -> SaleReported | None:
        """One POS line (~2 % returns, ~3 % below the floor); None when stocked out."""
        rng = self.rng
        sku = rng.choices(self.sku_ids, cum_weights=self.sku_weights)[0]
        known = bisect.bisect_right(self.buys_from[d], day)
        reseller = rng.choices(
            self.reseller_ids[d][:known], cum_weights=self.reseller_weights[:known]
        )[0]
        sold_at = _at(day, 13 * 3600 + rng.randint(0, 9 * 3600))
        floor = self.in_effect(sku, d, sold_at).floor_price
        if rng.random() < 0.02:
            quantity = -rng.randint(1, 3)
        else:
            quantity = min(rng.choice(QUANTITIES), self.on_hand[(d, sku)])
            if quantity <= 0:
                return None
        below_floor = rng.random() < 0.03
        factor = rng.uniform(0.7, 0.995) if below_floor else rng.uniform(1.0, 1.25)
        return SaleReported(
            event_id=_uuid(rng),
            occurred_at=sold_at,
            recorded_at=sold_at + timedelta(seconds=rng.randint(5, 3600)),
            source=self.dist_source[d],
            distributor_id=d,
            transaction_id=f"{d}-T{next(self.txn_seq[d]):06d}",
            reseller_id=reseller,
            end_customer=f"EC-{rng.randint(1, 999):04d}" if rng.random() < 0.3 else None,
            sku=sku,
            quantity=quantity,
            unit_price=money(floor * Decimal(str(round(factor, 4)))),
            currency=CURRENCY,
            sold_at=sold_at,
            report_id=report_id,
        )

    def count(self, sunday: date) -> None:
        """Sunday 23:00 physical counts: small shrinkage / miscounts become the new truth."""
        rng = self.rng
        counted_at = _at(sunday, 23 * 3600)
        for d in self.dist_ids:
            for sku in self.sku_ids:
                delta = rng.choice((0, 0, 0, 0, 0, 0, -1, -1, -2, 1))
                counted = max(0, self.on_hand[(d, sku)] + delta)
                self.on_hand[(d, sku)] = counted
                self.events.append(
                    InventoryCounted(
                        event_id=_uuid(rng),
                        occurred_at=counted_at,
                        recorded_at=counted_at + timedelta(minutes=rng.randint(5, 240)),
                        source=self.dist_source[d],
                        distributor_id=d,
                        sku=sku,
                        on_hand=counted,
                        unit="EA",
                        counted_at=counted_at,
                    )
                )

    def returns_to_vendor(self, sunday: date) -> None:
        """A few returns to vendor on Monday morning of the next week."""
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            d = rng.choice(self.dist_ids)
            sku = rng.choice(self.sku_ids)
            quantity = min(self.on_hand[(d, sku)], rng.randint(1, 6))
            if quantity <= 0:
                continue
            returned_at = _at(sunday + timedelta(days=1), 9 * 3600 + rng.randint(0, 3600))
            self.events.append(self.shipment("RTV", d, sku, -quantity, returned_at))
            self.on_hand[(d, sku)] -= quantity

    def reports(
        self,
        week: int,
        monday: date,
        sunday: date,
        report_ids: dict[str, str | None],
        lines_in_report: dict[str, int],
    ) -> None:
        """Weekly sell-through reports: due Wednesday 23:59, ~10 % late, and one week the
        last distributor streams its lines but never sends the report."""
        rng = self.rng
        for d in self.dist_ids:
            late = rng.random() < 0.1
            submit_day = sunday + timedelta(days=rng.randint(4, 6) if late else rng.randint(1, 3))
            submitted_at = _at(submit_day, 8 * 3600 + rng.randint(0, 10 * 3600))
            report_id = report_ids[d]
            event_id = _uuid(rng)
            if report_id is None:
                continue
            self.headers[d, week] = ReportSubmitted(
                event_id=event_id,
                occurred_at=submitted_at,
                recorded_at=submitted_at,
                source=self.dist_source[d],
                distributor_id=d,
                report_id=report_id,
                period_start=monday,
                period_end=sunday,
                line_count=lines_in_report[d],
                submitted_at=submitted_at,
            )
            self.events.append(self.headers[d, week])

    def resends(self) -> list[SaleReported]:
        """~1 % exact duplicates (new envelope) and 2-3 conflicting ones."""
        rng, sales = self.rng, self.sales
        n_dups = max(1, round(len(sales) * 0.01))
        n_conflicts = rng.randint(2, 3)
        picked = rng.sample(range(len(sales)), k=min(len(sales), n_dups + n_conflicts))
        resends: list[SaleReported] = []
        for n, index in enumerate(picked):
            original = sales[index]
            update: dict[str, object] = {
                "event_id": _uuid(rng),
                "recorded_at": original.sold_at + timedelta(days=rng.randint(1, 3)),
            }
            if n >= n_dups:
                update["quantity"] = original.quantity + (1 if original.quantity > 0 else -1)
            resends.append(original.model_copy(update=update))
        return resends

    def finished(self) -> list[Envelope]:
        """Every event in business-time order, the first distributor's corrected second
        report where it was submitted."""
        events = self.events
        resends = self.resends()
        events.extend(self.sales)
        events.extend(resends)
        events.sort(key=lambda event: event.business_time)
        first = self.dist_ids[0]
        if (first, 1) in self.headers:
            correction = _correction(
                self.rng, self.headers[first, 1], self.sales, self.txn_seq[first]
            )
            times = [event.business_time for event in events]
            where = bisect.bisect_right(times, correction[0].business_time)
            events[where:where] = correction
        return events


def _correction(
    rng: Random, replaced: ReportSubmitted, sales: list[SaleReported], txn_seq: Iterator[int]
) -> list[Envelope]:
    """A corrected report, header first: the replaced report's lines again with one
    withdrawn, one more and one fewer unit on two others, and a line it had missed."""
    submitted_at = replaced.submitted_at + timedelta(days=2, hours=1)
    report_id = f"{replaced.report_id}-C1"
    lines = [s for s in sales if s.report_id == replaced.report_id]
    withdrawn, more, fewer = rng.sample(range(len(lines)), k=3)
    corrected: list[SaleReported] = []
    for n, line in enumerate(lines):
        if n == withdrawn:
            continue
        update: dict[str, object] = {
            "event_id": _uuid(rng),
            "recorded_at": submitted_at + timedelta(seconds=n + 1),
            "report_id": report_id,
        }
        if n == more:
            update["quantity"] = line.quantity + 1
        elif n == fewer and line.quantity > 1:
            update["quantity"] = line.quantity - 1
        corrected.append(line.model_copy(update=update))
    missed = lines[-1].model_copy(
        update={
            "event_id": _uuid(rng),
            "transaction_id": f"{replaced.distributor_id}-T{next(txn_seq):06d}",
            "recorded_at": submitted_at + timedelta(seconds=len(lines) + 1),
            "report_id": report_id,
            "quantity": 1,
        }
    )
    corrected.append(missed)
    header = replaced.model_copy(
        update={
            "event_id": _uuid(rng),
            "occurred_at": submitted_at,
            "recorded_at": submitted_at,
            "submitted_at": submitted_at,
            "report_id": report_id,
            "line_count": len(corrected),
            "replaces_report_id": replaced.report_id,
        }
    )
    return [header, *corrected]
