"""What both generated channels are made of: the demo's (streams/channel_draw.py) and the
bench's long history (bench/channel_history.py).

Names, money and time helpers, the price book a generator prices its own lines from, and one
builder per event type. A builder draws from the generator only where it says so (an
`rng` argument); every other value is drawn by the caller, in the caller's order, since the
order of the draws is part of each channel's output.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random
from typing import Literal

from projections.price_book import PriceEntry, PriceHistory, apply_price, price_in_effect
from schemas.events import (
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
#: a POS line's quantities, equally likely
QUANTITIES = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 10)
ADJECTIVES = ("Compact", "Rugged", "Pro", "Smart", "Dual", "Wireless", "Industrial", "Mini")
NOUNS = ("Router", "Switch", "Sensor", "Gateway", "Camera", "Controller", "Adapter", "Hub")
CITIES = ("Austin", "Denver", "Boise", "Tampa", "Fresno", "Omaha", "Tulsa", "Reno", "Mesa")
RESELLER_WORDS = ("Tech", "Systems", "Supply", "Networks", "Solutions", "Integrators", "IT")


def money(value: Decimal | float) -> Decimal:
    """Round to cents, half up."""
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def at(day: date, seconds: int = 0) -> datetime:
    """`seconds` after midnight UTC of `day`."""
    return datetime.combine(day, time(tzinfo=UTC)) + timedelta(seconds=seconds)


def new_uuid(rng: Random) -> uuid.UUID:
    """A version-4 UUID drawn from `rng` (one draw)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def weekly_report_id(distributor: str, monday: date) -> str:
    """The id of a distributor's sell-through report of the week starting `monday`."""
    iso = monday.isocalendar()
    return f"{distributor}-{iso.year}W{iso.week:02d}"


def reseller_name(rng: Random, reseller: str) -> str:
    """A reseller's trading name (two draws)."""
    return f"{rng.choice(CITIES)} {rng.choice(RESELLER_WORDS)} {reseller[-3:]}"


class ChannelPrices:
    """The price histories a generator prices its own lines from: the projections' own
    price book, so a generated line is judged against the price it was drawn from."""

    def __init__(self) -> None:
        self.histories: dict[str, PriceHistory] = {}

    def add(self, event: PriceChanged) -> PriceChanged:
        """Keep a price change in its SKU's history; the event back."""
        history = self.histories.get(event.sku) or PriceHistory(event.sku)
        self.histories[event.sku] = apply_price(history, event, None, None)[0]
        return event

    def in_effect(self, sku: str, distributor: str | None, moment: datetime) -> PriceEntry:
        """The distributor's price once in effect, else the list price (None: the list)."""
        entry = price_in_effect(self.histories[sku], moment, distributor, None)
        if entry is None:
            raise KeyError(f"no price for {sku} at {moment}")
        return entry


def product_defined(
    rng: Random,
    sku: str,
    defined_at: datetime,
    conversions: dict[str, int],
    identifiers: ProductIdentifiers,
    recorded_at: datetime | None = None,
) -> ProductDefined:
    """A product (draws its id, then its description's two words)."""
    return ProductDefined(
        event_id=new_uuid(rng),
        occurred_at=defined_at,
        recorded_at=recorded_at,
        source="erp",
        sku=sku,
        description=f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {sku[-4:]}",
        base_unit="EA",
        unit_conversions=conversions,
        identifiers=identifiers,
    )


def rebate_programs(
    rng: Random,
    defined_at: datetime,
    program_ids: tuple[str, str],
    thresholds: tuple[Decimal, Decimal, Decimal],
    sell_in_distributors: list[str] | Literal["all"],
    recorded: bool,
) -> list[RebateProgramDefined]:
    """The two quarterly programs: sell-through revenue (retroactive tiers from 0, 2 % from
    `thresholds[0]`, 3.5 % from 250,000) and sell-in units (incremental: 1 % from
    `thresholds[1]`, 2 % from 5,000, a minimum commitment of `thresholds[2]`)."""
    recorded_at = defined_at if recorded else None
    through_from, in_from, commitment = thresholds
    sell_through = RebateProgramDefined(
        event_id=new_uuid(rng),
        occurred_at=defined_at,
        recorded_at=recorded_at,
        source="erp",
        program_id=program_ids[0],
        distributor_ids="all",
        basis="sell_through",
        measure="revenue",
        period="quarter",
        tiers=[
            Tier(threshold=Decimal("0"), rate=Decimal("0")),
            Tier(threshold=through_from, rate=Decimal("0.02")),
            Tier(threshold=Decimal("250000"), rate=Decimal("0.035")),
        ],
        tier_mode="retroactive",
        currency=CURRENCY,
    )
    sell_in = RebateProgramDefined(
        event_id=new_uuid(rng),
        occurred_at=defined_at,
        recorded_at=recorded_at,
        source="erp",
        program_id=program_ids[1],
        distributor_ids=sell_in_distributors,
        basis="sell_in",
        measure="units",
        period="quarter",
        tiers=[
            Tier(threshold=in_from, rate=Decimal("0.01")),
            Tier(threshold=Decimal("5000"), rate=Decimal("0.02")),
        ],
        tier_mode="incremental",
        minimum_commitment=commitment,
        currency=CURRENCY,
    )
    return [sell_through, sell_in]


