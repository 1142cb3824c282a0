"""A small channel whose July 2026 scorecards are worked out by hand (docs/SCORECARD.md,
"A case through the runners"): the events, and the figures they must give.

D1 (targets for 2026-07: 1,000.00 USD sell-through, 4 resellers, 4-8 weeks of supply):
- shipped SKU-1 20 × 90.00 and SKU-2 5 × 50.00 → sell-in 25 units, 2,050.00;
- sold (SKU-1 at cost 80.00, floor 95.00; SKU-2 has no price): T1 3 × 100.00 (R1), T2
  2 × 90.00 (R1, major: 5.3 % under the floor), T3 1 × 93.00 (R1, minor: 2.1 %), T4 1 ×
  100.00 EUR (R2), T5 SKU-2 1 × 100.00 (R2, cost unknown), T6 −1 × 100.00 (R3, a return),
  T7 1 × 100.00 (R3) → 8 units, 673.00 USD (T4's revenue is not counted); the lines of
  known cost: 573.00 − 480.00 = 93.00 margin, rate 0.1623;
- T1 sent again (a duplicate), T2 sent again with another quantity (a conflict), one line
  rejected by the gateway → 10 lines: 7 accepted (0.7000), 1 of each other verdict;
  violations 1 minor and 1 major per 7 accepted: 142.86 per 1,000 each;
- reports: the week of 07-06 on time, the week of 07-13 late; at "now" (07-31 18:00, the
  latest recorded time) the week of 07-20 is missing (due 07-29); that of 07-27 is not
  due yet (08-05);
- stock 13 + 4 = 17 over 8 sold in 4 weeks (2 a week): 8.5 weeks of supply; 3 resellers
  active; program P1 (sell-through revenue, tiers at 500 and 1,000): tier 1 of 2, gap 327.00.

Parts: sell_through 673 ÷ 1,000 = 0.6730; inventory 8 ÷ 8.5 = 0.9412; timeliness (1 + 0.5)
÷ 3 = 0.5000; data_quality 0.7000; pricing 1 − (1 + 3) × 1,000 ÷ 7 ÷ 100 < 0 → 0; resellers
3 ÷ 4 = 0.7500; rebates 0.5000. Score 100 × (0.25 × 0.6730 + 0.10 × 0.9412 + 0.15 × 0.5
+ 0.15 × 0.7 + 0.15 × 0 + 0.10 × 0.75 + 0.10 × 0.5) = 56.737 → 56.7. The quarter: the
same without the targets, (0.10 × 0.9412 + 0.15 × 0.5 + 0.15 × 0.7 + 0 + 0.10 × 0.5) ÷ 0.65
= 49.865 → 49.9.

D2 (no targets): shipped 30, sold 10 × 100.00 at cost 80.00 (one line), no report: 8.0
weeks (in the band: 1), three weeks missing (0), data quality and pricing 1, P1 at its top
tier 2 of 2 (1) → (0.10 + 0 + 0.15 + 0.15 + 0.10) ÷ 0.65 = 76.9. July's ranking: D2, D1;
D1's share of channel revenue 673 ÷ 1,673 = 0.4023.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from schemas.events import (
    DistributorTargetsSet,
    Envelope,
    LineRejected,
    PriceChanged,
    ProductDefined,
    RebateProgramDefined,
    ReportSubmitted,
    SaleReported,
    ShipmentRecorded,
    Tier,
)

SOLD: Final = datetime(2026, 7, 7, 10, tzinfo=UTC)
NOW: Final = datetime(2026, 7, 31, 18, tzinfo=UTC)
JUNE: Final = datetime(2026, 6, 1, tzinfo=UTC)


def _ids() -> Iterator[UUID]:
    n = 0
    while True:
        n += 1
        yield UUID(int=0x5C0 << 64 | n, version=4)


def _envelope(ids: Iterator[UUID], at: datetime, source: str = "erp") -> dict[str, Any]:
    return {"event_id": next(ids), "occurred_at": at, "recorded_at": at, "source": source}


def reference_events() -> list[Envelope]:
    """The catalog, SKU-1's price and the rebate program."""
    ids = _ids()
    return [
        *(ProductDefined(**_envelope(ids, JUNE), sku=sku, base_unit="EA")
          for sku in ("SKU-1", "SKU-2")),
        PriceChanged(**_envelope(ids, JUNE), sku="SKU-1", distributor_cost=Decimal("80.00"),
                     floor_price=Decimal("95.00"), currency="USD", effective_from=JUNE),
        RebateProgramDefined(
            **_envelope(ids, JUNE), program_id="P1", distributor_ids="all",
            basis="sell_through", measure="revenue", period="quarter", tier_mode="retroactive",
            currency="USD", tiers=[Tier(threshold=Decimal("500"), rate=Decimal("0.01")),
                                   Tier(threshold=Decimal("1000"), rate=Decimal("0.02"))],
        ),
    ]  # fmt: skip


def _sale(
    ids: Iterator[UUID], distributor: str, txn: str, sku: str, quantity: int, price: str,
    reseller: str, currency: str = "USD",
) -> SaleReported:  # fmt: skip
    return SaleReported(
        **_envelope(ids, SOLD, "api"), distributor_id=distributor, transaction_id=txn,
        reseller_id=reseller, sku=sku, quantity=quantity, unit_price=Decimal(price),
        currency=currency, sold_at=SOLD,
    )  # fmt: skip


