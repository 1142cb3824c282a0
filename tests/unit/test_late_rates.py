"""A sale judged before its floor's rate (docs/DESIGN.md, "Late rates"): it waits, and the
distributor's next input recorded after a rate for its day judges it by the floor that
decided it, once, the rate's event in the lineage; a replay (every rate read first) gives
the same violations as live, and a rate recorded after the sale the same as one before.

X is listed at a floor of 20.00 USD; at EUR>USD 1.25 that is 16.00 EUR (the inverse, 0.8).
The sales are in EUR, on July 10, recorded at noon."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.business_time import TimeRules
from projections.channel import DEFAULT_RULES, apply_event
from projections.outcome import Outcome
from projections.positions import Position
from projections.price_rules import ViolationDetected
from projections.pricing_reads import all_unpriced_rows
from projections.rate_waits import (
    MAX_WAITING,
    MAX_WAITING_DAYS,
    TOO_MANY_DAYS,
    TOO_MANY_WAITING,
    groups_of,
)
from projections.scorecard import Scorecard
from projections.stores import ChannelStores
from schemas.codec import event_to_dict
from schemas.events import Envelope, ReportSubmitted, SaleReported
from streams.audit.trail import history
from streams.metrics import REGISTRY
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input, process_batch
from streams.worker.stores import store_layouts
from tests.unit.agreement_events import rate
from tests.unit.catalog import product
from tests.unit.price_events import price
from tests.unit.test_aging_wiring import priced_stores, sold

JULY_10 = date(2026, 7, 10)
NOON = datetime(2026, 7, 10, 12, tzinfo=UTC)
#: EUR>USD 1.25 effective July 10, published (recorded) at 18:00 that day
#: offsets only ever grow, whatever the stores
OFFSETS = count()
LATE_RATE = rate("EUR", "USD", "1.25", JULY_10, recorded_at=NOON + timedelta(hours=6))


def sale(n: int, price: str, recorded: datetime = NOON, **changes: Any) -> Any:
    fields = {"unit_price": Decimal(price), "currency": "EUR", "recorded_at": recorded}
    return sold(n, 1, JULY_10, **{**fields, **changes})


def feed(
    stores: ChannelStores, *events: Envelope, rules: TimeRules = DEFAULT_RULES
) -> list[Outcome]:
    """Apply the events in order, each sale at the next offset of the sales topic."""
    outcomes = []
    for event in events:
        position = Position("sales:0", next(OFFSETS)) if isinstance(event, SaleReported) else None
        outcomes.append(apply_event(stores, event, position, rules=rules))
    return outcomes


def violations(outcomes: list[Outcome]) -> list[ViolationDetected]:
    return [f for o in outcomes for f in o.facts if isinstance(f, ViolationDetected)]


def flags(stores: ChannelStores) -> dict[str, int]:
    counts = stores.flag_counts.get("D01")
    return {} if counts is None else {k: n for k, n in counts.counts.items() if n}


def card(stores: ChannelStores, period: str = "2026-07") -> Scorecard:
    """D01's card figures, leaving out the positions applied (each run numbers its own)."""
    found = stores.scorecards.get(f"D01|{period}")
    assert found is not None
    return replace(found, applied={})


def test_the_scorecard_of_a_sale_judged_late_is_revised_to_its_verdict() -> None:
    # T1 15.00 EUR (unpriced, then major at 16.00 EUR), T2 17.00 compliant, T3 14.00 EUR
    # (12.5 % short: major too) judged at once: the rate is known by then
    stores = priced_stores()
    feed(stores, sale(1, "15.00"))
    waiting = stores.scorecards.get("D01|2026-07")
    assert waiting is not None
    assert (waiting.verdicts, waiting.violations) == ({"accepted": 1}, {})
    feed(stores, LATE_RATE, sale(2, "17.00", NOON + timedelta(hours=7)))
    revised = stores.scorecards.get("D01|2026-07")
    assert revised is not None
    assert (revised.verdicts, revised.violations) == ({"accepted": 2}, {"major": 1})
    feed(stores, sale(3, "14.00", NOON + timedelta(hours=8)))
    for period in ("2026-07", "2026-Q3"):
        got = stores.scorecards.get(f"D01|{period}")
        assert got is not None
        assert (got.verdicts, got.violations) == ({"accepted": 3}, {"major": 2})
    # the same card as with the rate known before the first sale
    early = priced_stores()
    feed(early, rate("EUR", "USD", "1.25", JULY_10, recorded_at=NOON - timedelta(hours=1)))
    feed(early, sale(1, "15.00"), sale(2, "17.00", NOON + timedelta(hours=7)))
    feed(early, sale(3, "14.00", NOON + timedelta(hours=8)))
    assert card(stores) == card(early) and card(stores, "2026-Q3") == card(early, "2026-Q3")


