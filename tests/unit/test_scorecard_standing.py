"""An ended period's scorecard shows its standing at its end (docs/SCORECARD.md, "Standings
of past periods"), worked out by hand; and a property: that standing is the one a read at
the period's last instant gave, with only the events dated up to then, and a replay gives
the same cards as the live channel.

D1 (programs P1, quarterly, and P2, yearly: sell-through revenue, USD, retroactive):
- Jul 2 shipped 40 (SKU-1, cost 80.00); sold 1 to R3 on Jul 5, 4 to R1 on Sep 10, 4 to R2
  on Sep 20, each at 100.00 → Q3: 900.00 sell-through; Q3 targets 1,000.00, 4 resellers;
- after the quarter: shipped 20 on Oct 3, sold 10 to R4 on Oct 5; read on Oct 10.

Q3 at Sep 30: stock 40 − 9 = 31 over 8 sold in the 28 days to Sep 30 (2 a week): 15.5
weeks; active resellers R1, R2, R3 (R3's Jul 5 is within 90 days): 3; P1's Q3 900.00: tier
1 of 2 (gap 100.00 to 1,000); P2's year to Sep 30 900.00: no tier of 2 (gap 100.00; the
October sale, which would make it 1,900.00, is after the end).
Parts: sell_through 0.9000, inventory 8 ÷ 15.5 = 0.5161, timeliness 0 (13 weeks missing,
Jul 6 .. Sep 28), data_quality 1, pricing 1, resellers 3 ÷ 4 = 0.7500, rebates (1/2 + 0/2)
÷ 2 = 0.2500. Score 100 × (0.25 × 0.9 + 0.10 × 0.5161 + 0 + 0.15 + 0.15 + 0.10 × 0.75 +
0.10 × 0.25) = 67.661 → 67.7 (before: no inventory, resellers nor rebates part, 75.0).

July at Jul 31: stock 39 over the 1 sold in the 28 days to Jul 31: 156.0 weeks; 1 reseller
(R3); P1 and P2 cut at Jul 31: 100.00, no tier (gaps 400.00 and 900.00).

Q3 closed for P1 on Oct 8, then a sale of 2 to R1 dated Sep 25 recorded Oct 9: P1's
statement stays at tier 1 (900.00 at the close; its accrual would reach tier 2), P2's year
to Sep 30 is 1,100.00: tier 1; stock 29 over 10 sold: 11.6 weeks; rebates part 0.5000.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.scorecard_reads import period_cards
from projections.scorecard_rows import card_row
from schemas.codec import encode_event
from schemas.events import (
    DistributorTargetsSet,
    Envelope,
    PriceChanged,
    ProductDefined,
    RebatePeriodClosed,
    RebateProgramDefined,
    SaleReported,
    ShipmentRecorded,
    Tier,
)
from streams.runners.embedded import EmbeddedChannel, file_inputs

JUNE: Final = datetime(2026, 6, 1, tzinfo=UTC)
OCTOBER_10: Final = datetime(2026, 10, 10, 12, tzinfo=UTC)
#: the last instant of Q3 (and of September)
Q3_LAST: Final = datetime(2026, 10, 1, tzinfo=UTC) - timedelta(microseconds=1)
NO_AUTOMATIC_CLOSE: Final = 10_000


def _ids(start: int) -> Iterator[UUID]:
    n = start
    while True:
        n += 1
        yield UUID(int=0x57A << 64 | n, version=4)


IDS: Final = _ids(0)


def _envelope(at: datetime, source: str = "erp") -> dict[str, Any]:
    return {"event_id": next(IDS), "occurred_at": at, "recorded_at": at, "source": source}


def _day(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=UTC)


def reference() -> list[Envelope]:
    """SKU-1 (cost 80.00, floor 95.00), P1 (quarter: 500, 1,000) and P2 (year: 1,000,
    2,000)."""
    return [
        ProductDefined(**_envelope(JUNE), sku="SKU-1", base_unit="EA"),
        PriceChanged(**_envelope(JUNE), sku="SKU-1", distributor_cost=Decimal("80.00"),
                     floor_price=Decimal("95.00"), currency="USD", effective_from=JUNE),
        program("P1", "quarter", "500", "1000"),
        program("P2", "year", "1000", "2000"),
    ]  # fmt: skip


def program(
    program_id: str, period: Literal["quarter", "year"], low: str, high: str
) -> RebateProgramDefined:
    return RebateProgramDefined(
        **_envelope(JUNE), program_id=program_id, distributor_ids="all", basis="sell_through",
        measure="revenue", period=period, tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal(low), rate=Decimal("0.01")),
               Tier(threshold=Decimal(high), rate=Decimal("0.02"))],
    )  # fmt: skip


def shipped(shipment: str, quantity: int, at: datetime) -> ShipmentRecorded:
    return ShipmentRecorded(
        **_envelope(at), shipment_id=shipment, distributor_id="D1", sku="SKU-1",
        quantity=quantity, unit_price=Decimal("90.00"), currency="USD", shipped_at=at,
    )  # fmt: skip


def sold(
    txn: str, quantity: int, reseller: str, at: datetime, recorded: datetime | None = None
) -> SaleReported:
    return SaleReported(
        **{**_envelope(at, "api"), "recorded_at": recorded or at}, distributor_id="D1",
        transaction_id=txn, reseller_id=reseller, sku="SKU-1", quantity=quantity,
        unit_price=Decimal("100.00"), currency="USD", sold_at=at,
    )  # fmt: skip


def quarter_events() -> list[Envelope]:
    """D1's third quarter and its October, in the order they are recorded."""
    targets = DistributorTargetsSet(
        **_envelope(_day(7, 1)), distributor_id="D1", period="2026-Q3",
        sell_through_revenue=Decimal("1000.00"), currency="USD", reseller_population=4,
        weeks_of_supply_min=Decimal("4.0"), weeks_of_supply_max=Decimal("8.0"),
        set_by="channel-ann", set_at=_day(7, 1),
    )  # fmt: skip
    return [
        targets,
        shipped("SH1", 40, _day(7, 2)),
        sold("T1", 1, "R3", _day(7, 5)),
        sold("T2", 4, "R1", _day(9, 10)),
        sold("T3", 4, "R2", _day(9, 20)),
        shipped("SH2", 20, _day(10, 3)),
        sold("T4", 10, "R4", _day(10, 5)),
    ]


