"""A bundle's lines share their distributor and recorded time, so `expire_due` reads the
pending-claims index once a message (`ChannelStores.claims_checked`), not once a line:
the stores and every outcome are the same as when each line looks again, reversals in the
same message reopening claim lines included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.business_time import TimeRules
from projections import channel
from projections.channel import apply_message
from projections.claim_facts import ClaimLinesDecided
from projections.claim_inputs import expire_due
from projections.outcome import Outcome
from projections.positions import message_position
from projections.stores import ChannelStores
from schemas.codec import event_to_dict
from schemas.envelope import Envelope
from streams.worker.stores import store_layouts
from tests.unit.claim_events import RECORDED, claim, line, sale
from tests.unit.test_claim_wiring import channel_stores, report

RULES = TimeRules(claim_wait=timedelta(days=2))


@contextmanager
def as_it_is() -> Iterator[None]:
    yield


@contextmanager
def every_line_looks() -> Iterator[None]:
    """`expire_due` reading the index at every line, as before the message's memo."""

    def each_time(stores: ChannelStores, *args: Any) -> Any:
        stores.claims_checked = None
        return expire_due(stores, *args)

    with mock.patch.object(channel, "expire_due", each_time):
        yield


class Sender:
    """Messages (an event, or a bundle of sales and report headers) to one ChannelStores,
    each at the next offset of its topic and recorded at a given time."""

    def __init__(self) -> None:
        self.stores = channel_stores()
        self.offsets: dict[str, int] = {}
        self.outcomes: list[Outcome] = []

    def send(self, topic: str, events: list[Envelope], at: datetime) -> list[Outcome]:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        values = [event_to_dict(event) for event in events]
        raw = orjson.dumps(values if topic == "sales" else values[0])
        position = message_position(f"{topic}:0", offset)
        outcomes = apply_message(self.stores, raw, "D1", position, recorded_at=at, rules=RULES)
        self.outcomes += outcomes
        return outcomes

    def state(self) -> dict[str, list[tuple[str, bytes]]]:
        """Every store as the worker's changelog encodes it."""
        return {
            name: [
                (k, orjson.dumps(layout.encode(v))) for k, v in getattr(self.stores, name).scan()
            ]
            for name, layout in store_layouts(1).items()
        }


def decided(outcome: Outcome) -> list[tuple[str, int, str, tuple[str, ...]]]:
    return [
        (fact.claim_id, d.line_no, d.status, d.reasons)
        for fact in outcome.facts if isinstance(fact, ClaimLinesDecided)
        for d in fact.decisions
    ]  # fmt: skip


def test_a_line_reopened_in_the_bundle_times_out_at_the_next_line() -> None:
    """T1's claim line, held since day 0, is reopened by a replacement in a bundle of day
    5, after a line that found nothing due: its wait ran out long ago, so the bundle's next
    line rejects it as no_pos_line, as it did when every line looked."""
    for looking in (as_it_is, every_line_looks):
        sender = Sender()
        with looking():
            sender.send("sales", [report("R1", 1), sale("T1", 5, report_id="R1")], RECORDED)
            [submitted] = sender.send("claims", [claim("C1", line(1, "T1", 5))], RECORDED)
            assert decided(submitted) == [("C1", 1, "accepted", ())]
            later = RECORDED + timedelta(days=5)
            first, header, second = sender.send(
                "sales", [sale("T2", 1), report("R2", 2, replaces="R1"), sale("T3", 1)], later
            )
        assert decided(second) == [("C1", 1, "rejected", ("no_pos_line",))]
        assert decided(first) == decided(header) == []


TRANSACTIONS = st.sampled_from(["T1", "T2", "T3", "T9"])
ITEM = st.one_of(
    st.tuples(st.just("sell"), TRANSACTIONS, st.integers(1, 40)),
    st.tuples(st.just("reverse"), TRANSACTIONS),
)
MESSAGE = st.tuples(
    st.integers(0, 3),  # days after the one before
    st.one_of(
        st.tuples(
            st.just("claim"),
            st.lists(st.tuples(TRANSACTIONS, st.integers(1, 40)), min_size=1, max_size=3),
        ),
        st.tuples(st.just("bundle"), st.lists(ITEM, min_size=1, max_size=6)),
    ),
)


def run(messages: list[Any], looking: Callable[[], Any]) -> Sender:
    """The messages through a fresh channel: each transaction's line in a report of its
    own, a reversal a replacement of that report (its header in the same bundle)."""
    sender = Sender()
    at = RECORDED
    generation: dict[str, int] = {}
    sold: set[str] = set()
    with looking():
        for index, (days, (kind, body)) in enumerate(messages):
            at += timedelta(days=days)
            if kind == "claim":
                lines = [line(n + 1, t, q) for n, (t, q) in enumerate(body)]
                sender.send("claims", [claim(f"C{index}", *lines)], at)
                continue
            events: list[Envelope] = []
            for n, item in enumerate(body):
                transaction = item[1]
                current = generation.setdefault(transaction, 0)
                report_id = f"R-{transaction}-{current}"
                if item[0] == "reverse" and transaction in sold:
                    generation[transaction] = current + 1
                    sold.discard(transaction)
                    replacement = f"R-{transaction}-{current + 1}"
                    events.append(report(replacement, 100 * index + n, replaces=report_id))
                elif item[0] == "sell" and transaction not in sold:
                    if current == 0:
                        events.append(report(report_id, 100 * index + n))
                    events.append(sale(transaction, item[2], n=index, report_id=report_id))
                    sold.add(transaction)
            if events:
                sender.send("sales", events, at)
    return sender


@settings(max_examples=300)
@given(st.lists(MESSAGE, max_size=8))
def test_once_a_message_is_once_a_line(messages: list[Any]) -> None:
    once, every = run(messages, as_it_is), run(messages, every_line_looks)
    assert once.outcomes == every.outcomes
    assert once.state() == every.state()
