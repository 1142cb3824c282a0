"""Rebate programs, terms and inputs shared by the rebate math tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import settings

from domain.rebate_programs import terms_of
from domain.rebates import ProgramTerms, RebateInputs
from projections.keyvalue import DictStore
from projections.rebate_buckets import RebateBucket
from schemas.events import RebateProgramDefined, Tier

BOUNDED = settings(max_examples=150)
T0 = datetime(2026, 7, 1, tzinfo=UTC)
EXAMPLE_TIERS = (("0", "0"), ("100000", "0.02"), ("250000", "0.035"))


def program(**changes: Any) -> RebateProgramDefined:
    fields: dict[str, Any] = {
        "event_id": UUID(int=1, version=4),
        "occurred_at": T0,
        "source": "erp",
        "program_id": "VPA-1",
        "distributor_ids": "all",
        "basis": "sell_through",
        "measure": "revenue",
        "period": "quarter",
        "tiers": [Tier(threshold=Decimal(t), rate=Decimal(r)) for t, r in EXAMPLE_TIERS],
        "tier_mode": "retroactive",
        "currency": "USD",
    }
    fields.update(changes)
    return RebateProgramDefined(**fields)


def terms(**changes: Any) -> ProgramTerms:
    return terms_of(program(**changes))


def revenue_inputs(revenue: str | Decimal, units: int = 1000) -> RebateInputs:
    amount = Decimal(revenue)
    return RebateInputs(volume=amount, revenue=amount, units=units, event_count=1, digest="d")


def units_inputs(units: int, revenue: str | Decimal) -> RebateInputs:
    return RebateInputs(
        volume=Decimal(units), revenue=Decimal(revenue), units=units, event_count=1, digest="d"
    )


def tiers(*pairs: tuple[str, str]) -> list[Tier]:
    return [Tier(threshold=Decimal(t), rate=Decimal(r)) for t, r in pairs]


class CountingDays(DictStore[RebateBucket]):
    """Day tallies that count how many a read scanned (reads cost what they return)."""

    def __init__(self) -> None:
        super().__init__()
        self.read = 0

    def scan(
        self, prefix: str = "", start: str | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, RebateBucket]]:
        for found in super().scan(prefix, start, reverse):
            self.read += 1
            yield found
