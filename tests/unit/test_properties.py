"""Properties of the channel projection over random event sequences with colliding keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.channel import apply_event
from projections.dedup import Verdict
from projections.inventory import InventoryState, apply_count, apply_movement
from projections.positions import Position
from projections.snapshot import Snapshot, build_snapshot
from projections.stores import ChannelStores
from schemas.agreements import ExchangeRatePublished
from schemas.events import (
    Envelope,
    InventoryCounted,
    RebateProgramDefined,
    SaleReported,
    ShipmentRecorded,
    Tier,
)
from tests.unit.catalog import catalog_stores

BOUNDED = settings(max_examples=150)
T0 = datetime(2026, 7, 6, tzinfo=UTC)
#: "now" for snapshots compared across streams recorded at different times
AS_OF = datetime(2026, 9, 2, tzinfo=UTC)

DISTRIBUTORS = st.sampled_from(["D1", "D2"])
SKUS = st.sampled_from(["S1", "S2"])
KEYS = st.sampled_from(["K1", "K2", "K3", "K4"])
QUANTITIES = st.integers(min_value=-3, max_value=12).filter(bool)  # a line moves units
PRICES = st.sampled_from([Decimal("9.50"), Decimal("10.00")])
#: business times within ten days, at whole minutes
WHEN = st.integers(min_value=0, max_value=10 * 24 * 60).map(lambda m: T0 + timedelta(minutes=m))


@st.composite
def movement_specs(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kind": draw(st.sampled_from(["sale", "shipment"])),
        "distributor_id": draw(DISTRIBUTORS),
        "sku": draw(SKUS),
        "key": draw(KEYS),
        "quantity": draw(QUANTITIES),
        "unit_price": draw(PRICES),
        "at": draw(WHEN),
        "currency": "USD",
    }


@st.composite
def count_specs(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kind": "count",
        "distributor_id": draw(DISTRIBUTORS),
        "sku": draw(SKUS),
        "on_hand": draw(st.integers(min_value=0, max_value=40)),
        "at": T0 + timedelta(days=draw(st.integers(min_value=0, max_value=10)), hours=23),
    }


def build(spec: dict[str, Any], n: int) -> Envelope:
    """Event number `n` (its event_id) from a drawn spec."""
    common: dict[str, Any] = {
        "event_id": UUID(int=n + 1, version=4),
        "occurred_at": spec["at"],
        "distributor_id": spec["distributor_id"],
        "sku": spec["sku"],
    }
    if spec["kind"] == "sale":
        return SaleReported(
            **common,
            source="api",
            transaction_id=spec["key"],
            reseller_id="R1",
            quantity=spec["quantity"],
            unit_price=spec["unit_price"],
            currency=spec["currency"],
            sold_at=spec["at"],
        )
    if spec["kind"] == "shipment":
        return ShipmentRecorded(
            **common,
            source="erp",
            shipment_id=spec["key"],
            quantity=spec["quantity"],
            unit_price=spec["unit_price"],
            currency=spec["currency"],
            shipped_at=spec["at"],
        )
    return InventoryCounted(
        **common, source="edi852", on_hand=spec["on_hand"], counted_at=spec["at"]
    )


def build_all(specs: list[dict[str, Any]]) -> list[Envelope]:
    return [build(spec, n) for n, spec in enumerate(specs)]


def topic_of(event: Envelope) -> str:
    return f"channelflow.{type(event).__name__}:0"


def with_positions(events: list[Envelope]) -> list[tuple[Envelope, Position]]:
    offsets: dict[str, int] = {}
    out = []
    for event in events:
        topic = topic_of(event)
        offsets[topic] = offsets.get(topic, -1) + 1
        out.append((event, Position(topic, offsets[topic])))
    return out


def replay(events: list[Envelope], stores: ChannelStores | None = None) -> ChannelStores:
    stores = stores or catalog_stores("S1", "S2")
    for event in events:
        apply_event(stores, event, None)
    return stores


#: what a scorecard counts besides duplicates (its rates and score are of every line sent)
CARD_FIGURES = (
    "sell_in_units", "sell_in_revenue", "sell_through_units", "sell_through_revenue",
    "gross_margin", "unknown_cost_lines", "other_currency_lines",
    "accepted_lines", "conflict_lines", "rejected_lines", "minor_per_1000", "major_per_1000",
    "critical_per_1000",
)  # fmt: skip


def without_duplicates(snapshot: Snapshot) -> Snapshot:
    """The snapshot but what duplicates count: quality's duplicates, and of the scorecards
    every figure but the lines sent (a card of a month with nothing but a resend: none)."""
    cards = [
        {"distributor_id": row["distributor_id"], "period": row["period"],
         **{name: row[name] for name in CARD_FIGURES}}
        for row in snapshot["scorecards"]
    ]  # fmt: skip
    return {
        **snapshot,
        "quality": [{**row, "duplicates": None} for row in snapshot["quality"]],
        "scorecards": [card for card in cards if not nothing_but_resends(card)],
    }


def nothing_but_resends(card: dict[str, Any]) -> bool:
    """A card that counts no movement and no line but duplicates."""
    return not any(
        Decimal(card[name]) if isinstance(card[name], str) else card[name] for name in CARD_FIGURES
    )


def duplicates_by_distributor(snapshot: Snapshot) -> dict[str, int]:
    return {row["distributor_id"]: row["duplicates"] for row in snapshot["quality"]}


def card_duplicates(snapshot: Snapshot) -> dict[str, int]:
    """Duplicate lines per distributor over its quarters' cards (each line is in one)."""
    found: dict[str, int] = {}
    for row in snapshot["scorecards"]:
        if "Q" in row["period"]:
            found[row["distributor_id"]] = (
                found.get(row["distributor_id"], 0) + row["duplicate_lines"]
            )
    return found