def test_a_compliant_sale_judged_late_leaves_its_verdict_in_the_card() -> None:
    stores = priced_stores()
    feed(stores, sale(1, "16.00"), LATE_RATE, sale(2, "16.00", NOON + timedelta(days=1)))
    got = stores.scorecards.get("D01|2026-07")
    assert got is not None and (got.verdicts, got.violations) == ({"accepted": 2}, {})


def test_the_next_input_after_the_rate_judges_the_waiting_sale() -> None:
    stores = priced_stores()
    first = feed(stores, sale(1, "15.00"), LATE_RATE)
    assert violations(first) == [] and flags(stores) == {"unpriced": 1}
    nxt = sale(2, "17.00", NOON + timedelta(hours=7))  # above 16.00 EUR: compliant
    (found,) = violations(feed(stores, nxt))
    # 15.00 against 16.00 EUR: 6.25 % short, major; the rate in the lineage
    assert (found.transaction_id, found.floor_price, found.currency, str(found.severity)) == (
        "T1", Decimal("16.00"), "EUR", "major",
    )  # fmt: skip
    assert found.rate_event_id == LATE_RATE.event_id
    assert list(stores.unpriced.values()) == []
    assert flags(stores) == {"major": 1}
    # judged once: a later input finds nothing waiting
    assert violations(feed(stores, sale(3, "17.00", NOON + timedelta(hours=8)))) == []
    assert list(stores.rate_waits.values()) == [] and stores.rate_wait_days.get("D01") is None


def test_an_input_recorded_before_the_rate_leaves_the_sale_waiting() -> None:
    # the rate is in the store (as in a replay), but recorded after the second sale
    stores = priced_stores()
    outcomes = feed(
        stores, LATE_RATE, sale(1, "15.00"), sale(2, "15.50", NOON + timedelta(hours=1))
    )
    assert violations(outcomes) == []
    assert sorted(r.transaction_id for r in stores.unpriced.values()) == ["T1", "T2"]
    assert stores.rate_wait_days.get("D01") == {"USD>EUR|2026-07-10": (2, NOON)}


def test_a_compliant_waiting_sale_leaves_the_unpriced_list() -> None:
    stores = priced_stores()
    outcomes = feed(stores, sale(1, "16.00"), LATE_RATE, sale(2, "16.00", NOON + timedelta(days=1)))
    assert violations(outcomes) == []
    assert list(stores.unpriced.values()) == [] and flags(stores) == {}


def test_a_distributor_keeps_a_bounded_number_of_sales_waiting() -> None:
    stores = priced_stores()
    stores.rate_wait_days.put("D01", {"USD>EUR|2026-07-09": (MAX_WAITING, NOON)})
    (outcome,) = feed(stores, sale(1, "15.00"))
    assert stores.rate_wait_days.get("D01") == {"USD>EUR|2026-07-09": (MAX_WAITING, NOON)}
    # unpriced, as before, and it says why: never silent
    assert outcome.rate_wait_refused == TOO_MANY_WAITING == "too_many_waiting"
    assert [(r["transaction_id"], r["rate_wait_refused"]) for r in unpriced_rows(stores)] == [
        ("T1", "too_many_waiting")
    ]


def test_a_distributor_waits_for_a_bounded_number_of_days() -> None:
    stores = priced_stores()
    days = (date(2026, 3, 1) + timedelta(days=d) for d in range(MAX_WAITING_DAYS))
    full = {f"USD>EUR|{day.isoformat()}": (1, NOON) for day in days}
    assert len(full) == MAX_WAITING_DAYS == 64
    stores.rate_wait_days.put("D01", full)
    (outcome,) = feed(stores, sale(1, "15.00"))
    assert stores.rate_wait_days.get("D01") == full and list(stores.rate_waits.values()) == []
    assert outcome.rate_wait_refused == TOO_MANY_DAYS == "too_many_days"
    assert [r["rate_wait_refused"] for r in unpriced_rows(stores)] == ["too_many_days"]
    # a sale that waits says nothing of it
    fresh = priced_stores()
    (waits,) = feed(fresh, sale(1, "15.00"))
    assert waits.rate_wait_refused is None
    assert [r["rate_wait_refused"] for r in unpriced_rows(fresh)] == [None]


