"""Report replacement: the replaced lines are reversed, their keys released, history kept."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from projections.channel import Outcome, apply_event
from projections.dedup import Resend, SeenEntry, Verdict
from projections.inventory import Move
from projections.movement_lines import REPLACED_REPORT
from projections.positions import Position
from projections.rebate_accruals import ClosedPeriod, closed_key
from projections.snapshot import build_snapshot, rebate_statements, top_resellers_of
from projections.stores import ChannelStores
from schemas.events import (
    Envelope,
    RebateProgramDefined,
    ReportSubmitted,
    SaleReported,
    ShipmentRecorded,
    Tier,
)
from tests.unit.catalog import catalog_stores

SOLD = datetime(2026, 8, 4, 15, tzinfo=UTC)  # a Tuesday in 2026-Q3
MONDAY = date(2026, 8, 3)
FIRST = datetime(2026, 8, 10, 9, tzinfo=UTC)
SECOND = datetime(2026, 8, 12, 9, tzinfo=UTC)
SALES = "channelflow.sales:0"


def uid(n: int) -> UUID:
    return UUID(int=n, version=4)


def header(
    n: int,
    report_id: str,
    replaces: str | None = None,
    at: datetime = FIRST,
    distributor: str = "D01",
) -> ReportSubmitted:
    return ReportSubmitted(
        event_id=uid(n),
        occurred_at=at,
        recorded_at=at,
        source="edi867",
        distributor_id=distributor,
        report_id=report_id,
        period_start=MONDAY,
        period_end=MONDAY + timedelta(days=6),
        line_count=2,
        submitted_at=at,
        replaces_report_id=replaces,
    )


def line(
    n: int,
    txn: str,
    quantity: int,
    report_id: str | None,
    price: str = "100.00",
    recorded: datetime = FIRST,
    distributor: str = "D01",
    reseller: str = "RS1",
) -> SaleReported:
    return SaleReported(
        event_id=uid(n),
        occurred_at=SOLD,
        recorded_at=recorded,
        source="edi867",
        distributor_id=distributor,
        transaction_id=txn,
        reseller_id=reseller,
        sku="SKU-1",
        quantity=quantity,
        unit_price=Decimal(price),
        currency="USD",
        sold_at=SOLD,
        report_id=report_id,
    )


def shipment() -> ShipmentRecorded:
    at = SOLD - timedelta(days=2)
    return ShipmentRecorded(
        event_id=uid(900),
        occurred_at=at,
        source="erp",
        shipment_id="SH1",
        distributor_id="D01",
        sku="SKU-1",
        quantity=100,
        unit_price=Decimal("80.00"),
        currency="USD",
        shipped_at=at,
    )


def program() -> RebateProgramDefined:
    return RebateProgramDefined(
        event_id=uid(901), occurred_at=datetime(2026, 6, 1, tzinfo=UTC), source="erp",
        program_id="VPA", distributor_ids="all", basis="sell_through", measure="revenue",
        period="quarter", tier_mode="retroactive", currency="USD",
        tiers=[Tier(threshold=Decimal("0"), rate=Decimal("0.02"))],
    )  # fmt: skip


ORIGINAL: list[Envelope] = [
    header(1, "R1"),
    line(2, "T1", 3, "R1"),
    line(3, "T2", 5, "R1", reseller="RS2"),
]


def run(stores: ChannelStores, events: list[Envelope], positioned: bool = False) -> list[Outcome]:
    outcomes = []
    for offset, event in enumerate(events):
        position = Position(SALES, offset) if positioned else None
        outcomes.append(apply_event(stores, event, position))
    return outcomes


def fresh() -> ChannelStores:
    stores = catalog_stores("SKU-1")
    apply_event(stores, shipment(), None)
    apply_event(stores, program(), None)
    return stores


def inventory(stores: ChannelStores) -> dict[str, Any]:
    (row,) = build_snapshot(stores)["inventory"]
    return row


def quality(stores: ChannelStores) -> dict[str, Any]:
    (row,) = build_snapshot(stores)["quality"]
    return row


def report(stores: ChannelStores, report_id: str) -> dict[str, Any]:
    rows = build_snapshot(stores)["reports"]
    return next(row for row in rows if row["report_id"] == report_id)


def moves(stores: ChannelStores) -> list[Move]:
    return [move for _, move in stores.moves.scan()]


def comparable(stores: ChannelStores) -> dict[str, Any]:
    """What an identical replacement must leave as it was (counts aside)."""
    snapshot = build_snapshot(stores)
    return {
        "inventory": snapshot["inventory"],
        "sell_in_vs_through": snapshot["sell_in_vs_through"],
        "rebates": [{**row, "events": None} for row in snapshot["rebates"]],
        "resellers": snapshot["resellers"],
        "top": top_resellers_of(stores, "D01"),
    }


def test_an_identical_replacement_nets_to_zero_and_keeps_history() -> None:
    stores = fresh()
    run(stores, ORIGINAL)
    before = comparable(stores)
    assert inventory(stores)["sell_through"] == 8

    replacement = [header(4, "R2", "R1", SECOND), line(5, "T1", 3, "R2"), line(6, "T2", 5, "R2")]
    replacement[2] = line(6, "T2", 5, "R2", reseller="RS2", recorded=SECOND)
    outcomes = run(stores, replacement)
    assert [o.verdict for o in outcomes] == [Verdict.ACCEPTED] * 3
    assert comparable(stores) == before
    assert (quality(stores)["accepted"], quality(stores)["duplicates"]) == (5, 0)  # 1 + 2 + 2

    history = [m for m in moves(stores) if m.sell_through]
    assert sorted((m.sell_through, m.report_id, m.reverses is not None) for m in history) == [
        (-5, "R2", True),
        (-3, "R2", True),
        (3, "R1", False),
        (3, "R2", False),
        (5, "R1", False),
        (5, "R2", False),
    ]
    (reversal,) = [m for m in history if m.sell_through == -3]
    history.sort(key=lambda m: (m.recorded, m.sell_through))
    assert reversal.reverses == str(uid(2))
    assert (reversal.at, reversal.unit_price) == (history[0].at, history[0].unit_price)
    assert reversal.recorded == SECOND.isoformat()
    assert (report(stores, "R1")["replaced_by"], report(stores, "R2")["lines_reversed"]) == (
        "R2",
        2,
    )


def test_a_corrected_replacement_nets_to_the_difference() -> None:
    stores = fresh()
    run(stores, ORIGINAL)
    corrected = [
        header(4, "R2", "R1", SECOND),
        line(5, "T1", 3, "R2", recorded=SECOND),  # unchanged
        line(6, "T2", 4, "R2", price="90.00", recorded=SECOND),  # 5 @ 100 -> 4 @ 90
        line(7, "T3", 2, "R2", recorded=SECOND),  # a line the first report missed
    ]
    run(stores, corrected)
    row = inventory(stores)
    assert (row["sell_through"], row["expected_on_hand"]) == (9, 100 - 9)
    (week,) = [r for r in build_snapshot(stores)["sell_in_vs_through"] if r["sell_through"]]
    assert week["sell_through"] == 9
    (rebate,) = build_snapshot(stores)["rebates"]
    assert rebate["revenue"] == "860.00"  # 300 + 360 + 200
    revenue = {r["reseller_id"]: r["revenue"] for r in top_resellers_of(stores, "D01")}
    assert revenue == {"RS1": "860.00", "RS2": "0.00"}  # RS2's line moved to RS1


def test_a_closed_period_gets_one_adjustment_per_reversal_and_per_new_line() -> None:
    stores = fresh()
    run(stores, ORIGINAL)
    closed_at = datetime(2026, 8, 11, tzinfo=UTC)
    stores.closed_periods.put(
        closed_key("VPA", "2026-Q3"), ClosedPeriod("VPA", "2026-Q3", closed_at, "finance")
    )
    later = SECOND + timedelta(minutes=1)
    run(stores, [header(4, "R2", "R1", SECOND), line(5, "T1", 2, "R2", recorded=later)])
    (plan,) = rebate_statements(stores)
    assert plan.result.rebate == Decimal("16.00")  # 800.00 at 2 %: the statement stands
    # the two reversals (in event-id order: they share the replacement's recorded_at) take
    # the period to nothing, the corrected T1 (2 @ 100.00) back to 200.00
    assert [a.reason for a in plan.adjustments] == [
        "report_replaced",
        "report_replaced",
        "late_sale",
    ]
    assert [a.result.rebate for a in plan.adjustments][1:] == [Decimal("0.00"), Decimal("4.00")]
    assert {a.event_id for a in plan.adjustments[:2]} == {
        m.event_id for m in moves(stores) if m.reverses
    }


def test_a_released_key_accepts_the_new_line_and_nothing_else_is_double_counted() -> None:
    stores = fresh()
    run(stores, ORIGINAL)
    run(stores, [header(4, "R2", "R1", SECOND)])
    entry = stores.seen.get("sale|D01|T1")
    assert entry is not None and entry.released and entry.report_id == "R1"
    # the original line again (a redelivery): not counted, not rejected
    assert run(stores, [ORIGINAL[1]])[0].verdict is Verdict.REDELIVERY
    outcome = run(stores, [line(5, "T1", 4, "R2", recorded=SECOND)])[0]
    assert outcome.verdict is Verdict.ACCEPTED
    entry = stores.seen.get("sale|D01|T1")
    assert entry is not None and not entry.released and entry.report_id == "R2"
    assert run(stores, [ORIGINAL[1]])[0].verdict is Verdict.REDELIVERY  # still known
    # the new line's own resend is a duplicate as usual
    resend = line(6, "T1", 4, "R2", recorded=SECOND + timedelta(hours=1))
    assert run(stores, [resend])[0].verdict is Verdict.DUPLICATE
    assert inventory(stores)["sell_through"] == 4


def test_a_late_line_of_the_replaced_report_is_rejected() -> None:
    stores = fresh()
    run(stores, ORIGINAL)
    run(stores, [header(4, "R2", "R1", SECOND), line(5, "T1", 3, "R2")])
    late = run(stores, [line(8, "T2", 5, "R1"), line(9, "T9", 1, "R1")])
    assert [o.dead_letter_reason for o in late] == [REPLACED_REPORT, REPLACED_REPORT]
    assert "replaced by report 'R2'" in (late[0].detail or "")
    assert quality(stores)["rejected_by_reason"] == {REPLACED_REPORT: 2}
    assert inventory(stores)["sell_through"] == 3


def test_a_redelivered_replacement_does_nothing() -> None:
    stores = fresh()
    events = [*ORIGINAL, header(4, "R2", "R1", SECOND), line(5, "T1", 1, "R2")]
    run(stores, events)
    once = build_snapshot(stores)
    assert run(stores, [events[3]])[0].verdict is Verdict.REDELIVERY
    resent = header(6, "R2", "R1", SECOND + timedelta(hours=2))  # new envelope
    assert run(stores, [resent])[0].verdict is Verdict.DUPLICATE
    assert build_snapshot(stores) == once
    assert inventory(stores)["sell_through"] == 1


def test_a_redelivered_replacement_from_kafka_does_nothing_wherever_it_lands() -> None:
    stores = fresh()
    events = [*ORIGINAL, header(4, "R2", "R1", SECOND), line(5, "T1", 1, "R2")]
    run(stores, events, positioned=True)
    once = build_snapshot(stores)
    # the whole partition again from the start (a crash before the commit) ...
    run(stores, events, positioned=True)
    assert build_snapshot(stores) == once
    # ... or the header republished at a new offset
    assert apply_event(stores, events[3], Position(SALES, 77)).verdict is Verdict.REDELIVERY
    assert build_snapshot(stores) == once
    assert len([m for m in moves(stores) if m.reverses]) == 2


def test_a_crash_between_store_writes_is_completed_by_the_redelivery() -> None:
    stores = fresh()
    run(stores, ORIGINAL, positioned=True)
    lost_inventory = copy.deepcopy(stores.inventory)
    replacement = header(4, "R2", "R1", SECOND)
    apply_event(stores, replacement, Position(SALES, 3))
    complete = build_snapshot(stores)
    stores.inventory = lost_inventory  # this store's write never reached the changelog
    assert inventory(stores)["sell_through"] == 8
    assert apply_event(stores, replacement, Position(SALES, 3)).verdict is Verdict.ACCEPTED
    assert build_snapshot(stores) == complete
    assert len([m for m in moves(stores) if m.reverses]) == 2  # not reversed twice


def test_replacing_an_unknown_report_is_recorded_and_reverses_nothing() -> None:
    stores = fresh()
    run(stores, [line(1, "T1", 3, None)])  # a line sent outside any report
    outcomes = run(stores, [header(4, "R2", "NEVER-SENT", SECOND), line(5, "T1", 3, "R2")])
    assert outcomes[1].verdict is Verdict.CONFLICT  # its key was never released
    row = report(stores, "R2")
    assert (row["replaces"], row["replaces_unknown"], row["lines_reversed"]) == (
        "NEVER-SENT",
        True,
        0,
    )
    assert inventory(stores)["sell_through"] == 3


def test_a_report_that_names_itself_replaces_nothing() -> None:
    stores = fresh()
    run(stores, [header(4, "R2", "R2", SECOND)])
    assert report(stores, "R2")["replaces_unknown"] is True


def test_replacing_a_replaced_report_reverses_its_current_version() -> None:
    stores = fresh()
    run(stores, ORIGINAL)
    run(stores, [header(4, "R2", "R1", SECOND), line(5, "T1", 4, "R2")])
    third = SECOND + timedelta(days=1)
    run(stores, [header(6, "R3", "R1", third), line(7, "T1", 6, "R3", recorded=third)])
    assert inventory(stores)["sell_through"] == 6
    assert (report(stores, "R1")["replaced_by"], report(stores, "R2")["replaced_by"]) == (
        "R2",
        "R3",
    )
    assert report(stores, "R3")["lines_reversed"] == 1


def test_only_the_distributors_own_report_is_reversed() -> None:
    stores = fresh()
    others = [
        header(10, "R1", distributor="D010"),
        line(11, "T1", 7, "R1", distributor="D010"),
    ]
    run(stores, [*ORIGINAL, *others, header(4, "R2", "R1", SECOND)])
    rows = {r["distributor_id"]: r["sell_through"] for r in build_snapshot(stores)["inventory"]}
    assert rows == {"D01": 0, "D010": 7}


def test_stored_values_from_before_replacements_still_read() -> None:
    old_entry = ["e1", "fp", "channelflow.sales:0", 4, [["e2", "duplicate", None, None]]]
    entry = SeenEntry.from_json(old_entry)
    assert entry == SeenEntry(
        "e1", "fp", "channelflow.sales:0", 4, (Resend("e2", Verdict("duplicate")),)
    )
    assert entry.to_json() == old_entry  # and stays as compact as it was
    released = entry.release("e1").succeeded_by(SeenEntry("e3", "fp2", report_id="R2"))
    assert SeenEntry.from_json(released.to_json()) == released
    assert entry.release("someone-else") == entry

    shipment_move = ["2026-08-04T15:00:00+00:00", 3, 0, "100.00", "USD", "e1", "2026-08-04"]
    assert Move.from_json(shipment_move).report_id is None
    assert Move.from_json(shipment_move).to_json() == shipment_move  # as compact as it was


def test_an_as_of_replay_before_the_replacement_shows_the_replaced_report() -> None:
    from schemas.codec import encode_event
    from streams.runners.processing import Input, process_batch

    corrected = [header(4, "R2", "R1", SECOND), line(5, "T1", 2, "R2", recorded=SECOND)]
    cut = FIRST + timedelta(days=1)  # after R1, before R2 was submitted

    def replayed(events: list[Envelope]) -> dict[str, Any]:
        stores = fresh()
        inputs = [Input(encode_event(e), None, "file", None, n) for n, e in enumerate(events)]
        process_batch(stores, inputs, until=cut)
        return build_snapshot(stores, cut)

    as_of = replayed([*ORIGINAL, *corrected])
    assert as_of == replayed(ORIGINAL)
    assert as_of["quality"][0]["conflicts"] == 0
