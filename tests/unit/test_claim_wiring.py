"""Debit claims through the channel projection (docs/CLAIMS.md, "Wired in"): decided
against the stores, resends and conflicts, a pending line decided when its POS line
arrives or rejected when its wait runs out, a reversal reopening a line, the audit
aggregate recorded, and the decisions equal to the one-phase pure core's."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import hypothesis
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.business_time import TimeRules
from domain.claim_lifecycle import DebitClaim
from domain.claim_rules import claim_aggregate_id
from infra.eventstore import open_audit_log
from projections.channel import apply_message
from projections.claim_facts import ClaimLinesDecided, ClaimLinesReopened, ClaimSubmitted
from projections.claim_reads import debit_claim_rows
from projections.dedup import Verdict
from projections.outcome import Outcome
from projections.positions import message_position
from projections.stores import ChannelStores
from schemas.codec import event_to_dict
from schemas.envelope import Envelope
from schemas.events import ReportSubmitted
from streams.metrics import REGISTRY
from streams.runners.processing import Input, record_facts
from streams.worker.stores import store_layouts
from tests.unit.agreement_events import signed
from tests.unit.catalog import catalog_stores
from tests.unit.claim_events import (
    RECORDED,
    SOLD,
    Channel,
    authorization,
    book_price,
    claim,
    line,
    outcome_of,
    sale,
    uid,
)

LATER = RECORDED + timedelta(days=31)
RULES = TimeRules()


class Feed:
    """Messages to one ChannelStores, each at the next offset of its topic."""

    def __init__(self, stores: ChannelStores | None = None) -> None:
        self.stores = stores or channel_stores()
        self.offsets: dict[str, int] = {}
        #: every message sent, as a replay reads it back
        self.inputs: list[Input] = []

    def send(self, topic: str, event: Envelope, rules: TimeRules = RULES) -> Outcome:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        key = getattr(event, "distributor_id", None) or getattr(event, "sku", None)
        raw = orjson.dumps(event_to_dict(event))
        position = message_position(f"{topic}:0", offset)
        self.inputs.append(Input(raw, key, topic, 0, offset))
        [outcome] = apply_message(self.stores, raw, key, position, rules=rules)
        return outcome

    def sell(self, *sales: Envelope) -> list[Outcome]:
        return [self.send("sales", each) for each in sales]

    def claim(self, event: Envelope) -> Outcome:
        return self.send("claims", event)

    def rows(self) -> dict[tuple[str, int], dict[str, Any]]:
        return {(row["claim_id"], row["line_no"]): row for row in debit_claim_rows(self.stores)}


def channel_stores() -> ChannelStores:
    """A1 for D1 and X to R9 at 70.00 (cap 100), book cost 100.00 (the worked example)."""
    stores = catalog_stores("X")
    feed = Feed(stores)
    feed.send("prices", book_price())
    feed.send("authorizations", authorization())
    return stores


def example() -> Feed:
    feed = Feed()
    feed.sell(sale("T1", 60), sale("T2", 50), sale("T3", 10, reseller_id="R5"))
    return feed


def decided(outcome: Outcome) -> list[tuple[str, tuple[str, ...], int, Any]]:
    return [
        outcome_of(d) for fact in outcome.facts if isinstance(fact, ClaimLinesDecided)
        for d in fact.decisions
    ]  # fmt: skip


def test_the_worked_example_through_the_claims_topic() -> None:
    feed = example()
    outcome = feed.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 50), line(3, "T3", 10)))
    assert outcome.verdict is Verdict.ACCEPTED
    assert isinstance(outcome.facts[0], ClaimSubmitted)
    statuses = [(status, reasons, units) for status, reasons, units, _ in decided(outcome)]
    assert statuses == [
        ("accepted", (), 60),
        ("adjusted", ("cap_partial",), 40),
        ("rejected", ("wrong_reseller",), 0),
    ]
    second = feed.claim(claim("C2", line(1, "T1", 5)))
    assert [d[:2] for d in decided(second)] == [("rejected", ("already_claimed",))]
    rows = feed.rows()
    assert rows[("C1", 2)]["amount_accepted"] == "1200.00"
    assert rows[("C2", 1)]["reasons"] == ["already_claimed"]
    ledger = feed.stores.cap_ledgers.get("D1|A1")
    assert ledger is not None and ledger.units_taken == 100


def test_a_resend_is_a_duplicate_and_other_lines_a_conflicting_duplicate() -> None:
    feed = example()
    feed.claim(claim("C1", line(1, "T1", 10)))
    assert feed.claim(claim("C1", line(1, "T1", 10), n=1)).verdict is Verdict.DUPLICATE
    conflict = feed.claim(claim("C1", line(1, "T1", 11), n=2))
    assert conflict.dead_letter_reason == "conflicting_duplicate"
    assert feed.rows()[("C1", 1)]["quantity_accepted"] == 10
    ledger = feed.stores.cap_ledgers.get("D1|A1")
    assert ledger is not None and ledger.units_taken == 10


def test_a_redelivered_claim_changes_nothing() -> None:
    feed = example()
    event = claim("C1", line(1, "T1", 10))
    feed.claim(event)
    raw = orjson.dumps(event_to_dict(event))
    [again] = apply_message(feed.stores, raw, "D1", message_position("claims:0", 0))
    assert again.verdict is Verdict.REDELIVERY and again.facts == ()


def test_a_pending_line_is_decided_when_its_pos_line_arrives() -> None:
    feed = Feed()
    first = feed.claim(claim("C1", line(1, "T9", 5)))
    assert [d[0] for d in decided(first)] == ["pending_pos"]
    assert feed.stores.claims_pending.get(f"D1|{RECORDED.date()}|sale|D1|T9") is True
    [arrived] = feed.sell(sale("T9", 5))
    assert [d[:3] for d in decided(arrived)] == [("accepted", (), 5)]
    assert list(feed.stores.claims_pending.scan()) == []


def test_a_line_whose_wait_ran_out_is_no_pos_line_at_the_next_event() -> None:
    feed = Feed()
    feed.claim(claim("C1", line(1, "T9", 5)))
    late = sale("T8", 1, recorded_at=LATER, occurred_at=LATER, sold_at=LATER - timedelta(days=1))
    [outcome] = feed.sell(late)
    assert [d[:2] for d in decided(outcome)] == [("rejected", ("no_pos_line",))]
    [arrived] = feed.sell(sale("T9", 5, recorded_at=LATER, occurred_at=LATER))
    assert decided(arrived) == []


def test_the_wait_is_the_rules_claim_wait() -> None:
    feed = Feed()
    feed.claim(claim("C1", line(1, "T9", 5)))
    soon = RECORDED + timedelta(days=3)
    rules = TimeRules(claim_wait=timedelta(days=2))
    outcome = feed.send("sales", sale("T8", 1, recorded_at=soon, occurred_at=soon), rules)
    assert [d[:2] for d in decided(outcome)] == [("rejected", ("no_pos_line",))]


def report(report_id: str, n: int, replaces: str | None = None) -> ReportSubmitted:
    return ReportSubmitted(
        event_id=uid(6000 + n), occurred_at=SOLD, recorded_at=RECORDED, source="csv",
        distributor_id="D1", report_id=report_id, period_start=date(2026, 4, 1),
        period_end=date(2026, 4, 30), line_count=1, submitted_at=RECORDED,
        replaces_report_id=replaces,
    )  # fmt: skip


def test_a_replacement_reopens_the_lines_of_the_pos_line_it_reverses() -> None:
    feed = Feed()
    feed.send("sales", report("R1", 1))
    feed.sell(sale("T1", 60, report_id="R1"))
    feed.claim(claim("C1", line(1, "T1", 60)))
    replacement = feed.send("sales", report("R2", 2, replaces="R1"))
    [reopened] = [f for f in replacement.facts if isinstance(f, ClaimLinesReopened)]
    assert reopened.line_nos == (1,)
    assert feed.rows()[("C1", 1)]["status"] == "waiting"
    ledger = feed.stores.cap_ledgers.get("D1|A1")
    assert ledger is not None and ledger.units_taken == 0
    [corrected] = feed.sell(sale("T1", 40, n=1, report_id="R2"))
    assert [d[:3] for d in decided(corrected)] == [("adjusted", ("quantity_reduced",), 40)]


def test_the_decisions_are_recorded_on_the_claims_aggregate() -> None:
    feed = Feed()
    audit = open_audit_log("sqlite:///:memory:")
    outcomes = [feed.claim(claim("C1", line(1, "T1", 60), line(2, "T9", 5)))]
    outcomes += feed.sell(sale("T1", 60), sale("T9", 5))
    before = accepted_lines()
    record_facts(audit, [fact for outcome in outcomes for fact in outcome.facts])
    aggregate: DebitClaim = audit.repository.get(claim_aggregate_id("D1", "C1"))
    assert {n: d.status for n, d in aggregate.decisions.items()} == {1: "accepted", 2: "accepted"}
    assert aggregate.decisions[1].pos_event_id == sale("T1", 60).event_id
    assert record_facts(audit, [f for outcome in outcomes for f in outcome.facts]) == 0
    # each line counted once, when decided (not while it waited for its POS line)
    assert accepted_lines() - before == 2


def accepted_lines() -> float:
    value = REGISTRY.get_sample_value("channelflow_claim_lines_total", {"status": "accepted"})
    return value or 0.0


def restored(stores: ChannelStores) -> ChannelStores:
    """The stores as a worker's changelog gives them back: every value encoded and decoded."""
    copy = ChannelStores()
    for name, layout in store_layouts(1).items():
        target = getattr(copy, name)
        for key, value in getattr(stores, name).scan():
            target.put(key, layout.decode(orjson.loads(orjson.dumps(layout.encode(value)))))
    for name in ("products", "aliases", "prices", "authorizations", "sku_authorizations"):
        setattr(copy, name, getattr(stores, name))
    return copy