def test_sales_that_cannot_wait_are_counted_once_in_the_metrics() -> None:
    """`channelflow_rate_waits_refused_total{reason}`: each sale left unpriced for want of
    room to wait, once (a message read again after it was stored is not counted again)."""
    stores = priced_stores()
    stores.rate_wait_days.put("D01", {"USD>EUR|2026-07-09": (MAX_WAITING, NOON)})
    labels = {"reason": TOO_MANY_WAITING}
    before = REGISTRY.get_sample_value("channelflow_rate_waits_refused_total", labels) or 0
    inputs = [
        Input(orjson.dumps(event_to_dict(sale(n, "15.00"))), "D01", "sales", 0, n) for n in (1, 2)
    ]
    process_batch(stores, inputs).count()
    process_batch(stores, inputs[:1], stored=lambda _: True).count()  # read again
    after = REGISTRY.get_sample_value("channelflow_rate_waits_refused_total", labels)
    assert after == before + 2
    flagged = stores.unpriced.get("D01|T1")
    layout = store_layouts(1)["unpriced"]
    assert layout.decode(orjson.loads(orjson.dumps(layout.encode(flagged)))) == flagged


JULY_6 = date(2026, 7, 6)


def report(n: int, report_id: str, at: datetime, replaces: str | None = None) -> Any:
    return ReportSubmitted(
        event_id=UUID(int=900 + n, version=4), occurred_at=at, recorded_at=at,
        source="edi867", distributor_id="D01", report_id=report_id, period_start=JULY_6,
        period_end=JULY_6 + timedelta(days=6), line_count=1, submitted_at=at,
        replaces_report_id=replaces,
    )  # fmt: skip


def test_a_sale_corrected_to_another_day_waits_under_its_new_day_alone() -> None:
    """T1 (July 10, 15.00 EUR, report R1) waits; R2 replaces R1 and corrects T1 to July 11
    at 14.00: T1's wait for July 10 goes with the reversal, the corrected line waits for
    July 11. The rate (from July 10 on) then judges the corrected line alone (before, the
    old line's wait was read first and judged the old line over the corrected one's flag)."""
    stores = priced_stores()
    feed(stores, report(1, "R1", NOON - timedelta(hours=1)), sale(1, "15.00", report_id="R1"))
    assert stores.rate_wait_days.get("D01") == {"USD>EUR|2026-07-10": (1, NOON)}
    next_day = NOON + timedelta(days=1)
    feed(stores, report(2, "R2", next_day, replaces="R1"))
    assert stores.rate_wait_days.get("D01") is None and list(stores.rate_waits.values()) == []
    corrected = sale(11, "14.00", next_day + timedelta(hours=1), report_id="R2",
                     transaction_id="T1", sold_at=next_day, occurred_at=next_day)  # fmt: skip
    feed(stores, corrected)
    assert stores.rate_wait_days.get("D01") == {
        "USD>EUR|2026-07-11": (1, next_day + timedelta(hours=1))
    }
    late = rate("EUR", "USD", "1.25", JULY_10, recorded_at=next_day + timedelta(hours=2))
    (found,) = violations(feed(stores, late, usd_sale(3, next_day + timedelta(hours=3))))
    assert (found.transaction_id, found.sold_at, found.unit_price) == (
        "T1", next_day, Decimal("14.00"),
    )  # fmt: skip
    assert list(stores.rate_waits.values()) == [] and stores.rate_wait_days.get("D01") is None


def test_a_reversed_sale_leaves_its_group_to_the_sales_still_waiting() -> None:
    """T1 and T2 wait in July 10's group; R2 reverses T1 (report R1) alone: the group keeps
    T2, and July 10's rate judges T2 and not T1."""
    stores = priced_stores()
    feed(stores, report(1, "R1", NOON - timedelta(hours=1)), sale(1, "15.00", report_id="R1"))
    feed(stores, sale(2, "15.00", NOON + timedelta(minutes=5)))
    feed(stores, report(2, "R2", NOON + timedelta(hours=1), replaces="R1"))
    assert stores.rate_wait_days.get("D01") == {"USD>EUR|2026-07-10": (1, NOON)}
    found = violations(feed(stores, LATE_RATE, usd_sale(3, NOON + timedelta(hours=7))))
    assert [f.transaction_id for f in found] == ["T2"]
    assert stores.rate_wait_days.get("D01") is None