SEQUENCES = st.lists(st.one_of(movement_specs(), movement_specs(), count_specs()), max_size=30)


@BOUNDED
@given(specs=SEQUENCES, data=st.data())
def test_redeliveries_and_duplicates_anywhere_after_the_original_change_nothing_else(
    specs: list[dict[str, Any]], data: st.DataObject
) -> None:
    events = build_all(specs)
    base_stores = catalog_stores("S1", "S2")
    accepted = [
        i
        for i, event in enumerate(events)
        if apply_event(base_stores, event, None).verdict is Verdict.ACCEPTED
    ]
    base = build_snapshot(base_stores, AS_OF)

    stream = list(events)
    inserted: dict[str, int] = {}
    resent: dict[str, int] = {}  # of the distributors' own lines
    if accepted:
        copies = data.draw(st.lists(st.sampled_from(accepted), max_size=10), label="copies")
        next_id = len(events) + 1000
        for original_index in copies:
            original = events[original_index]
            position_of_original = stream.index(original)
            where = data.draw(
                st.integers(min_value=position_of_original + 1, max_value=len(stream)),
                label="where",
            )
            if data.draw(st.booleans(), label="redelivery"):
                copy = original  # the very same event again
            else:
                next_id += 1
                copy = original.model_copy(
                    update={
                        "event_id": UUID(int=next_id, version=4),
                        "recorded_at": datetime(2026, 9, 1, tzinfo=UTC),
                        "source": "csv",
                    }
                )
                distributor = original.distributor_id  # type: ignore[attr-defined]
                inserted[distributor] = inserted.get(distributor, 0) + 1
                if not isinstance(original, ShipmentRecorded):  # the vendor's: in no card
                    resent[distributor] = resent.get(distributor, 0) + 1
            stream.insert(where, copy)

    # "now" is fixed: a resend is recorded later, which moves the recorded-time clock
    result = build_snapshot(replay(stream), AS_OF)
    assert without_duplicates(result) == without_duplicates(base)
    before = duplicates_by_distributor(base)
    after = duplicates_by_distributor(result)
    assert after == {d: n + inserted.get(d, 0) for d, n in before.items()}
    before, after = card_duplicates(base), card_duplicates(result)
    assert after == {d: before.get(d, 0) + n for d, n in resent.items()} | {
        d: n for d, n in before.items() if d not in resent
    }


@BOUNDED
@given(specs=SEQUENCES, restart=st.integers(min_value=0, max_value=30))
def test_applying_the_same_positions_again_gives_the_same_snapshot(
    specs: list[dict[str, Any]], restart: int
) -> None:
    inputs = with_positions(build_all(specs))
    stores = catalog_stores("S1", "S2")
    for event, position in inputs:
        apply_event(stores, event, position)
    once = build_snapshot(stores)

    # a crash: Kafka redelivers from some earlier committed offset ...
    for event, position in inputs[min(restart, len(inputs)) :]:
        apply_event(stores, event, position)
    assert build_snapshot(stores) == once
    # ... or everything, once more
    for event, position in inputs:
        apply_event(stores, event, position)
    assert build_snapshot(stores) == once
    # and the unpositioned replay of the same list agrees
    assert build_snapshot(replay([event for event, _ in inputs])) == once


@BOUNDED
@given(
    specs=st.lists(movement_specs(), max_size=30),
    data=st.data(),
)
def test_order_of_movements_does_not_matter_without_counts(
    specs: list[dict[str, Any]], data: st.DataObject
) -> None:
    # unique keys: order decides which of two colliding events wins, so avoid collisions
    for n, spec in enumerate(specs):
        spec["key"] = f"{spec['key']}-{n}"
    events = build_all(specs)
    shuffled = data.draw(st.permutations(events), label="order")
    a = build_snapshot(replay(events))
    b = build_snapshot(replay(shuffled))
    assert a == b
    for row in a["inventory"]:
        mine = [
            e
            for e in events
            if (e.distributor_id, e.sku) == (row["distributor_id"], row["sku"])  # type: ignore[attr-defined]
        ]
        sell_in = sum(e.quantity for e in mine if isinstance(e, ShipmentRecorded))
        sell_through = sum(e.quantity for e in mine if isinstance(e, SaleReported))
        assert (row["sell_in"], row["sell_through"]) == (sell_in, sell_through)
        assert row["expected_on_hand"] == sell_in - sell_through


