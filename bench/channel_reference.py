"""The reference data of bench/channel_history.py: products, rebate programs, prices and
resellers, published before the first step's movements.

Built from the same event builders and price book as the demo channel
(streams/channel_events.py), drawn from the history's generator in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random

from bench.channel_steps import next_quarter
from schemas.events import Envelope, PriceChanged, ProductIdentifiers, ResellerOnboarded, Source
from streams.channel_events import (
    ChannelPrices,
    at,
    money,
    new_uuid,
    price_changed,
    product_defined,
    rebate_programs,
    reseller_name,
    reseller_onboarded,
)

#: the rebate programs (sell-through revenue, retroactive; sell-in units, incremental)
SELL_THROUGH_PROGRAM = "H12-ST"
SELL_IN_PROGRAM = "H12-SI"


@dataclass(frozen=True)
class ChannelShape:
    """Who and what the history is about, and over which days [start, end)."""

    dist_ids: list[str]
    sku_ids: list[str]
    source: dict[str, Source]
    case: dict[str, int]  # SKU -> units per case, for the SKUs sold by the case
    resellers_per: int
    start: date
    end: date


@dataclass
class Reference:
    """The reference events, and what the steps draw from them."""

    events: list[Envelope]
    prices: ChannelPrices
    resellers: dict[str, list[str]]  # distributor -> reseller ids, by rank
    buys_from: dict[str, list[date]]  # distributor -> the day each reseller buys from


def make_reference(rng: Random, shape: ChannelShape) -> Reference:
    """Products, the two programs, prices, then resellers."""
    begin = at(shape.start)
    events: list[Envelope] = []
    for n, sku in enumerate(shape.sku_ids):
        conversions = {"CA": 12} if sku in shape.case else {}
        identifiers = ProductIdentifiers(vendor_part=f"VP-{n + 1:04d}")
        events.append(
            product_defined(rng, sku, begin - timedelta(days=90), conversions, identifiers)
        )
    events.extend(
        rebate_programs(
            rng,
            begin - timedelta(days=60),
            (SELL_THROUGH_PROGRAM, SELL_IN_PROGRAM),
            (Decimal("50000"), Decimal("500"), Decimal("200")),
            "all",
            recorded=False,
        )
    )
    prices = ChannelPrices()
    events.extend(_prices(rng, shape, prices))
    reference = Reference(events, prices, {}, {})
    events.extend(_resellers(rng, shape, reference))
    return reference


def _prices(rng: Random, shape: ChannelShape, prices: ChannelPrices) -> list[PriceChanged]:
    """A list price per SKU, four cost drops per quarter, two distributor prices: each
    announced (`published_at`) a week before it takes effect."""
    events: list[PriceChanged] = []

    def price(sku: str, effective: datetime, ratios: tuple[str, str], dist: str | None) -> None:
        """A change of the (cost, floor) in effect by `ratios`."""
        old = prices.in_effect(sku, None, effective)
        cost = money(old.distributor_cost * Decimal(ratios[0]))
        floor = money(old.floor_price * Decimal(ratios[1]))
        event = price_changed(
            rng, sku, (cost, floor), effective, effective - timedelta(days=7), dist
        )
        events.append(prices.add(event))

    listed = at(shape.start) - timedelta(days=30)
    for sku in shape.sku_ids:
        cost = money(Decimal(str(round(rng.uniform(4.0, 400.0), 2))))
        floor = money(cost * Decimal(str(round(rng.uniform(1.08, 1.35), 3))))
        events.append(
            prices.add(price_changed(rng, sku, (cost, floor), listed, listed - timedelta(days=7)))
        )
    quarter = shape.start
    while quarter < shape.end:
        effective = at(quarter + timedelta(days=40))
        if effective < at(shape.end):
            for sku in rng.sample(shape.sku_ids, 4):
                price(sku, effective, ("0.9", "0.92"), None)
        quarter = next_quarter(quarter)
    middle = shape.start + (shape.end - shape.start) / 2
    for dist, sku, when in (
        (shape.dist_ids[1], shape.sku_ids[3], shape.start + timedelta(days=10)),
        (shape.dist_ids[4], shape.sku_ids[7], middle),
    ):
        price(sku, at(when), ("0.95", "0.9"), dist)
    return events


def _resellers(rng: Random, shape: ChannelShape, reference: Reference) -> list[ResellerOnboarded]:
    """Two thirds onboarded before the history, the rest during it."""
    begin = at(shape.start)
    events = []
    established = -(-2 * shape.resellers_per // 3)
    newcomers = shape.resellers_per - established
    span = (shape.end - shape.start).days
    for d in shape.dist_ids:
        resellers = [f"{d}-R{n:03d}" for n in range(1, shape.resellers_per + 1)]
        reference.resellers[d] = resellers
        reference.buys_from[d] = []
        for rank, reseller in enumerate(resellers):
            onboarded = begin - timedelta(days=rng.randint(30, 300))
            if rank >= established:
                days = (rank - established + 1) * span // (newcomers + 1)
                onboarded = begin + timedelta(days=days)
            onboarded += timedelta(seconds=rng.randint(8 * 3600, 17 * 3600))
            reference.buys_from[d].append(onboarded.date() + timedelta(days=1))
            event_id = new_uuid(rng)
            name = reseller_name(rng, reseller)
            events.append(
                reseller_onboarded(event_id, shape.source[d], d, reseller, name, onboarded)
            )
    return events