#: 30 days after the noon T1 was recorded: its wait for a rate ends
ENDS = NOON + timedelta(days=30)


def usd_sale(n: int, recorded: datetime) -> Any:
    """A compliant sale in the floor's currency: an input of D01 that waits for nothing."""
    return sale(n, "20.00", recorded, currency="USD")


def unpriced_rows(stores: ChannelStores) -> list[dict[str, Any]]:
    return sorted(all_unpriced_rows(stores), key=lambda r: r["transaction_id"])


def test_a_sale_whose_wait_runs_out_is_final_as_unpriced() -> None:
    stores = priced_stores()
    feed(stores, sale(1, "15.00"), usd_sale(2, ENDS - timedelta(minutes=1)))
    assert stores.rate_wait_days.get("D01") == {"USD>EUR|2026-07-10": (1, NOON)}  # waits
    assert unpriced_rows(stores)[0]["rate_wait_expired_at"] is None
    feed(stores, usd_sale(3, ENDS))  # exactly 30 days after T1 was recorded: over
    assert list(stores.rate_waits.values()) == [] and stores.rate_wait_days.get("D01") is None
    (row,) = unpriced_rows(stores)
    assert (row["transaction_id"], row["rate_wait_expired_at"]) == ("T1", "2026-08-09T12:00:00Z")
    # a rate for its day recorded since changes nothing: T1 is final, still counted
    late = rate("EUR", "USD", "1.25", JULY_10, recorded_at=ENDS + timedelta(hours=1))
    assert violations(feed(stores, late, usd_sale(4, ENDS + timedelta(days=1)))) == []
    assert flags(stores) == {"unpriced": 1} and unpriced_rows(stores) == [row]


@pytest.mark.parametrize(
    ("rate_recorded", "judged"), [(ENDS, True), (ENDS + timedelta(seconds=1), False)]
)
def test_a_rate_counts_when_recorded_by_the_end_of_the_wait(
    rate_recorded: datetime, judged: bool
) -> None:
    """The next input comes long after the end of T1's wait: a rate recorded by then still
    judges it (major: 15.00 against 16.00 EUR); one recorded after it does not."""
    stores = priced_stores()
    late = rate("EUR", "USD", "1.25", JULY_10, recorded_at=rate_recorded)
    found = violations(feed(stores, sale(1, "15.00"), late, usd_sale(2, ENDS + timedelta(days=9))))
    assert [f.transaction_id for f in found] == (["T1"] if judged else [])
    assert flags(stores) == ({"major": 1} if judged else {"unpriced": 1})
    assert stores.rate_wait_days.get("D01") is None


def test_only_the_sales_whose_wait_ran_out_end_theirs() -> None:
    """T1 (recorded at noon) and T2 (a day later) wait in one group; with a 1-day wait, an
    input 1 day after T1 ends T1's wait alone, and the group keeps T2's time."""
    stores, one_day = priced_stores(), TimeRules(rate_wait=timedelta(days=1))
    later = NOON + timedelta(days=1, hours=1)
    feed(stores, sale(1, "15.00"), sale(2, "15.00", later), rules=one_day)
    feed(stores, usd_sale(3, NOON + timedelta(days=1, hours=2)), rules=one_day)
    assert stores.rate_wait_days.get("D01") == {"USD>EUR|2026-07-10": (1, later)}
    assert [r["rate_wait_expired_at"] for r in unpriced_rows(stores)] == [
        "2026-07-11T12:00:00Z", None,
    ]  # fmt: skip


def test_groups_stored_with_a_count_alone_are_read_at_the_next_input() -> None:
    """Stored before the groups kept their earliest time: read as waiting since long ago,
    so the next input reads the group's sales and keeps T1's own time."""
    stores = priced_stores()
    feed(stores, sale(1, "15.00"))
    stores.rate_wait_days.put("D01", groups_of({"USD>EUR|2026-07-10": 1}))
    feed(stores, usd_sale(2, NOON + timedelta(hours=1)))
    assert stores.rate_wait_days.get("D01") == {"USD>EUR|2026-07-10": (1, NOON)}
    layout = store_layouts(1)["rate_wait_days"]
    kept = stores.rate_wait_days.get("D01")
    assert layout.decode(orjson.loads(orjson.dumps(layout.encode(kept)))) == kept


