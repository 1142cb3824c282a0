"""What the channel projection tells the scorecard (projections/scorecard_feed.py): a message
delivered again changes no card, bad targets are dead-lettered, a replacement's reversal
nets out (margin too), a shipment is sell-in and no verdict of the distributor's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import orjson

from projections.channel import apply_event, apply_message
from projections.dedup import Verdict
from projections.positions import Position, message_position
from projections.scorecard import Scorecard
from projections.scorecard_reads import period_cards
from projections.stores import ChannelStores
from schemas.codec import encode_event
from tests.unit.agreement_events import rate
from tests.unit.catalog import catalog_stores
from tests.unit.channel_cases import SALES, T0, sale, shipment
from tests.unit.event_samples import SAMPLES
from tests.unit.price_events import price
from tests.unit.test_replacement import header, line

TARGETS = "channelflow.targets:0"


def card(stores: ChannelStores, period: str, distributor: str = "D01") -> Scorecard:
    found = stores.scorecards.get(f"{distributor}|{period}")
    assert found is not None, period
    return found


def bundle(*events: Any) -> bytes:
    return b"[" + b",".join(encode_event(event) for event in events) + b"]"


def test_a_message_delivered_again_changes_no_card():
    stores = catalog_stores("SKU-1")
    apply_event(stores, price(1, cost="10.00", floor="12.00"), None)
    lines = bundle(sale(2, "T1"), sale(3, "T2", unit_price=Decimal("11.00")), sale(4, "T1"))
    apply_message(stores, lines, "D01", message_position(SALES, 7))
    once = card(stores, "2026-Q3")
    assert (once.sell_through_units, once.sell_through_revenue) == (6, Decimal("70.50"))
    assert once.verdicts == {"accepted": 2, "duplicate": 1}
    assert once.violations == {"major": 1}  # 11.00 under a 12.00 floor: 8.3 %
    assert (once.margin_revenue, once.margin_cost) == (Decimal("70.50"), Decimal("60.00"))
    for _ in range(2):  # after a crash, and once more
        apply_message(stores, lines, "D01", message_position(SALES, 7))
    assert card(stores, "2026-Q3") == once
    # every line is of July: the month's card is the quarter's under its own period
    assert card(stores, "2026-07") == Scorecard(**{**vars_of(once), "period": "2026-07"})


def vars_of(found: Scorecard) -> dict[str, Any]:
    return {name: getattr(found, name) for name in found.__dataclass_fields__}


def test_bad_targets_are_dead_lettered_and_set_no_card():
    stores = ChannelStores()
    inverted = {**SAMPLES["DistributorTargetsSet"], "weeks_of_supply_min": "9.0"}
    outcomes = [
        *apply_message(stores, orjson.dumps(inverted), "D01", Position(TARGETS, 1)),
        *apply_message(
            stores, orjson.dumps(SAMPLES["DistributorTargetsSet"]), "D02", Position(TARGETS, 2)
        ),
    ]
    assert [o.dead_letter_reason for o in outcomes] == ["schema_violation", "wrong_message_key"]
    assert list(stores.scorecards.values()) == []
    good = apply_message(
        stores, orjson.dumps(SAMPLES["DistributorTargetsSet"]), "D01", Position(TARGETS, 3)
    )
    assert good[0].dead_letter_reason is None
    assert good[0].verdict is Verdict.ACCEPTED
    assert card(stores, "2026-Q3").targets.population is not None
    again = apply_message(
        stores, orjson.dumps(SAMPLES["DistributorTargetsSet"]), "D01", Position(TARGETS, 3)
    )
    assert again[0].verdict is Verdict.REDELIVERY  # counted once


def test_a_replacement_reverses_its_lines_margin_and_all():
    stores = catalog_stores("SKU-1")
    apply_event(stores, price(1, cost="80.00", floor="50.00", at=T0 - timedelta(days=60)), None)
    for event in (header(2, "R1"), line(3, "T1", 3, "R1"), line(4, "T2", 5, "R1")):
        apply_event(stores, event, None)
    before = card(stores, "2026-Q3")
    assert (before.sell_through_units, before.margin_cost) == (8, Decimal("640.00"))
    for event in (header(5, "R2", replaces="R1"), line(6, "T1", 3, "R2")):
        apply_event(stores, event, None)
    after = card(stores, "2026-Q3")
    assert (after.sell_through_units, after.sell_through_revenue) == (3, Decimal("300.00"))
    assert (after.margin_revenue, after.margin_cost) == (Decimal("300.00"), Decimal("240.00"))
    assert after.verdicts == {"accepted": 3}  # each line sent was accepted once


def test_a_shipment_is_sell_in_and_no_verdict_of_the_distributor():
    stores = catalog_stores("SKU-1")
    apply_event(stores, shipment(1, quantity=10), None)
    shipped = card(stores, "2026-07")
    assert (shipped.sell_in_units, shipped.sell_in_revenue) == (10, Decimal("90.00"))
    assert shipped.verdicts == {} and shipped.unknown_cost_lines == 0


def test_a_line_in_another_currency_counts_at_its_days_rate_even_one_arriving_later():
    """EUR>USD 1.10 from the day before T0. A EUR sale of 3 × 10.00 adds 33.00 USD of
    revenue and its cost (3 × 10.00 USD, the price book's) to the margin; a GBP sale, with
    no rate yet, adds its units only and counts in other_currency_lines, until GBP>USD 1.25
    arrives (recorded after the line): then its 30.00 GBP are 37.50 USD."""
    stores = catalog_stores("SKU-1")
    apply_event(stores, price(1, cost="10.00", floor="5.00"), None)
    apply_event(stores, rate("EUR", "USD", "1.10", T0.date() - timedelta(days=1)), None)
    euros = sale(2, "T1", unit_price=Decimal("10.00"), currency="EUR")
    pounds = sale(3, "T2", unit_price=Decimal("10.00"), currency="GBP")
    apply_message(stores, bundle(euros, pounds), "D01", message_position(SALES, 1))
    [found] = period_cards(stores, "2026-Q3", None, ["D01"])
    assert (found.sell_through_units, found.sell_through_revenue) == (6, Decimal("33.00"))
    assert (found.margin_revenue, found.margin_cost) == (Decimal("33.00"), Decimal("30.00"))
    assert found.other_currency_lines == 1
    late = rate("GBP", "USD", "1.25", T0.date(), n=2)
    apply_event(stores, late.model_copy(update={"recorded_at": T0 + timedelta(days=1)}), None)
    [found] = period_cards(stores, "2026-Q3", None, ["D01"])
    assert (found.sell_through_units, found.sell_through_revenue) == (6, Decimal("70.50"))
    assert (found.margin_revenue, found.margin_cost) == (Decimal("70.50"), Decimal("60.00"))
    assert found.other_currency_lines == 0
