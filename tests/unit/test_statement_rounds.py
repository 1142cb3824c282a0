"""A statement's adjustments do not depend on when recording rounds run.

Late lines recorded after a period's close are applied in broker order (recorded time,
then the order of the log: lines of the same ms in any order of their event ids) and
recording rounds run between any two of them; the statement they leave in the event store
must hold the adjustments a replay of the whole history derives, in its order and with its
amounts (each amount is the step's rebate less the total before it, so order matters).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from schemas.agreements import ExchangeRatePublished
from schemas.events import Envelope, ProductDefined, RebatePeriodClosed, SaleReported
from streams.kafka.messages import bundled, message_of
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from streams.runners.recording import AuditRecorder, Reach
from tests.unit.api.test_rebates_embedded import CLOSED_AT, Q3, program

LATE = CLOSED_AT + timedelta(days=5)
KEY = ("VPA-retroactive", "D01", "2026-Q3")


@dataclass(frozen=True)
class Late:
    """A late line: its quantity, the ms it was recorded in, its event id, its currency."""

    quantity: int
    ms: int
    event_id: uuid.UUID
    currency: str = "USD"


@dataclass(frozen=True)
class Rate:
    """The EUR rate of the lines' day, published late: the ms it was recorded in, its event
    id, and how many late lines were appended before it (at that ms, in the log)."""

    ms: int
    event_id: uuid.UUID
    after: int


late_lines = st.builds(
    Late,
    st.integers(-400, 400).filter(bool),
    st.integers(0, 2),
    st.uuids(version=4),
    st.sampled_from(["USD", "EUR"]),
)
rates = st.none() | st.builds(Rate, st.integers(0, 2), st.uuids(version=4), st.integers(0, 7))


def sale(
    txn: str, quantity: int, recorded: datetime, event_id: uuid.UUID, currency: str = "USD"
) -> SaleReported:
    return SaleReported(
        event_id=event_id, occurred_at=Q3, recorded_at=recorded, source="api",
        distributor_id="D01", transaction_id=txn, reseller_id="R1", sku="SKU-1",
        quantity=quantity, unit_price=Decimal("100.00"), currency=currency, sold_at=Q3,
    )  # fmt: skip


def eur_rate(rate: Rate) -> ExchangeRatePublished:
    recorded = LATE + timedelta(milliseconds=rate.ms)
    return ExchangeRatePublished(
        event_id=rate.event_id, occurred_at=recorded, recorded_at=recorded, source="erp",
        from_currency="EUR", to_currency="USD", rate=Decimal("1.10"),
        effective_date=Q3.date(), rate_source="ECB", published_at=recorded,
    )  # fmt: skip


def history() -> list[Envelope]:
    """A product, a tiered program, sales near a threshold (one in EUR, whose day has no
    rate at the close), and the period's close."""
    product = ProductDefined(
        event_id=uuid.uuid4(), occurred_at=Q3, source="erp", sku="SKU-1", base_unit="EA"
    )
    sales = [sale(f"T{n}", 1200, Q3, uuid.uuid4()) for n in range(2)]  # 240,000.00
    sales.append(sale("T2", 50, Q3, uuid.uuid4(), "EUR"))
    closed = RebatePeriodClosed(
        event_id=uuid.uuid4(), occurred_at=CLOSED_AT, source="erp", program_id=KEY[0],
        period=KEY[2], closed_at=CLOSED_AT, closed_by="finance-carol",
    )  # fmt: skip
    return [product, program("retroactive"), *sales, closed]


def inputs_of(events: list[Envelope]) -> list[Input]:
    return [Input(b.value, b.key.decode(), "embedded") for b in bundled(map(message_of, events))]


def adjustments(channel: EmbeddedChannel) -> list[tuple[str, Decimal]]:
    statement = channel.audit.rebate_statement(*KEY)
    return [(a.event_id, a.amount) for a in statement.adjustments]


def replayed(events: list[Envelope]) -> EmbeddedChannel:
    """The auditor's replay: the whole history applied, then recorded once."""
    channel = EmbeddedChannel(rebate_grace_days=10_000)
    channel.record(channel.apply(inputs_of(events)))
    return channel