TRANSACTIONS = st.sampled_from(["T1", "T2", "T3"])
STEP = st.one_of(
    st.tuples(st.just("sell"), TRANSACTIONS, st.integers(1, 40)),
    st.tuples(
        st.just("claim"),
        st.lists(st.tuples(TRANSACTIONS, st.integers(1, 40)), min_size=1, max_size=3),
    ),
    st.tuples(st.just("reverse"), TRANSACTIONS),
)


class Both:
    """The same events through the pure one-phase core and two wired channels, one of
    them restored from its stores' encoding at step `cut` (a worker's changelog)."""

    def __init__(self, cut: int) -> None:
        self.pure = Channel().authorize(authorization()).price(book_price())
        self.feed, self.whole = Feed(), Feed()
        self.cut = cut
        #: transaction -> the report its current line is in (each sold in a report of its own)
        self.reports: dict[str, int] = {}

    def send(self, index: int, topic: str, event: Envelope) -> list[Outcome]:
        if index == self.cut:
            self.feed.stores = restored(self.feed.stores)
        return [self.feed.send(topic, event), self.whole.send(topic, event)]

    def sell(self, index: int, transaction: str, units: int) -> None:
        if ("sale|D1|" + transaction) in self.pure.sales:
            return  # a second line under a sale key is a duplicate or a conflict
        generation = self.reports.setdefault(transaction, 0)
        report_id = f"R-{transaction}-{generation}"
        if generation == 0:
            self.send(index, "sales", report(report_id, 100 * index))
        # an id of its own: `sale`'s ids add n and quantity, so (1, 22) and (3, 20) would meet
        event = sale(transaction, units, n=index, report_id=report_id, event_id=uid(9000 + index))
        expected = self.pure.sell(event)
        for outcome in self.send(index, "sales", event):
            assert decided(outcome) == [outcome_of(d) for d in expected]

    def claim(self, index: int, lines: list[tuple[str, int]]) -> None:
        claimed = claim(f"C{index}", *(line(i + 1, t, q) for i, (t, q) in enumerate(lines)))
        expected = self.pure.claim(claimed, at=RECORDED)
        for outcome in self.send(index, "claims", claimed):
            assert decided(outcome) == [outcome_of(d) for d in expected]

    def reverse(self, index: int, transaction: str) -> None:
        if ("sale|D1|" + transaction) not in self.pure.sales:
            return
        generation = self.reports[transaction]
        self.reports[transaction] = generation + 1
        replaced = f"R-{transaction}-{generation}"
        header = report(f"R-{transaction}-{generation + 1}", 100 * index, replaces=replaced)
        expected = sorted((ref.claim_id, ref.line.line_no) for ref in
                          self.pure.reverse("D1", transaction).reopened)  # fmt: skip
        for outcome in self.send(index, "sales", header):
            reopened = [f for f in outcome.facts if isinstance(f, ClaimLinesReopened)]
            assert sorted((f.claim_id, n) for f in reopened for n in f.line_nos) == expected