def price_changed(
    rng: Random,
    sku: str,
    prices: tuple[Decimal, Decimal],
    effective: datetime,
    published: datetime,
    distributor: str | None = None,
    recorded: bool = False,
) -> PriceChanged:
    """A (distributor cost, floor price) change, announced at `published` (draws its id)."""
    cost, floor = prices
    return PriceChanged(
        event_id=new_uuid(rng),
        occurred_at=published,
        recorded_at=published if recorded else None,
        source="erp",
        sku=sku,
        distributor_cost=cost,
        floor_price=floor,
        currency=CURRENCY,
        effective_from=effective,
        distributor_id=distributor,
        published_at=published,
    )


def reseller_onboarded(
    event_id: uuid.UUID,
    source: Source,
    distributor: str,
    reseller: str,
    name: str,
    onboarded_at: datetime,
    recorded_at: datetime | None = None,
) -> ResellerOnboarded:
    """A reseller joins a distributor's network."""
    return ResellerOnboarded(
        event_id=event_id,
        occurred_at=onboarded_at,
        recorded_at=recorded_at,
        source=source,
        distributor_id=distributor,
        reseller_id=reseller,
        name=name,
        onboarded_at=onboarded_at,
    )


def shipment_recorded(
    event_id: uuid.UUID,
    shipment_id: str,
    line: tuple[str, str, int],
    unit_price: Decimal,
    shipped_at: datetime,
    recorded_at: datetime | None = None,
) -> ShipmentRecorded:
    """A shipment of `line` = (distributor, SKU, units): a return to vendor is negative."""
    distributor, sku, quantity = line
    return ShipmentRecorded(
        event_id=event_id,
        occurred_at=shipped_at,
        recorded_at=recorded_at,
        source="erp",
        shipment_id=shipment_id,
        distributor_id=distributor,
        sku=sku,
        quantity=quantity,
        unit="EA",
        unit_price=unit_price,
        currency=CURRENCY,
        shipped_at=shipped_at,
    )


def inventory_counted(
    event_id: uuid.UUID,
    source: Source,
    line: tuple[str, str, int],
    counted_at: datetime,
    recorded_at: datetime | None = None,
) -> InventoryCounted:
    """A physical count of `line` = (distributor, SKU, units on hand)."""
    distributor, sku, on_hand = line
    return InventoryCounted(
        event_id=event_id,
        occurred_at=counted_at,
        recorded_at=recorded_at,
        source=source,
        distributor_id=distributor,
        sku=sku,
        on_hand=on_hand,
        unit="EA",
        counted_at=counted_at,
    )


def report_submitted(
    event_id: uuid.UUID,
    source: Source,
    distributor: str,
    week: tuple[date, int],
    submitted_at: datetime,
    recorded: bool = False,
) -> ReportSubmitted:
    """A distributor's weekly sell-through report header: `week` = (its Monday, lines)."""
    monday, line_count = week
    return ReportSubmitted(
        event_id=event_id,
        occurred_at=submitted_at,
        recorded_at=submitted_at if recorded else None,
        source=source,
        distributor_id=distributor,
        report_id=weekly_report_id(distributor, monday),
        period_start=monday,
        period_end=monday + timedelta(days=6),
        line_count=line_count,
        submitted_at=submitted_at,
    )


def sale_reported(
    event_id: uuid.UUID,
    source: Source,
    line: tuple[str, str, str, str, int],
    unit_price: Decimal,
    sold_at: datetime,
    *,
    recorded_at: datetime | None = None,
    end_customer: str | None = None,
    unit: str | None = None,
    report_id: str | None = None,
) -> SaleReported:
    """A POS line: `line` = (distributor, transaction, reseller, SKU, units)."""
    distributor, transaction, reseller, sku, quantity = line
    return SaleReported(
        event_id=event_id,
        occurred_at=sold_at,
        recorded_at=recorded_at,
        source=source,
        distributor_id=distributor,
        transaction_id=transaction,
        reseller_id=reseller,
        end_customer=end_customer,
        sku=sku,
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        currency=CURRENCY,
        sold_at=sold_at,
        report_id=report_id,
    )
