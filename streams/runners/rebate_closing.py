"""Closing rebate periods: the close event every runner publishes the same way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from domain.business_time import TimeRules
from domain.identity import derived_id
from domain.rebate_programs import period_bounds
from projections.rebate_accruals import due_closes
from projections.snapshot import distributors, now_of
from projections.stores import ChannelStores
from schemas.codec import describe, encode_event
from schemas.events import RebatePeriodClosed
from streams.runners.processing import Input, process_batch


def close_event(
    program_id: str, period: str, closed_at: datetime, closed_by: str
) -> RebatePeriodClosed:
    """A close; automatic ones get an id derived from the period, so repeats are redeliveries.
    A period that is no key, or an id the event cannot carry, is a ValueError in one line
    (the API's 400, the CLI's status 2), not the model's multi-line error."""
    period_bounds(period)
    automatic = closed_by == "auto"
    event_id = derived_id("rebate-close", program_id, period) if automatic else uuid.uuid4()
    try:
        return RebatePeriodClosed(
            event_id=event_id,
            occurred_at=closed_at,
            recorded_at=closed_at if automatic else datetime.now(UTC),
            source="erp",
            program_id=program_id,
            period=period,
            closed_at=closed_at,
            closed_by=closed_by,
        )
    except ValidationError as exc:
        raise ValueError(describe(exc)) from None


def automatic_closes(
    stores: ChannelStores, grace_days: int, now: datetime | None = None
) -> list[RebatePeriodClosed]:
    """Close events for periods whose grace has passed by `now` (default: the recorded-time
    clock; a worker passes the later of that and its wall clock)."""
    now = now or now_of(stores)
    if now is None:
        return []
    due = due_closes(
        stores.programs.values(),
        stores.rebate_buckets,
        distributors(stores),
        stores.closed_periods,
        now,
        timedelta(days=grace_days),
    )
    return [close_event(program, period, at, "auto") for program, period, at in due]


def apply_automatic_closes(
    stores: ChannelStores, grace_days: int, rules: TimeRules, now: datetime | None = None
) -> None:
    """Apply the close of every period due by `now` (default: the clock), like any input."""
    closes = automatic_closes(stores, grace_days, now)
    if closes:
        auto = (Input(encode_event(c), None, "auto-close") for c in closes)
        process_batch(stores, auto, rules=rules)