@settings(max_examples=60)
@given(st.lists(STEP, max_size=10), st.integers(0, 10))
@hypothesis.example(  # two sales of T1 whose generated ids met: the wired side took a redelivery
    [("claim", [("T1", 1)]), ("sell", "T1", 22), ("reverse", "T1"), ("sell", "T1", 20)], 0
)
def test_decisions_equal_the_pure_core_and_survive_a_restore(steps: list[Any], cut: int) -> None:
    """Wired (with the stores restored from their encoding midway) and pure one-phase
    deciding give each line the same decision and reopen the same lines; the snapshot
    rows come out the same."""
    both = Both(cut)
    for index, step in enumerate(steps):
        if step[0] == "sell":
            both.sell(index, step[1], step[2])
        elif step[0] == "claim":
            both.claim(index, step[1])
        else:
            both.reverse(index, step[1])
    assert both.feed.rows() == both.whole.rows()


def test_one_process_counts_a_shared_cap_once() -> None:
    stores = catalog_stores("X")
    feed = Feed(stores)
    feed.send("prices", book_price())
    feed.send("authorizations", authorization(distributor_ids=["D1", "D2"], quantity_cap=15))
    feed.sell(sale("T1", 10), sale("T2", 10, distributor_id="D2"))
    feed.claim(claim("C1", line(1, "T1", 10)))
    other = feed.claim(claim("C2", line(1, "T2", 10), distributor_id="D2"))
    assert [d[:3] for d in decided(other)] == [("adjusted", ("cap_partial",), 5)]
    ledger = stores.cap_ledgers.get("*|A1")
    assert ledger is not None and ledger.units_taken == 15


