"""Sell-in and sell-through totals of one bucket: a (distributor, sku) day, or a
distributor's week, month or quarter. Kept as their own values so a period or a range of
days is answered by reading its buckets, never the movements in them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from domain.calendar_periods import period_key as calendar_period_key
from domain.frozen import quick_init
from projections.positions import Position, advance

Granularity = Literal["week", "month", "quarter"]
GRANULARITIES: tuple[Granularity, ...] = ("week", "month", "quarter")


@quick_init
@dataclass(frozen=True, slots=True)
class InOut:
    sell_in: int = 0
    sell_through: int = 0
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> list[Any]:
        return [self.sell_in, self.sell_through, self.applied]

    @classmethod
    def from_json(cls, data: list[Any]) -> InOut:
        return cls(data[0], data[1], data[2])


def add_to(
    bucket: InOut | None, sell_in: int, sell_through: int, position: Position | None
) -> InOut | None:
    """The bucket with the movement added; None when the input was applied already."""
    bucket = bucket or InOut()
    applied = advance(bucket.applied, position)
    if applied is None:
        return None
    return InOut(bucket.sell_in + sell_in, bucket.sell_through + sell_through, applied)


def period_key(day: date, granularity: Granularity) -> str:
    """Period key: ISO week "2026-W28" (Monday start, ISO week-year), "2026-07" or "2026-Q3"."""
    if granularity == "week":
        iso = day.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    if granularity in ("month", "quarter"):
        return calendar_period_key(day, granularity)
    raise ValueError(f"unknown granularity {granularity!r}")


def granularity_of_key(key: str) -> Granularity:
    """The granularity a period key of `period_key`'s forms is written in."""
    return "week" if "-W" in key else "quarter" if "-Q" in key else "month"


def partial_period(now: datetime | None, granularity: Granularity) -> str | None:
    """The period "now" (the latest recorded time) falls in: it has not ended, so its
    totals are partial and a chart must not read its drop as a fall. None without data."""
    return None if now is None else period_key(now.astimezone(UTC).date(), granularity)


def period_bucket_key(distributor_id: str, granularity: Granularity, period: str) -> str:
    return f"{distributor_id}|{granularity}|{period}"