def live(events: list[Envelope], rounds: list[bool], lag: int = 0) -> EmbeddedChannel:
    """A worker: the events applied one by one in this order, a recording round after
    those `rounds` marks (and one at the end); a round knows what it has applied as the
    worker does: of its partition, everything recorded before the newest recorded time
    applied, or all; of the reference data (a rate, read by the worker's replica, which
    gets to it `lag` events late), everything recorded before the rate until it has it."""
    channel = EmbeddedChannel(rebate_grace_days=10_000)
    recorder = AuditRecorder(channel.audit, 10_000)
    rates = [e for e in events if isinstance(e, ExchangeRatePublished)]
    order = [e for e in events if e not in rates]
    for rate in rates:
        order.insert(min(events.index(rate) + lag, len(order)), rate)
    unread = list(rates)  # by the replica
    applied: list[datetime] = []

    def horizon(distributor_id: str, basis: str) -> Reach:
        newest = None if len(applied) + len(rates) == len(events) else applied[-1]
        replica = min((rate.recorded_at for rate in unread if rate.recorded_at), default=None)
        return Reach(newest, newest).within(replica)

    for n, event in enumerate(order):
        channel.apply(inputs_of([event]))
        if event in unread:
            unread.remove(event)
        else:
            applied.append(event.recorded_at or event.occurred_at)
        if n == len(order) - 1 or rounds[n % len(rounds)]:
            recorder.round(channel.stores, None, None, lambda _: True, horizon)
    return channel


@settings(max_examples=150)
@given(
    lines=st.lists(late_lines, min_size=2, max_size=7, unique_by=lambda line: line.event_id),
    rate=rates,
    rounds=st.lists(st.booleans(), min_size=1, max_size=8),
)
@example(  # two lines of one ms, applied against their ids' order, a round between them
    lines=[
        Late(300, 0, uuid.UUID("ffffffff-0000-4000-8000-000000000000")),
        Late(-200, 0, uuid.UUID("00000000-0000-4000-8000-000000000000")),
    ],
    rate=None,
    rounds=[True],
)
def test_rounds_at_any_point_record_the_replays_adjustments(
    lines: list[Late], rate: Rate | None, rounds: list[bool]
) -> None:
    events = with_late(lines, rate)
    expected = adjustments(replayed(events))
    assert len(expected) >= len(lines)  # and the rate's, once it converts the EUR day
    assert adjustments(live(events, rounds)) == expected


@settings(max_examples=150)
@given(
    lines=st.lists(late_lines, min_size=2, max_size=7, unique_by=lambda line: line.event_id),
    rate=st.builds(Rate, st.integers(0, 2), st.uuids(version=4), st.integers(0, 7)),
    rounds=st.lists(st.booleans(), min_size=1, max_size=8),
    lag=st.integers(1, 4),
)
@example(  # the rate, then a EUR line a ms later: the line applied, a round, then the rate
    lines=[
        Late(300, 1, uuid.UUID("00000000-0000-4000-8000-000000000001"), "EUR"),
        Late(-200, 2, uuid.UUID("00000000-0000-4000-8000-000000000002")),
    ],
    rate=Rate(0, uuid.UUID("00000000-0000-4000-8000-000000000000"), 0),
    rounds=[True],
    lag=2,
)
def test_a_replica_behind_with_a_rate_changes_no_adjustment(
    lines: list[Late], rate: Rate, rounds: list[bool], lag: int
) -> None:
    """The worker's reference data (the rates) is read by a replica of its own, which may
    get to a rate after the partition has applied lines recorded later."""
    events = with_late(lines, rate)
    assert adjustments(live(events, rounds, lag)) == adjustments(replayed(events))


def with_late(lines: list[Late], rate: Rate | None) -> list[Envelope]:
    """The history, then the late lines (and the rate) in broker order: by recorded time;
    events of one ms in the order they were drawn."""
    late: list[Envelope] = [
        sale(f"L{n}", line.quantity, LATE + timedelta(milliseconds=line.ms), line.event_id,
             line.currency)
        for n, line in enumerate(lines)
    ]  # fmt: skip
    if rate is not None:
        late.insert(rate.after, eur_rate(rate))
    return history() + sorted(late, key=lambda event: event.recorded_at or event.occurred_at)