def test_file_inputs_without_positions_are_deduplicated_by_event_id() -> None:
    feed = example()
    event = claim("C1", line(1, "T1", 10))
    raw = orjson.dumps(event_to_dict(event))
    [first] = apply_message(feed.stores, raw, None, None)
    [again] = apply_message(feed.stores, raw, None, None)
    assert first.verdict is Verdict.ACCEPTED and again.verdict is Verdict.REDELIVERY


def test_a_claim_with_a_distributor_key_other_than_its_own_is_refused() -> None:
    raw = orjson.dumps(event_to_dict(claim("C1", line(1, "T1", 10))))
    [outcome] = apply_message(example().stores, raw, "D9", message_position("claims:0", 0))
    assert outcome.dead_letter_reason == "wrong_message_key"


def test_the_book_cost_is_the_distributors_cost_under_its_agreement() -> None:
    """AG-1 gives D1 5 % off the list for G-NET (X): a book cost of 95.00, not 100.00."""
    feed = example()
    feed.send("agreements", signed())
    outcome = feed.claim(claim("C1", line(1, "T1", 60)))
    assert decided(outcome) == [("adjusted", ("cost_corrected",), 60, Decimal("1500.00"))]
    assert feed.rows()[("C1", 1)]["book_cost"] == "95.00"


def test_the_book_cost_reads_the_named_list_its_agreement_binds() -> None:
    """LIST-2026 prices X at 90.00 and AG-1 binds it for D1 with 5 % off: a book cost of
    85.50, not the standard 100.00; (85.50 - 70.00) x 60 = 930.00."""
    feed = example()
    feed.offsets["prices"] = 1  # after the standard price `channel_stores` sent
    feed.send("prices", book_price("90.00", event_id=uid(3999), price_list="LIST-2026"))
    feed.send("agreements", signed())
    outcome = feed.claim(claim("C1", line(1, "T1", 60)))
    assert decided(outcome) == [("adjusted", ("cost_corrected",), 60, Decimal("930.00"))]
    assert feed.rows()[("C1", 1)]["book_cost"] == "85.50"
