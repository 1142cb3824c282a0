"""Properties over random streams with reports, replacements, rejections and resellers.

Replay equals live (positions or none, crash redelivery from any offset), an event
delivered again anywhere after its first arrival changes nothing, and the other topics
may interleave with the sales topic in any order.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.rebates import RebateTally
from projections.channel import apply_event
from projections.positions import Position
from projections.rebate_buckets import ALL_SKUS
from projections.snapshot import Snapshot, build_snapshot, top_resellers_of
from projections.stores import ChannelStores
from projections.tallies import period_key
from schemas.events import (
    Envelope,
    LineRejected,
    ReportSubmitted,
    ResellerOnboarded,
    SaleReported,
    ShipmentRecorded,
)
from tests.unit.catalog import catalog_stores

BOUNDED = settings(max_examples=150)
MONDAY = datetime(2026, 7, 6, tzinfo=UTC)
AS_OF = MONDAY + timedelta(days=30)

DISTRIBUTORS = st.sampled_from(["D1", "D2"])
REPORTS = st.sampled_from(["RA", "RB", "RC"])
#: business times within the first ten days, at whole minutes
WHEN = st.integers(min_value=0, max_value=10 * 24 * 60).map(lambda m: MONDAY + timedelta(minutes=m))


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kind": "line",
        "distributor_id": draw(DISTRIBUTORS),
        "key": draw(st.sampled_from(["T1", "T2", "T3"])),
        "reseller_id": draw(st.sampled_from(["R1", "R2"])),
        "quantity": draw(st.integers(min_value=-2, max_value=9)),
        "unit_price": draw(st.sampled_from([Decimal("9.50"), Decimal("10.00")])),
        "at": draw(WHEN),
        "report_id": draw(st.one_of(st.none(), REPORTS)),
    }


@st.composite
def headers(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kind": "header",
        "distributor_id": draw(DISTRIBUTORS),
        "report_id": draw(REPORTS),
        "replaces": draw(st.one_of(st.none(), REPORTS)),
        "week": draw(st.integers(min_value=0, max_value=1)),
        "at": MONDAY + timedelta(days=draw(st.integers(min_value=7, max_value=20)), hours=9),
    }


@st.composite
def others(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kind": draw(st.sampled_from(["reject", "onboard", "shipment"])),
        "distributor_id": draw(DISTRIBUTORS),
        "reseller_id": draw(st.sampled_from(["R1", "R2", "R3"])),
        "reason": draw(st.sampled_from(["bad_quantity", "bad_date"])),
        "at": draw(WHEN),
        "quantity": draw(st.integers(min_value=1, max_value=20)),
    }


def build(spec: dict[str, Any], n: int) -> Envelope:
    common: dict[str, Any] = {
        "event_id": UUID(int=n + 1, version=4),
        "occurred_at": spec["at"],
        "recorded_at": spec["at"] + timedelta(hours=1),
        "distributor_id": spec["distributor_id"],
    }
    kind = spec["kind"]
    if kind == "line":
        return SaleReported(
            **common, source="edi867", transaction_id=spec["key"],
            reseller_id=spec["reseller_id"], sku="S1", quantity=spec["quantity"],
            unit_price=spec["unit_price"], currency="USD", sold_at=spec["at"],
            report_id=spec["report_id"],
        )  # fmt: skip
    if kind == "header":
        start = MONDAY.date() + timedelta(weeks=spec["week"])
        return ReportSubmitted(
            **common, source="edi867", report_id=spec["report_id"], period_start=start,
            period_end=start + timedelta(days=6), line_count=1, submitted_at=spec["at"],
            replaces_report_id=spec["replaces"],
        )  # fmt: skip
    if kind == "reject":
        return LineRejected(
            **common, source="csv", source_ref=f"week.csv:{n}", reason=spec["reason"],
            detail="quantity: not an integer", original_b64=base64.b64encode(b"x,y").decode(),
        )  # fmt: skip
    if kind == "onboard":
        return ResellerOnboarded(
            **common, source="api", reseller_id=spec["reseller_id"], name="Reseller",
            onboarded_at=spec["at"],
        )  # fmt: skip
    return ShipmentRecorded(
        **common, source="erp", shipment_id=f"SH{n}", sku="S1", quantity=spec["quantity"],
        unit_price=Decimal("7.00"), currency="USD", shipped_at=spec["at"],
    )  # fmt: skip


TOPIC = {
    "SaleReported": "sales",
    "ReportSubmitted": "sales",
    "LineRejected": "rejections",
    "ResellerOnboarded": "resellers",
    "ShipmentRecorded": "shipments",
}

SEQUENCES = st.lists(st.one_of(lines(), lines(), headers(), others()), max_size=30)


def build_all(specs: list[dict[str, Any]]) -> list[Envelope]:
    return [build(spec, n) for n, spec in enumerate(specs)]


def with_positions(events: list[Envelope]) -> list[tuple[Envelope, Position]]:
    offsets: dict[str, int] = {}
    out = []
    for event in events:
        source = f"channelflow.{TOPIC[event.event_type]}:0"
        offsets[source] = offsets.get(source, -1) + 1
        out.append((event, Position(source, offsets[source])))
    return out


def snapshot(stores: ChannelStores) -> Snapshot:
    """Every view, plus the rankings and the history of moves (reversals included; in a
    canonical order: the order of one day's moves is arrival order, which nothing reads)."""
    moves = sorted((key, move) for key, move in stores.moves.scan())
    return {
        **build_snapshot(stores, AS_OF),
        "top": top_resellers_of(stores, None, 10),
        "moves": [{"move": list(m)} for m in moves],
    }


def assert_buckets_add_up(stores: ChannelStores) -> None:
    """The distributor-wide buckets equal the sum of their SKUs' (each input's moves of
    every SKU counted once), and the list by recorded time holds every counted move."""
    per_sku: dict[tuple[str, str, str], dict[str, RebateTally]] = defaultdict(dict)
    every: dict[tuple[str, str, str], dict[str, RebateTally]] = {}
    for key, bucket in stores.rebate_buckets.scan():
        distributor, basis, sku, quarter = key.split("|")
        if sku == ALL_SKUS:
            every[distributor, basis, quarter] = bucket.by_currency
            continue
        summed = per_sku[distributor, basis, quarter]
        for currency, tally in bucket.by_currency.items():
            summed[currency] = summed.get(currency, RebateTally()).plus(tally)
    assert every == dict(per_sku)
    for (distributor, basis, quarter), tallies in every.items():
        listed = list(stores.recorded_moves.scan(f"{distributor}|{basis}|{quarter}|"))
        assert len(listed) == sum(tally.count for tally in tallies.values())
    quarters: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for key, day in stores.day_totals.scan():
        distributor, _, iso_day = key.split("|")
        sums = quarters[distributor, period_key(date.fromisoformat(iso_day), "quarter")]
        sums[0] += day.sell_in
        sums[1] += day.sell_through
    kept = {
        (key.split("|")[0], key.split("|")[2]): [b.sell_in, b.sell_through]
        for key, b in stores.periods.scan()
        if key.split("|")[1] == "quarter"
    }
    assert kept == dict(quarters)


def replay(events: list[Envelope]) -> ChannelStores:
    stores = catalog_stores("S1")
    for event in events:
        apply_event(stores, event, None)
    return stores


@BOUNDED
@given(specs=SEQUENCES, restart=st.integers(min_value=0, max_value=30))
def test_live_with_positions_equals_the_replay_and_survives_redelivery_from_any_offset(
    specs: list[dict[str, Any]], restart: int
) -> None:
    inputs = with_positions(build_all(specs))
    stores = catalog_stores("S1")
    for event, position in inputs:
        apply_event(stores, event, position)
    live = snapshot(stores)
    assert live == snapshot(replay([event for event, _ in inputs]))
    assert_buckets_add_up(stores)

    for event, position in inputs[min(restart, len(inputs)) :]:  # a crash: from some offset
        apply_event(stores, event, position)
    assert snapshot(stores) == live
    for event, position in inputs:  # or from the very beginning
        apply_event(stores, event, position)
    assert snapshot(stores) == live


@BOUNDED
@given(specs=SEQUENCES, data=st.data())
def test_an_event_delivered_again_anywhere_after_it_arrived_changes_nothing(
    specs: list[dict[str, Any]], data: st.DataObject
) -> None:
    events = build_all(specs)
    base = snapshot(replay(events))
    stream = list(events)
    if events:
        for original in data.draw(st.lists(st.sampled_from(events), max_size=8), label="again"):
            first = stream.index(original)
            where = data.draw(st.integers(min_value=first + 1, max_value=len(stream)))
            stream.insert(where, original)
    assert snapshot(replay(stream)) == base


@BOUNDED
@given(specs=SEQUENCES, data=st.data())
def test_other_topics_may_interleave_with_the_sales_topic_in_any_order(
    specs: list[dict[str, Any]], data: st.DataObject
) -> None:
    events = build_all(specs)  # shipment ids are unique: no collision for order to decide
    sales = [e for e in events if TOPIC[e.event_type] == "sales"]
    rest = [e for e in events if TOPIC[e.event_type] != "sales"]
    shuffled = list(data.draw(st.permutations(rest), label="rest"))
    merged = list(sales)
    for event in shuffled:
        merged.insert(data.draw(st.integers(min_value=0, max_value=len(merged))), event)

    assert snapshot(replay(merged)) == snapshot(replay(events))


def test_the_specs_reach_replacements_and_rejections() -> None:
    """The properties are about streams like this one (so they are not vacuous)."""
    line = {
        "kind": "line",
        "distributor_id": "D1",
        "key": "T1",
        "reseller_id": "R1",
        "quantity": 3,
        "unit_price": Decimal("10.00"),
        "at": MONDAY,
        "report_id": "RA",
    }
    header = {
        "kind": "header",
        "distributor_id": "D1",
        "report_id": "RA",
        "replaces": None,
        "week": 0,
        "at": MONDAY + timedelta(days=8),
    }
    events = build_all(
        [
            header,
            line,
            {**header, "report_id": "RB", "replaces": "RA"},
            {**line, "report_id": "RB", "quantity": 2},
            {"kind": "reject", "distributor_id": "D1", "reseller_id": "R1",
             "reason": "bad_date", "at": MONDAY, "quantity": 1},
        ]
    )  # fmt: skip
    stores = replay(events)
    (row,) = build_snapshot(stores)["quality"]
    assert (row["accepted"], row["rejected"]) == (2, 1)
    assert sorted(m.sell_through for _, m in stores.moves.scan()) == [-3, 2, 3]
