"""The channel `streams.generator.generate_channel` returns, drawn section by section.

Products, rebate programs, price lists, resellers, demand, then week by week:
replenishment, daily sales, Sunday counts, returns to vendor and the weekly reports;
last the resends and one corrected report. Every section draws from the one
`random.Random` in turn: the order of the sections is part of the output.
"""

from __future__ import annotations

import bisect
import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Final

from schemas.events import (
    Envelope,
    PriceChanged,
    ProductIdentifiers,
    ReportSubmitted,
    SaleReported,
    ShipmentRecorded,
    Source,
)
from streams.channel_events import (
    QUANTITIES,
    ChannelPrices,
    at,
    inventory_counted,
    money,
    new_uuid,
    price_changed,
    product_defined,
    rebate_programs,
    report_submitted,
    reseller_name,
    reseller_onboarded,
    sale_reported,
    shipment_recorded,
)
from streams.channel_resends import corrected_report, resent_lines

#: the generated channel's rebate programs: sell-through revenue, sell-in units
PROGRAM_IDS: Final = ("VPA-2026-ST", "VPA-2026-SI")


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
        self.begin = at(start, 0)
        self.case_size: dict[str, int] = {}
        self.prices = ChannelPrices()
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
            identifiers = ProductIdentifiers(upc=upc, vendor_part=f"VP-{sku[-4:]}")
            defined_at = self.begin - timedelta(days=30)
            self.events.append(
                product_defined(rng, sku, defined_at, conversions, identifiers, defined_at)
            )

    def rebate_programs(self) -> None:
        self.events.extend(
            rebate_programs(
                self.rng,
                self.begin - timedelta(days=21),
                PROGRAM_IDS,
                (Decimal("100000"), Decimal("1000"), Decimal("500")),
                self.dist_ids[:2],
                recorded=True,
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
                old = self.prices.in_effect(sku, dist_ids[0], drop_at)
                cost = money(old.distributor_cost * Decimal("0.9"))
                floor = money(old.floor_price * Decimal("0.92"))
                self.events.append(self.price_event(sku, drop_at, cost, floor))
        if self.distributors >= 2:
            spa_sku = rng.choice(self.sku_ids)
            general = self.prices.in_effect(spa_sku, dist_ids[1], begin)
            spa_cost = money(general.distributor_cost * Decimal("0.95"))
            spa_floor = money(general.floor_price * Decimal("0.9"))
            spa_at = begin + timedelta(days=3)
            self.events.append(self.price_event(spa_sku, spa_at, spa_cost, spa_floor, dist_ids[1]))

    def price_event(
        self,
        sku: str,
        when: datetime,
        cost: Decimal,
        floor: Decimal,
        distributor: str | None = None,
    ) -> PriceChanged:
        """A price change, kept in the price history the generator prices its own lines
        from (the same the projections use)."""
        event = price_changed(self.rng, sku, (cost, floor), when, when, distributor, recorded=True)
        return self.prices.add(event)

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
                joined = begin - timedelta(days=rng.randint(1, 10), seconds=rng.randint(0, 86_399))
                if rank >= established:  # same draws either way: the rest of the data stays
                    days = (rank - established + 1) * self.weeks * 7 // (newcomers + 1)
                    joined = begin + timedelta(
                        days=days, seconds=joined.second + 60 * joined.minute
                    )
                self.buys_from[d].append(max(self.start, joined.date() + timedelta(days=1)))
                event_id = new_uuid(rng)
                recorded_at = joined + timedelta(minutes=rng.randint(1, 90))
                name = reseller_name(rng, reseller)
                source = self.dist_source[d]
                self.events.append(
                    reseller_onboarded(event_id, source, d, reseller, name, joined, recorded_at)
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
                shipped_at = at(monday, 13 * 3600 + rng.randint(0, 4 * 3600))
                self.events.append(self.shipment("SH", d, sku, quantity, shipped_at))
                self.on_hand[(d, sku)] += quantity

    def shipment(
        self, prefix: str, d: str, sku: str, quantity: int, shipped_at: datetime
    ) -> ShipmentRecorded:
        """A shipment (a return to vendor: a negative quantity) at the distributor cost."""
        event_id = new_uuid(self.rng)
        recorded_at = shipped_at + timedelta(minutes=self.rng.randint(1, 30))
        return shipment_recorded(
            event_id,
            f"{prefix}-{next(self.shipment_seq):06d}",
            (d, sku, quantity),
            self.prices.in_effect(sku, d, shipped_at).distributor_cost,
            shipped_at,
            recorded_at,
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
        sold_at = at(day, 13 * 3600 + rng.randint(0, 9 * 3600))
        floor = self.prices.in_effect(sku, d, sold_at).floor_price
        if rng.random() < 0.02:
            quantity = -rng.randint(1, 3)
        else:
            quantity = min(rng.choice(QUANTITIES), self.on_hand[(d, sku)])
            if quantity <= 0:
                return None
        below_floor = rng.random() < 0.03
        factor = rng.uniform(0.7, 0.995) if below_floor else rng.uniform(1.0, 1.25)
        event_id = new_uuid(rng)
        recorded_at = sold_at + timedelta(seconds=rng.randint(5, 3600))
        transaction = f"{d}-T{next(self.txn_seq[d]):06d}"
        end_customer = f"EC-{rng.randint(1, 999):04d}" if rng.random() < 0.3 else None
        return sale_reported(
            event_id,
            self.dist_source[d],
            (d, transaction, reseller, sku, quantity),
            money(floor * Decimal(str(round(factor, 4)))),
            sold_at,
            recorded_at=recorded_at,
            end_customer=end_customer,
            report_id=report_id,
        )

    def count(self, sunday: date) -> None:
        """Sunday 23:00 physical counts: small shrinkage / miscounts become the new truth."""
        rng = self.rng
        counted_at = at(sunday, 23 * 3600)
        for d in self.dist_ids:
            for sku in self.sku_ids:
                delta = rng.choice((0, 0, 0, 0, 0, 0, -1, -1, -2, 1))
                counted = max(0, self.on_hand[(d, sku)] + delta)
                self.on_hand[(d, sku)] = counted
                event_id = new_uuid(rng)
                recorded_at = counted_at + timedelta(minutes=rng.randint(5, 240))
                line = (d, sku, counted)
                self.events.append(
                    inventory_counted(event_id, self.dist_source[d], line, counted_at, recorded_at)
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
            returned_at = at(sunday + timedelta(days=1), 9 * 3600 + rng.randint(0, 3600))
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
            submitted_at = at(submit_day, 8 * 3600 + rng.randint(0, 10 * 3600))
            report_id = report_ids[d]
            event_id = new_uuid(rng)
            if report_id is None:
                continue
            self.headers[d, week] = report_submitted(
                event_id,
                self.dist_source[d],
                d,
                (monday, lines_in_report[d]),
                submitted_at,
                recorded=True,
            )
            self.events.append(self.headers[d, week])

    def finished(self) -> list[Envelope]:
        """Every event in business-time order, the first distributor's corrected second
        report where it was submitted."""
        events = self.events
        resends = resent_lines(self.rng, self.sales)
        events.extend(self.sales)
        events.extend(resends)
        events.sort(key=lambda event: event.business_time)
        first = self.dist_ids[0]
        if (first, 1) in self.headers:
            correction = corrected_report(
                self.rng, self.headers[first, 1], self.sales, self.txn_seq[first]
            )
            times = [event.business_time for event in events]
            where = bisect.bisect_right(times, correction[0].business_time)
            events[where:where] = correction
        return events