MINUTES = st.integers(min_value=0, max_value=3 * 24 * 60)


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(MINUTES, st.sampled_from(["14.00", "15.50", "16.00", "17.00"])),
        min_size=1,
        max_size=6,
    ),
    MINUTES,
    st.integers(min_value=1, max_value=96),
)
def test_replay_equals_live_and_a_late_rate_equals_an_early_one(
    specs: list[tuple[int, str]], rate_minute: int, wait_hours: int
) -> None:
    """Sales recorded over three days from July 10, the rate recorded at `rate_minute`, and
    a closing sale recorded after everything. Live interleaves the rate by recorded time; a
    replay reads it first; a rate recorded before every sale judges each at once. With a
    wait of `wait_hours`, some waits run out first: live and the replay still agree."""
    start = NOON
    sales = sorted(
        (sale(n + 1, price, start + timedelta(minutes=m)) for n, (m, price) in enumerate(specs)),
        key=lambda s: s.recorded_at,
    )
    closing = sale(99, "20.00", start + timedelta(days=4))
    at = start + timedelta(minutes=rate_minute)

    def run(order: list[Envelope], rules: TimeRules = DEFAULT_RULES) -> tuple[Any, ...]:
        stores = priced_stores()
        found = violations(feed(stores, *order, rules=rules))
        cards = card(stores), card(stores, "2026-Q3")
        return found, flags(stores), unpriced_rows(stores), cards

    late = rate("EUR", "USD", "1.25", JULY_10, recorded_at=at)
    live = [e for e in sales if e.recorded_at < at] + [late]
    live += [e for e in sales if e.recorded_at >= at] + [closing]
    replay = [late, *sales, closing]
    early = [rate("EUR", "USD", "1.25", JULY_10, recorded_at=start), *sales, closing]
    live_run = run(live)
    assert live_run == run(replay)
    live_facts, live_flags, _, live_cards = live_run
    early_facts, early_flags, _, early_cards = run(early)
    assert sorted(live_facts, key=lambda f: f.transaction_id) == sorted(
        early_facts, key=lambda f: f.transaction_id
    )
    assert live_flags == early_flags and "unpriced" not in live_flags
    # the late judgements revised the verdicts the sales were given: the cards alike
    assert live_cards == early_cards
    waiting = TimeRules(rate_wait=timedelta(hours=wait_hours))
    assert run(live, waiting) == run(replay, waiting)


def test_a_waiting_sale_survives_the_worker_store_encoding() -> None:
    stores = priced_stores()
    feed(stores, sale(1, "15.00"))
    ((_, waiting),) = list(stores.rate_waits.scan())
    layout = store_layouts(1)["rate_waits"]
    assert layout.decode(orjson.loads(orjson.dumps(layout.encode(waiting)))) == waiting
    assert (waiting.floor.floor_price, waiting.floor.currency) == (Decimal("20.00"), "USD")


def test_the_embedded_runner_records_the_late_violation_as_a_replay_does() -> None:
    """Live reads the rate between the sales; a replay reads it first: the same violation
    record, its rate in the lineage, and the same snapshot."""
    listed = price(1, "12.50", "20.00", datetime(2026, 1, 1, tzinfo=UTC), sku="X")
    first, nxt = sale(1, "15.00"), sale(2, "17.00", NOON + timedelta(days=1))
    live, replay = EmbeddedChannel(), EmbeddedChannel()
    for event in (product("X"), listed, first, LATE_RATE, nxt):
        live.feed_events([event])
    for event in (product("X"), listed, LATE_RATE, first, nxt):
        replay.feed_events([event])
    (row,) = live.snapshot(NOON)["violations"]
    assert (row["transaction_id"], row["floor_price"], row["severity"]) == ("T1", "16.00", "major")
    assert live.snapshot(NOON) == replay.snapshot(NOON)
    recorded = history(live.audit, "violation", "D01/T1")["events"]
    assert recorded[0]["data"]["rate_event_id"] == str(LATE_RATE.event_id)
    assert [e["data"] for e in recorded] == [
        e["data"] for e in history(replay.audit, "violation", "D01/T1")["events"]
    ]
