"""Deterministic, realistic channel data for demos, tests, benchmarks and crash tests.

`generate_channel` (drawn by streams/channel_draw.py), `generate_sales` (many sale lines
for load tests) and `malformed_lines` (one bad line of each kind).

Everything is drawn from one `random.Random(seed)` per call: the same seed always gives
the same events, byte for byte once encoded. Nothing here touches global state.
"""

from __future__ import annotations

import bisect
import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from random import Random

import orjson

from schemas.events import (
    Envelope,
    ProductDefined,
    SaleReported,
    Source,
)
from streams.channel_draw import ChannelDraw
from streams.channel_events import CENT, CURRENCY, money

DEFAULT_START = date(2026, 7, 6)  # a Monday
DEFAULT_SALES_START = datetime(2026, 7, 6, tzinfo=UTC)


def generate_channel(
    seed: int = 7,
    distributors: int = 5,
    skus: int = 40,
    resellers_per_distributor: int = 12,
    weeks: int = 6,
    start: date = DEFAULT_START,
) -> list[Envelope]:
    """A few weeks of one vendor's two-tier channel, sorted by business time (stable).

    Contains master data (products, prices, programs, resellers: a third of them onboarded
    during the period), weekly replenishment shipments with a few returns to vendor,
    daily POS lines (~2 % returns, some below floor), ~1 % exact resends, 2-3 conflicting
    resends, weekly Sunday counts with small variances and one sell-through report per
    distributor and week (~10 % late; with 3+ weeks and 3+ distributors, the last
    distributor's third report never comes). With 2+ weeks the first distributor replaces
    its second report with a corrected one: its header is published first, then its lines,
    which are dated in the week they correct (so they break the business-time order).
    """
    draw = ChannelDraw(Random(seed), distributors, skus, resellers_per_distributor, weeks, start)
    draw.products()
    draw.rebate_programs()
    draw.price_lists()
    draw.resellers()
    draw.demand()
    for week in range(weeks):
        draw.week(week)
    return draw.finished()


def sales_catalog(skus: int = 50) -> list[ProductDefined]:
    """The ProductDefined events `generate_sales` relies on (SKU-0001 ... SKU-nnnn, in EA)."""
    defined_at = datetime.combine(DEFAULT_START - timedelta(days=30), time(tzinfo=UTC))
    return [
        ProductDefined(
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"channelflow-sales-catalog:{n}"),
            occurred_at=defined_at,
            source="erp",
            sku=f"SKU-{n:04d}",
            description=f"Benchmark item {n}",
            base_unit="EA",
        )
        for n in range(1, skus + 1)
    ]


def generate_sales(
    count: int,
    seed: int = 7,
    distributors: int = 8,
    skus: int = 50,
    start: datetime = DEFAULT_SALES_START,
) -> Iterator[SaleReported]:
    """`count` distinct valid POS lines spread over ~60 days, in business-time order.

    Fully validated (pydantic-core is as fast as `model_construct` here): ~70,000 a second.
    """
    rng = Random(seed)
    start = start.astimezone(UTC)
    dist_ids = [f"D{n:02d}" for n in range(1, distributors + 1)]
    sources: list[Source] = ["api" if i % 2 == 0 else "kafka" for i in range(distributors)]
    sku_ids = [f"SKU-{n:04d}" for n in range(1, skus + 1)]
    floors = [money(rng.uniform(5.0, 500.0)) for _ in sku_ids]
    factors = [Decimal(n) / 100 for n in range(95, 126)]
    reseller_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(20)))
    resellers = [[f"{d}-R{n:03d}" for n in range(1, 21)] for d in dist_ids]
    sku_weights = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(skus)))
    sequence = [0] * distributors
    span = 60 * 86_400
    step = span / max(count, 1)
    total_r = reseller_weights[-1]
    total_s = sku_weights[-1]
    rand = rng.random
    for n in range(count):
        d = rng.randrange(distributors)
        sequence[d] += 1
        s = bisect.bisect(sku_weights, rand() * total_s)
        r = bisect.bisect(reseller_weights, rand() * total_r)
        sold_at = start + timedelta(seconds=int(n * step))
        quantity = -1 if rand() < 0.02 else 1 + int(rand() * rand() * 12)
        yield SaleReported(
            event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            occurred_at=sold_at,
            source=sources[d],
            distributor_id=dist_ids[d],
            transaction_id=f"{dist_ids[d]}-T{sequence[d]:07d}",
            reseller_id=resellers[d][r],
            sku=sku_ids[s],
            quantity=quantity,
            unit_price=(floors[s] * factors[int(rand() * len(factors))]).quantize(CENT),
            currency=CURRENCY,
            sold_at=sold_at,
        )


def _valid_sale() -> dict[str, object]:
    return {
        "event_id": "0b7d6a0e-1c7c-4e6b-9f0a-3d1f2c9a8e11",
        "event_type": "SaleReported",
        "schema_version": 1,
        "occurred_at": "2026-07-07T15:04:05Z",
        "source": "api",
        "distributor_id": "D01",
        "transaction_id": "D01-T000001",
        "reseller_id": "D01-R001",
        "sku": "SKU-0001",
        "quantity": 3,
        "unit_price": "129.90",
        "currency": "USD",
        "sold_at": "2026-07-07T15:04:05Z",
    }


def malformed_lines() -> list[tuple[bytes, str]]:
    """Realistic bad inputs, each one message giving one rejection, with its reason code."""

    def variant(**changes: object) -> bytes:
        data = _valid_sale()
        for key, value in changes.items():
            if value is _DROP:
                del data[key]
            else:
                data[key] = value
        return orjson.dumps(data)

    whole = orjson.dumps(_valid_sale())
    return [
        (whole[: len(whole) // 2], "invalid_json"),  # truncated
        (b"\xff\xfe" + whole, "invalid_json"),  # not UTF-8
        (b'"SaleReported"', "invalid_json"),  # not an object
        (b"[]", "invalid_bundle"),  # a bundle of no events
        (b'["SaleReported"]', "invalid_json"),  # a bundle of something that is not an event
        (variant(unit_price=129.9), "schema_violation"),  # float money
        (variant(sold_at="2026-07-07T15:04:05"), "schema_violation"),  # naive datetime
        (variant(sku=_DROP), "schema_violation"),  # missing field
        (variant(event_type=_DROP), "schema_violation"),  # no event_type at all
        (variant(event_type="SaleRefunded"), "schema_violation"),  # unknown event type
        (variant(quantity=2.5), "schema_violation"),  # non-integer quantity
        (variant(quantity="3"), "schema_violation"),  # quantity as a string
        (variant(discount="5.00"), "schema_violation"),  # unknown extra field
        (variant(distributor_id="D01 "), "schema_violation"),  # id with trailing space
    ]


_DROP = object()