@BOUNDED
@given(
    movements=st.lists(movement_specs(), max_size=25),
    counts=st.lists(count_specs(), max_size=4, unique_by=lambda c: (c["distributor_id"], c["sku"])),
    data=st.data(),
)
def test_interleaving_of_counts_and_movements_does_not_matter_when_counts_are_not_early(
    movements: list[dict[str, Any]], counts: list[dict[str, Any]], data: st.DataObject
) -> None:
    """docs/DESIGN.md, "Order of arrival": topics may interleave freely as long as per-key
    order holds; a count is only order-dependent for movements dated before it that arrive
    after it (late ones).
    So: any interleaving where each count comes after the movements dated at or before it
    gives the snapshot of business-time order."""
    for n, spec in enumerate(movements):
        spec["key"] = f"{spec['key']}-{n}"
    events = build_all([*movements, *counts])
    in_time_order = sorted(events, key=lambda e: e.business_time)
    shuffled = list(data.draw(st.permutations(events), label="order"))
    for count in [e for e in events if isinstance(e, InventoryCounted)]:
        shuffled.remove(count)
        covered = [
            i
            for i, e in enumerate(shuffled)
            if not isinstance(e, InventoryCounted)
            and (e.distributor_id, e.sku) == (count.distributor_id, count.sku)  # type: ignore[attr-defined]
            and e.business_time <= count.counted_at
        ]
        earliest = max(covered, default=-1) + 1
        at = data.draw(st.integers(min_value=earliest, max_value=len(shuffled)), label="count at")
        shuffled.insert(at, count)
    assert build_snapshot(replay(shuffled)) == build_snapshot(replay(in_time_order))


#: a USD sell-through program and the EUR rate of the days drawn (1 EUR = 1.10 USD)
PROGRAM = RebateProgramDefined(
    event_id=UUID(int=9001, version=4), occurred_at=T0, source="erp", program_id="P",
    distributor_ids="all", basis="sell_through", measure="revenue", period="quarter",
    tier_mode="retroactive", currency="USD",
    tiers=[Tier(threshold=Decimal(0), rate=Decimal("0.01")),
           Tier(threshold=Decimal(100), rate=Decimal("0.02"))],
)  # fmt: skip
EUR_RATE = ExchangeRatePublished(
    event_id=UUID(int=9002, version=4), occurred_at=T0, source="erp", from_currency="EUR",
    to_currency="USD", rate=Decimal("1.10"), effective_date=T0.date(), rate_source="ECB",
    published_at=T0,
)  # fmt: skip


@BOUNDED
@given(
    specs=st.lists(movement_specs(), max_size=20),
    currencies=st.lists(st.sampled_from(["USD", "EUR"]), min_size=20, max_size=20),
    data=st.data(),
)
def test_rebates_over_two_currencies_do_not_depend_on_the_order_of_lines_and_rate(
    specs: list[dict[str, Any]], currencies: list[str], data: st.DataObject
) -> None:
    """Replay equals live across currencies: the program and the rate may come before,
    between or after the lines; the rebate converts every EUR line at its day's rate."""
    for n, spec in enumerate(specs):
        spec["key"], spec["currency"] = f"{spec['key']}-{n}", currencies[n]
    lines = build_all(specs)
    shuffled = data.draw(st.permutations([*lines, PROGRAM, EUR_RATE]), label="order")
    rows = build_snapshot(replay([PROGRAM, EUR_RATE, *lines]))["rebates"]
    assert build_snapshot(replay(list(shuffled)))["rebates"] == rows
    for row in rows:
        sales = [
            e
            for e in lines
            if isinstance(e, SaleReported) and e.distributor_id == row["distributor_id"]
        ]
        rate = {"USD": Decimal(1), "EUR": Decimal("1.10")}
        revenue = sum(e.quantity * e.unit_price * rate[e.currency] for e in sales)
        assert Decimal(row["revenue"]) == revenue and row["unconverted"] == []
        assert row["events"] == len(sales)


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("move"), WHEN, QUANTITIES, QUANTITIES),
        st.tuples(st.just("count"), WHEN, st.integers(min_value=0, max_value=50)),
    ),
    max_size=25,
)


@BOUNDED
@given(steps=STEPS, positioned=st.booleans())
def test_json_round_trip_of_any_reachable_state(
    steps: list[tuple[Any, ...]], positioned: bool
) -> None:
    state = InventoryState("D1", "S1")
    for offset, step in enumerate(steps):
        position = Position(f"t:{offset % 3}", offset) if positioned else None
        if step[0] == "move":
            state = apply_movement(state, step[1], step[2], step[3], position)
        else:
            state, _ = apply_count(state, step[1], step[2], (0, 0), position)
        assert InventoryState.from_json(state.to_json()) == state
    restored = InventoryState.from_json(orjson.loads(orjson.dumps(state.to_json())))
    assert restored == state
    assert restored.to_json() == state.to_json()
    assert restored.expected_on_hand == state.expected_on_hand
    assert (restored.sell_in, restored.sell_through) == (
        sum(s[2] for s in steps if s[0] == "move"),
        sum(s[3] for s in steps if s[0] == "move"),
    )