def closed_then_late() -> list[Envelope]:
    """P1's Q3 closed on Oct 8; a sale dated Sep 25 recorded after it."""
    close = RebatePeriodClosed(
        **_envelope(_day(10, 8)), program_id="P1", period="2026-Q3", closed_at=_day(10, 8),
        closed_by="finance-fay",
    )  # fmt: skip
    return [close, sold("T5", 2, "R1", _day(9, 25), recorded=_day(10, 9))]


def fed(*runs: list[Envelope]) -> EmbeddedChannel:
    channel = EmbeddedChannel(rebate_grace_days=NO_AUTOMATIC_CLOSE)
    for run in runs:
        channel.feed_events(run)
    return channel


def row(channel: EmbeddedChannel, period: str, now: datetime) -> dict[str, Any]:
    [card] = period_cards(channel.stores, period, now, ["D1"])
    return card_row(card, None)


def _rebate(program: str, reached: int, threshold: str, gap: str) -> dict[str, Any]:
    return {"program_id": program, "tiers_reached": reached, "tiers": 2,
            "next_threshold": threshold, "gap_to_next": gap}  # fmt: skip


def test_the_q3_card_read_in_october_shows_its_standing_at_september_30() -> None:
    found = row(fed(reference(), quarter_events()), "2026-Q3", OCTOBER_10)
    assert (found["sell_through_units"], found["sell_through_revenue"]) == (9, "900.00")
    assert (found["weeks_on_time"], found["weeks_late"], found["weeks_missing"]) == (0, 0, 13)
    assert (found["weeks_of_supply"], found["active_resellers"]) == ("15.5", 3)
    assert found["rebates"] == [_rebate("P1", 1, "1000", "100.00"),
                                _rebate("P2", 0, "1000", "100.00")]  # fmt: skip
    assert found["parts"] == {
        "sell_through": "0.9000", "inventory": "0.5161", "timeliness": "0.0000",
        "data_quality": "1.0000", "pricing": "1.0000", "resellers": "0.7500",
        "rebates": "0.2500",
    }  # fmt: skip
    assert found["score"] == "67.7"
    # September ends with the quarter: the same standing
    september = row(fed(reference(), quarter_events()), "2026-09", OCTOBER_10)
    assert (september["weeks_of_supply"], september["active_resellers"]) == ("15.5", 3)


def test_a_month_ended_inside_the_quarter_stands_at_its_own_end() -> None:
    channel = fed(reference(), quarter_events())
    july = row(channel, "2026-07", OCTOBER_10)
    assert (july["weeks_of_supply"], july["active_resellers"]) == ("156.0", 1)
    assert july["rebates"] == [_rebate("P1", 0, "500", "400.00"),
                               _rebate("P2", 0, "1000", "900.00")]  # fmt: skip
    # read as of a time inside the quarter: the standing then, not at the quarter's end;
    # July has ended by then
    mid = datetime(2026, 8, 15, tzinfo=UTC)
    assert row(channel, "2026-07", mid)["weeks_of_supply"] == "156.0"
    assert row(channel, "2026-Q3", mid)["active_resellers"] == 1


