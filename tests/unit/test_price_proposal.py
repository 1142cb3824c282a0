"""A proposed price list: read and checked entry by entry, which published prices it
replaces, the raw history rewritten under it, and the figures it moves per distributor."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest

from projections.price_proposal import InvalidProposal, proposal_of
from projections.price_simulation import compare, comparison_row, pricing_figures
from projections.snapshot import build_snapshot, now_of
from schemas.codec import encode_event
from schemas.events import Envelope
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from streams.runners.proposed_prices import PROPOSAL_SOURCE, rewritten, with_proposal
from tests.unit.catalog import product
from tests.unit.channel_cases import sale, shipment
from tests.unit.price_events import T0, price

FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
LATER = T0 + timedelta(days=12)
OCTOBER = datetime(2026, 10, 2, tzinfo=UTC)
ENTRY: dict[str, Any] = {
    "sku": "SKU-1", "distributor_cost": "10.00", "floor_price": "13.00", "currency": "USD",
    "effective_from": "2026-07-01T00:00:00Z",
}  # fmt: skip


def proposal(*entries: dict[str, Any], instead: bool = False) -> Any:
    return proposal_of(orjson.dumps(list(entries)), FLOOR, instead=instead)


def test_an_entry_becomes_a_price_announced_early_with_a_content_derived_id() -> None:
    [proposed] = proposal(ENTRY).prices
    assert (proposed.sku, proposed.floor_price, proposed.effective_from) == (
        "SKU-1",
        Decimal("13.00"),
        T0,
    )
    assert proposed.recorded_at == proposed.occurred_at == FLOOR  # moves no clock, never late
    assert proposal(ENTRY).prices[0].event_id == proposed.event_id  # the same file, the same ids
    other = proposal({**ENTRY, "floor_price": "14.00"}).prices[0]
    assert other.event_id != proposed.event_id
    wrapped = proposal_of(orjson.dumps({"prices": [ENTRY]}), FLOOR)
    assert wrapped.prices == (proposed,)


def entries(*changes: dict[str, Any]) -> bytes:
    """The entries: ENTRY with each one's changes (None: the field left out)."""
    made = [{**ENTRY, **change} for change in changes]
    return orjson.dumps([{k: v for k, v in entry.items() if v is not None} for entry in made])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[{", "not JSON"),
        (b"[]", "expected a non-empty JSON list"),
        (b'{"price": []}', "expected a non-empty JSON list"),
        (b"[1]", "entry 1: a price must be a JSON object"),
        (entries({}, {"sku": "SKU-2", "floor_price": "-1"}), "entry 2 (sku SKU-2): floor_price:"),
        (entries({"currency": "usd"}), "entry 1 (sku SKU-1): currency:"),
        (entries({"effective_from": None}), "entry 1 (sku SKU-1): effective_from: "),
        (entries({"colour": "red"}), "entry 1 (sku SKU-1): colour:"),
        (entries({"published_at": T0.isoformat()}), "entry 1 (sku SKU-1): published_at: set by"),
        (entries({"event_type": "ProductDefined"}), "entry 1 (sku SKU-1): event_type:"),
        (entries({}, {"floor_price": "9.00"}), "entry 2 (sku SKU-1): the same SKU, scope and "
         "effective_from as entry 1"),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_entry_and_the_field(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidProposal, match="^" + re.escape(message)):
        proposal_of(raw, FLOOR)


def test_a_proposed_price_replaces_the_published_one_at_its_point_or_every_one_of_its_sku() -> None:
    beside = proposal(ENTRY)
    assert not beside.keeps(price(1, at=T0))  # same SKU, list scope, effective time
    assert beside.keeps(price(2, at=datetime(2026, 8, 1, tzinfo=UTC)))
    assert beside.keeps(price(3, at=T0, distributor_id="D01"))  # another scope
    assert beside.keeps(price(4, at=T0, sku="SKU-2"))
    instead = proposal(ENTRY, instead=True)
    assert not instead.keeps(price(2, at=datetime(2026, 8, 1, tzinfo=UTC)))
    assert not instead.keeps(price(3, at=T0, distributor_id="D01"))
    assert instead.keeps(price(4, at=T0, sku="SKU-2"))


def test_the_history_is_rewritten_message_by_message() -> None:
    replaced, kept = price(1, at=T0), price(2, at=T0, sku="SKU-2")
    bundle = Input(
        orjson.dumps([orjson.loads(encode_event(e)) for e in (replaced, kept)]), "k", "f"
    )
    rewritten_bundle = rewritten(bundle, proposal(ENTRY))
    assert rewritten_bundle is not None
    assert [v["event_id"] for v in orjson.loads(rewritten_bundle.raw)] == [str(kept.event_id)]
    assert rewritten(Input(encode_event(replaced), "k", "f"), proposal(ENTRY)) is None
    line = Input(encode_event(sale(1)), "D01", "f")
    assert rewritten(line, proposal(ENTRY)) is line  # not a price: untouched
    broken = Input(b'{"event_type": "PriceChanged", "sku": 1}', "k", "f")
    assert rewritten(broken, proposal(ENTRY)) is broken  # dead-lettered as it would be
    inputs = list(with_proposal([line], proposal(ENTRY)))
    assert [i.source for i in inputs] == [PROPOSAL_SOURCE, "f"]  # the proposal first


def replayed(events: list[Envelope], proposed: Any = None) -> EmbeddedChannel:
    channel = EmbeddedChannel()
    inputs = [Input(encode_event(e), None, "events.jsonl", None, n) for n, e in enumerate(events)]
    channel.feed(with_proposal(inputs, proposed))
    return channel


def figures(events: list[Envelope], proposed: Any = None) -> Any:
    stores = replayed(events, proposed).stores
    return pricing_figures(stores, now_of(stores)), build_snapshot(stores)


def test_a_higher_floor_flags_more_lines_and_a_cost_drop_is_owed_protection() -> None:
    history: list[Envelope] = [
        product("SKU-1"),
        price(1, cost="10.00", floor="12.00", at=T0),
        shipment(2, quantity=10),
        sale(3, "T1", unit_price=Decimal("12.50")),  # compliant today
        sale(4, "T2", unit_price=Decimal("11.00")),  # 8.3 % below: major
        sale(5, "T3", sold_at=LATER, recorded_at=LATER),  # after the drop
    ]
    today, live = figures(history)
    assert today["D01"].flags == {"major": 1} and len(live["violations"]) == 1
    assert today["D01"].protection == {}
    drop = {"distributor_cost": "9.00", "effective_from": "2026-07-10T00:00:00Z"}
    higher = proposal({**ENTRY, "floor_price": "13.00"}, {**ENTRY, **drop})
    proposed, _ = figures(history, higher)
    assert proposed["D01"].flags == {"minor": 2, "major": 1}  # 12.50 < 13 (3.8 %) twice
    assert proposed["D01"].protection == {"USD": Decimal("4.00")}  # 1.00 × 4 on hand
    [row] = compare(today, proposed)
    body = comparison_row(row)
    assert body["violations"] == {"today": 1, "proposed": 3, "difference": 2}
    assert body["flags"]["minor"] == {"today": 0, "proposed": 2, "difference": 2}
    assert body["price_protection"] == {
        "USD": {"today": "0.00", "proposed": "4.00", "difference": "4.00"}
    }
    assert body["rebate"] == {}  # no program: nothing accrues under either


def test_a_period_counts_the_lines_sold_in_it() -> None:
    history: list[Envelope] = [
        product("SKU-1"),
        price(1, cost="10.00", floor="13.00", at=T0),
        sale(2, "T1", unit_price=Decimal("12.50")),
        sale(3, "T2", unit_price=Decimal("12.50"), sold_at=OCTOBER, recorded_at=OCTOBER),
    ]
    stores = replayed(history).stores
    assert pricing_figures(stores, now_of(stores), "2026-Q3")["D01"].flags == {"minor": 1}
    assert pricing_figures(stores, now_of(stores), "2026")["D01"].flags == {"minor": 2}
    assert pricing_figures(stores, now_of(stores), "2025") == {}