def _shipment(
    ids: Iterator[UUID], distributor: str, shipment: str, sku: str, quantity: int, price: str
) -> ShipmentRecorded:
    at = datetime(2026, 7, 2, tzinfo=UTC)
    return ShipmentRecorded(
        **_envelope(ids, at), shipment_id=shipment, distributor_id=distributor, sku=sku,
        quantity=quantity, unit_price=Decimal(price), currency="USD", shipped_at=at,
    )  # fmt: skip


def _report(
    ids: Iterator[UUID], report: str, monday: datetime, submitted: datetime
) -> ReportSubmitted:
    return ReportSubmitted(
        **_envelope(ids, submitted, "csv"), distributor_id="D1", report_id=report,
        period_start=monday.date(), period_end=(monday + timedelta(days=6)).date(),
        line_count=0, submitted_at=submitted,
    )  # fmt: skip


def channel_events() -> list[Envelope]:
    """D1's and D2's July, in the order they are recorded; the last recorded at NOW."""
    ids = _ids()
    for _ in range(100):  # other ids than the reference events'
        next(ids)
    d1 = [
        _shipment(ids, "D1", "SH1", "SKU-1", 20, "90.00"),
        _shipment(ids, "D1", "SH2", "SKU-2", 5, "50.00"),
        _sale(ids, "D1", "T1", "SKU-1", 3, "100.00", "R1"),
        _sale(ids, "D1", "T2", "SKU-1", 2, "90.00", "R1"),
        _sale(ids, "D1", "T3", "SKU-1", 1, "93.00", "R1"),
        _sale(ids, "D1", "T4", "SKU-1", 1, "100.00", "R2", currency="EUR"),
        _sale(ids, "D1", "T5", "SKU-2", 1, "100.00", "R2"),
        _sale(ids, "D1", "T6", "SKU-1", -1, "100.00", "R3"),
        _sale(ids, "D1", "T7", "SKU-1", 1, "100.00", "R3"),
        _sale(ids, "D1", "T1", "SKU-1", 3, "100.00", "R1"),  # a duplicate
        _sale(ids, "D1", "T2", "SKU-1", 3, "90.00", "R1"),  # a conflict
        LineRejected(
            **_envelope(ids, SOLD, "csv"), distributor_id="D1", reason="bad_quantity",
            detail="quantity: not a number", original_b64=base64.b64encode(b"x").decode(),
        ),
        _report(ids, "R-0706", datetime(2026, 7, 6, tzinfo=UTC),
                datetime(2026, 7, 13, 9, tzinfo=UTC)),
        _report(ids, "R-0713", datetime(2026, 7, 13, tzinfo=UTC),
                datetime(2026, 7, 25, 9, tzinfo=UTC)),
    ]  # fmt: skip
    d2 = [
        _shipment(ids, "D2", "SH3", "SKU-1", 30, "90.00"),
        _sale(ids, "D2", "T1", "SKU-1", 10, "100.00", "R9"),
    ]
    targets = DistributorTargetsSet(
        **_envelope(ids, NOW), distributor_id="D1", period="2026-07",
        sell_through_revenue=Decimal("1000.00"), currency="USD", reseller_population=4,
        weeks_of_supply_min=Decimal("4.0"), weeks_of_supply_max=Decimal("8.0"),
        set_by="channel-ann", set_at=NOW,
    )  # fmt: skip
    return [*d1, *d2, targets]


#: the figures of D1's July card, worked out by hand (above)
D1_JULY: Final = {
    "distributor_id": "D1", "period": "2026-07", "currency": "USD",
    "sell_in_units": 25, "sell_in_revenue": "2050.00",
    "sell_through_units": 8, "sell_through_revenue": "673.00",
    "share_of_channel_revenue": "0.4023",
    "gross_margin": "93.00", "gross_margin_rate": "0.1623", "unknown_cost_lines": 1,
    "weeks_of_supply": "8.5", "weeks_on_time": 1, "weeks_late": 1, "weeks_missing": 1,
    "accepted_lines": 7, "duplicate_lines": 1, "conflict_lines": 1, "rejected_lines": 1,
    "accepted_rate": "0.7000", "duplicate_rate": "0.1000", "conflict_rate": "0.1000",
    "rejected_rate": "0.1000",
    "minor_per_1000": "142.86", "major_per_1000": "142.86", "critical_per_1000": "0.00",
    "active_resellers": 3, "reseller_target": 4, "revenue_target": "1000.00",
    "rebates": [{"program_id": "P1", "tiers_reached": 1, "tiers": 2,
                 "next_threshold": "1000", "gap_to_next": "327.00"}],
    "other_currency_lines": 1,
    "parts": {"sell_through": "0.6730", "inventory": "0.9412", "timeliness": "0.5000",
              "data_quality": "0.7000", "pricing": "0.0000", "resellers": "0.7500",
              "rebates": "0.5000"},
    "score": "56.7", "rank": 2,
}  # fmt: skip
D2_JULY_SCORE: Final = "76.9"
#: D1's quarter: the same inputs, no targets (sell_through and resellers left out)
D1_Q3_SCORE: Final = "49.9"