def test_a_card_read_as_of_a_day_inside_its_period_stands_at_that_day() -> None:
    """Q3 as of Sep 15: stock 40 − 1 − 4 = 35 (not the 41 held on October 10: SH2, T3 and
    T4 are dated later) over the 4 sold in the 28 days to Sep 15: 35.0 weeks; R1 and R3
    active."""
    found = row(fed(reference(), quarter_events()), "2026-Q3", _day(9, 15))
    assert (found["weeks_of_supply"], found["active_resellers"]) == ("35.0", 2)


def test_a_closed_program_period_shows_its_statements_tier() -> None:
    found = row(fed(reference(), quarter_events(), closed_then_late()), "2026-Q3", OCTOBER_10)
    assert (found["weeks_of_supply"], found["active_resellers"]) == ("11.6", 3)
    assert found["rebates"] == [_rebate("P1", 1, "1000", "100.00"),
                                _rebate("P2", 1, "2000", "900.00")]  # fmt: skip
    assert found["parts"]["rebates"] == "0.5000"


# --- a property: the end's standing is the standing read then; the replay equals live ---

DAYS: Final = st.integers(0, 120).map(
    lambda n: datetime(2026, 7, 1, 9, tzinfo=UTC) + timedelta(days=n)
)
MOVES: Final = st.lists(
    st.tuples(st.booleans(), st.integers(1, 9), st.sampled_from(["R1", "R2", "R3"]), DAYS,
              st.integers(0, 20)),
    min_size=1, max_size=12,
)  # fmt: skip
STANDING: Final = ("weeks_of_supply", "active_resellers", "rebates")


def _moves(drawn: list[tuple[bool, int, str, datetime, int]]) -> list[Envelope]:
    """Shipments and sales at their days, each recorded 0..20 days later, in the order
    recorded."""
    events: list[Envelope] = []
    for n, (is_shipment, quantity, reseller, at, delay) in enumerate(drawn):
        recorded = at + timedelta(days=delay)
        if is_shipment:
            event: Envelope = shipped(f"S{n}", quantity, at).model_copy(
                update={"recorded_at": recorded}
            )
        else:
            event = sold(f"T{n}", quantity, reseller, at, recorded)
        events.append(event)
    return sorted(events, key=lambda event: event.recorded_at or event.occurred_at)


@settings(max_examples=40)
@given(drawn=MOVES)
def test_the_ends_standing_is_the_standing_then_and_a_replay_equals_live(
    drawn: list[tuple[bool, int, str, datetime, int]], tmp_path_factory: Any
) -> None:
    events = _moves(drawn)
    live = EmbeddedChannel(rebate_grace_days=NO_AUTOMATIC_CLOSE)
    live.feed_events(reference())
    for event in events:  # one at a time, as they are recorded
        live.feed_events([event])
    later = datetime(2026, 11, 30, tzinfo=UTC)
    for period in ("2026-07", "2026-08", "2026-Q3"):
        ended = row(live, period, later)
        dated = [e for e in events if e.business_time <= _last_of(period)]
        then = row(fed(reference(), dated), period, _last_of(period))
        assert {k: ended[k] for k in STANDING} == {k: then[k] for k in STANDING}
    inside = datetime(2026, 8, 20, tzinfo=UTC) - timedelta(microseconds=1)
    as_of = row(live, "2026-Q3", inside)
    then = row(
        fed(reference(), [e for e in events if e.business_time <= inside]), "2026-Q3", inside
    )
    assert as_of["weeks_of_supply"] == then["weeks_of_supply"]
    assert as_of["active_resellers"] == then["active_resellers"]
    history = Path(tmp_path_factory.mktemp("history")) / "events.jsonl"
    history.write_bytes(b"".join(encode_event(e) + b"\n" for e in [*reference(), *events]))
    replay = EmbeddedChannel(rebate_grace_days=NO_AUTOMATIC_CLOSE)
    replay.feed(file_inputs(history))
    assert replay.snapshot(later)["scorecards"] == live.snapshot(later)["scorecards"]


def _last_of(period: str) -> datetime:
    ends = {"2026-07": (8, 1), "2026-08": (9, 1), "2026-Q3": (10, 1)}
    month, day = ends[period]
    return datetime(2026, month, day, tzinfo=UTC) - timedelta(microseconds=1)
