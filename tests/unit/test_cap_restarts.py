"""A cap two distributors share when workers restart and ledgers send grants twice
(docs/CLAIMS.md, "Each counted once"): each distributor's partition and the ledger's hold
stores of their own, the logs between them are lists; a partition restarted goes back to
the state it last stored and reads again what it read since, while what it sent stays on
the logs. Whatever the faults, the ledger counts exactly the units the lines hold."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from projections import cap_inputs, claim_inputs
from projections.cap_inputs import apply_cap_message, apply_grant_message, cap_messages
from projections.channel import apply_message
from projections.claim_caps import (
    CapRelease,
    CapRequest,
    cap_message_to_json,
    settled,
)
from projections.claim_reads import debit_claim_rows
from projections.claim_refs import LineRef
from projections.positions import message_position
from projections.stores import ChannelStores
from schemas.claims import DebitClaimSubmitted
from schemas.codec import event_to_dict
from streams.runners.processing import Input, process_batch
from tests.unit.catalog import catalog_stores
from tests.unit.claim_events import RECORDED, authorization, book_price, claim, line, sale
from tests.unit.test_claim_wiring import Feed

#: each distributor's POS lines (all to R9), and its partition
SALES = {"D1": (("T1", 70), ("T3", 10)), "D2": (("T2", 50),)}
PARTITIONS = {"D1": 0, "D2": 1}


def reference(distributor_id: str | None) -> ChannelStores:
    """A partition's stores with the reference data (A1: D1 and D2, cap 100) and, for a
    distributor's, its POS lines; each partition holds some distributors only."""
    feed = Feed(catalog_stores("X"))
    feed.stores.every_distributor = False
    feed.send("prices", book_price())
    feed.send("authorizations", authorization(distributor_ids=["D1", "D2"]))
    for transaction, units in SALES.get(distributor_id or "", ()):
        feed.send("sales", sale(transaction, units, distributor_id=distributor_id))
    return feed.stores


@dataclass
class Partition:
    """A distributor's partition: its stores, its two topics, how far it has read each,
    and what it last stored (its state and how far it had read then)."""

    number: int
    stores: ChannelStores
    logs: dict[str, list[bytes]] = field(default_factory=lambda: {"claims": [], "claim-grants": []})
    read: dict[str, int] = field(default_factory=lambda: {"claims": 0, "claim-grants": 0})
    saved: tuple[ChannelStores, dict[str, int]] | None = None

    def store(self) -> None:
        self.saved = copy.deepcopy(self.stores), dict(self.read)

    def restart(self) -> None:
        """Back to what it stored: what it read since is read again."""
        assert self.saved is not None
        stores, read = self.saved
        self.stores, self.read = copy.deepcopy(stores), dict(read)

    def next(self, topic: str) -> bool:
        """Apply the next message of `topic` not read yet (False: none)."""
        offset = self.read[topic]
        if offset == len(self.logs[topic]):
            return False
        self.read[topic] = offset + 1
        raw = self.logs[topic][offset]
        at = message_position(f"{topic}:{self.number}", offset)
        if topic == "claims":
            apply_message(self.stores, raw, None, at)
        else:
            apply_grant_message(self.stores, raw, at)
        return True


@dataclass
class Ledger:
    """A1's ledger in the partition of the authorization: its stores, how far it has read
    `claim-caps`, and what it last stored. Restarted, it reads again what it read since and
    sends those grants again."""

    stores: ChannelStores
    read: int = 0
    saved: tuple[ChannelStores, int] | None = None

    def store(self) -> None:
        self.saved = copy.deepcopy(self.stores), self.read

    def restart(self) -> None:
        assert self.saved is not None
        stores, self.read = self.saved
        self.stores = copy.deepcopy(stores)


class Cluster:
    """D1's and D2's partitions and A1's ledger, joined by the `claim-caps` log and each
    partition's `claim-grants`."""

    def __init__(self) -> None:
        self.lines = {name: Partition(n, reference(name)) for name, n in PARTITIONS.items()}
        self.ledger = Ledger(reference(None))
        self.store()
        self.caps: list[bytes] = []

    def store(self) -> None:
        for partition in self.lines.values():
            partition.store()
        self.ledger.store()

    def submit(self, event: DebitClaimSubmitted) -> None:
        self.lines[event.distributor_id].logs["claims"].append(orjson.dumps(event_to_dict(event)))

    def read(self, distributor_id: str, topic: str) -> bool:
        """The partition applies its next message of `topic`; what it sends goes on
        `claim-caps` (acknowledged before it may store its state)."""
        partition = self.lines[distributor_id]
        applied = partition.next(topic)
        caps, grants = cap_messages(partition.stores)
        assert grants == []
        self.caps += [json.dumps(message).encode() for _, message in caps]
        return applied

    def grant(self) -> bool:
        """The ledger applies the next `claim-caps` message; its grant goes to the line's
        partition."""
        offset = self.ledger.read
        if offset == len(self.caps):
            return False
        self.ledger.read += 1
        at = message_position("claim-caps:0", offset)
        apply_cap_message(self.ledger.stores, self.caps[offset], at)
        caps, grants = cap_messages(self.ledger.stores)
        assert caps == []
        for key, message in grants:
            self.lines[key].logs["claim-grants"].append(json.dumps(message).encode())
        return True

    def settle(self) -> None:
        """Every log read to its end."""
        moved = True
        while moved:
            moved = self.grant()
            for name in self.lines:
                for topic in ("claims", "claim-grants"):
                    while self.read(name, topic):
                        moved = True

    def counted(self) -> int:
        ledger = self.ledger.stores.cap_ledgers.get("*|A1")
        return 0 if ledger is None else ledger.units_taken

    def rows(self) -> dict[tuple[str, int], dict[str, Any]]:
        return {
            (row["claim_id"], row["line_no"]): row
            for partition in self.lines.values()
            for row in debit_claim_rows(partition.stores)
        }

    def held(self) -> int:
        return sum(row["quantity_accepted"] for row in self.rows().values())


def test_a_restart_and_a_grant_sent_twice_count_the_grant_the_line_holds() -> None:
    """D1's worker restarts after asking for 70 (its batch not stored), and so does the
    ledger's after granting them: the grant of 70 is sent twice. The first copy, read
    before the claim is applied again, is kept, and the claim applied again finishes its
    line with it (asking nothing again), as without the restart; D2 is left 30. The
    second copy answers a request already answered: it goes back whole, counting nothing,
    and D1's line holds the 70 the ledger counts for it."""
    cluster = Cluster()
    cluster.submit(claim("C1", line(1, "T1", 70)))
    cluster.read("D1", "claims")
    cluster.grant()
    cluster.lines["D1"].restart()
    cluster.read("D1", "claim-grants")  # before the claim: kept
    cluster.ledger.restart()
    cluster.submit(claim("C2", line(1, "T2", 50), distributor_id="D2"))
    cluster.read("D2", "claims")
    cluster.read("D1", "claims")  # the claim again: finished by the grant kept
    while cluster.grant():  # the first grant again, D2's 30, D1's 0 not kept
        pass
    cluster.read("D1", "claim-grants")  # the first grant's second copy
    cluster.settle()
    rows = cluster.rows()
    answers = {key: (row["status"], row["quantity_accepted"]) for key, row in rows.items()}
    assert answers == {("C1", 1): ("accepted", 70), ("C2", 1): ("adjusted", 30)}
    assert cluster.counted() == cluster.held() == 100


TRANSACTIONS = st.sampled_from(["T1", "T2", "T3"])
READS = st.sampled_from(["claims", "claim-grants"])
#: what becomes of a batch: its state stored, not yet (the next batch adds to it), or lost
#: (its worker restarts: back to what it last stored)
ENDS = st.sampled_from(["stored", "open", "lost"])
#: a claim (by the seller of the POS line), or a batch of a partition or of the ledger
steps = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), TRANSACTIONS, st.sampled_from([20, 50, 70])),
        st.tuples(st.sampled_from(["D1", "D2"]), READS, ENDS),
        st.tuples(st.just("ledger"), ENDS),
    ),
    max_size=16,
)


#: the double fault of `test_a_restart_and_a_grant_sent_twice_count_the_grant_the_line_holds`
DOUBLE_FAULT = [
    ("claim", "T1", 70), ("D1", "claims", "lost"), ("ledger", "lost"),
    ("D1", "claim-grants", "stored"), ("claim", "T2", 50), ("D2", "claims", "stored"),
    ("D1", "claims", "stored"), ("ledger", "stored"), ("D1", "claim-grants", "stored"),
]  # fmt: skip


#: the two restarts of `test_two_restarts_before_storing_count_the_grant_the_line_holds`
TWO_RESTARTS = [
    ("claim", "T1", 70), ("D1", "claims", "lost"), ("ledger", "stored"),
    ("D1", "claim-grants", "open"), ("claim", "T2", 50), ("D2", "claims", "stored"),
    ("ledger", "stored"), ("D1", "claims", "lost"),
]  # fmt: skip

#: a grant read early, its batch lost: the partition asks again with the same number
EARLY_GRANT_LOST = [
    ("claim", "T2", 50), ("D2", "claims", "lost"), ("ledger", "stored"), ("claim", "T1", 70),
    ("D2", "claim-grants", "lost"),
]  # fmt: skip


@settings(max_examples=400)
@given(steps)
@example(DOUBLE_FAULT)
@example(TWO_RESTARTS)
@example(EARLY_GRANT_LOST)
def test_however_requests_and_grants_are_sent_again_the_ledger_counts_what_lines_hold(
    drawn: list[tuple[Any, ...]],
) -> None:
    """Claims, and the partitions and the ledger each reading what was sent to them in a
    batch that is stored, or lost (its worker restarts: what it sent stays sent), in any
    order: every line is answered, the ledger counts the units the lines hold, and the
    cap is not exceeded. A worker may lose several batches between two it stores, and a
    partition read its grants before the claims that asked for them (early grants)."""
    cluster = Cluster()
    for number, step in enumerate(drawn):
        if step[0] == "claim":
            _, transaction, units = step
            distributor = "D2" if transaction == "T2" else "D1"
            cluster.submit(
                claim(f"C{number}", line(1, transaction, units), distributor_id=distributor)
            )
            continue
        if step[0] == "ledger":
            who: Partition | Ledger = cluster.ledger
            while cluster.grant():
                pass
        else:
            who = cluster.lines[step[0]]
            while cluster.read(step[0], step[1]):
                pass
        if step[-1] == "stored":
            who.store()
        elif step[-1] == "lost":
            who.restart()
    cluster.settle()
    assert all(row["status"] != "waiting" for row in cluster.rows().values())
    assert cluster.counted() == cluster.held() <= 100


def test_two_restarts_before_storing_count_the_grant_the_line_holds() -> None:
    """D1's worker restarts after asking (request 1) and reads the grant of 70 before the
    claim: it keeps it, and the claim applied again finishes its line with it (its request
    not sent again); D2 is left 30. D1 restarts again before it stores: the claim asks
    with number 1 once more, answered with the same grant of 70, counted once."""
    cluster = Cluster()
    d1 = cluster.lines["D1"]
    cluster.submit(claim("C1", line(1, "T1", 70)))
    cluster.read("D1", "claims")
    d1.restart()
    cluster.grant()
    cluster.read("D1", "claim-grants")  # read early: kept
    assert not cluster.grant()  # nothing given back
    cluster.submit(claim("C2", line(1, "T2", 50), distributor_id="D2"))
    cluster.read("D2", "claims")
    cluster.grant()
    cluster.read("D1", "claims")  # finished by the grant kept, asking nothing
    assert cluster.caps[-1] != cluster.caps[0]
    d1.restart()
    cluster.settle()
    rows = cluster.rows()
    answers = {key: (row["status"], row["quantity_accepted"]) for key, row in rows.items()}
    assert answers == {("C1", 1): ("accepted", 70), ("C2", 1): ("adjusted", 30)}
    assert cluster.counted() == cluster.held() == 100


def test_a_claim_failing_mid_handler_sends_nothing_of_what_it_asked(monkeypatch) -> None:
    """D1's claim C1 asks the shared cap for 70, then its handler fails (a bug: dead-lettered
    `processing_error`): its stored result is the dead letter, so its request must not go
    out with the batch (the ledger would take 70 units no line holds). The next claim of
    the batch (C2, T3's 10) asks as usual."""
    stores = reference("D1")
    failing = {"calls": 0}
    real_store_steps = claim_inputs.store_steps

    def store_steps_failing_once(*args: Any, **kwargs: Any) -> Any:
        failing["calls"] += 1
        if failing["calls"] == 1:
            raise RuntimeError("a bug after the request was made")
        return real_store_steps(*args, **kwargs)

    monkeypatch.setattr(claim_inputs, "store_steps", store_steps_failing_once)
    inputs = [
        Input(orjson.dumps(event_to_dict(event)), "D1", "claims", 0, offset)
        for offset, event in enumerate(
            [claim("C1", line(1, "T1", 70)), claim("C2", line(1, "T3", 10), n=1)]
        )
    ]
    result = process_batch(stores, inputs)
    assert [letter.reason for letter in result.dead_letters] == ["processing_error"]
    caps, grants = cap_messages(stores)
    assert grants == []
    # (claim id, units) of each request: C2's alone
    assert [(m["request"]["ref"][1], m["request"]["units"]) for _, m in caps] == [("C2", 10)]


#: one line asking against one POS line, or against another (a reopened line asks anew)
REFS = [
    LineRef("D1", "C1", RECORDED, line(1, "T1", 70)),
    LineRef("D2", "C2", RECORDED, line(1, "T2", 50)),
]
cap_log = st.lists(
    st.one_of(
        st.tuples(
            st.just("request"),
            st.sampled_from(range(2)),
            st.sampled_from(["p1", "p2"]),
            st.integers(0, 80),
            st.integers(1, 3),
        ),
        st.tuples(
            st.sampled_from(["rest", "whole", "held"]),
            st.sampled_from(range(2)),
            st.sampled_from(["p1", "p2"]),
            st.integers(0, 80),
            st.integers(1, 3),
        ),
    ),
    max_size=30,
)


@settings(max_examples=300)
@given(cap_log)
def test_an_ask_removed_once_settled_changes_nothing_the_ledger_does(
    drawn: list[tuple[Any, ...]],
) -> None:
    """`claim-caps` messages in any order, sent again or not, to A1's ledger: removing an
    ask once its grant came back whole with nothing out (`settled`) grants, counts and
    gives back exactly what keeping every ask does, and the store keeps no settled ask."""
    pruned, kept = reference(None), reference(None)
    for offset, (kind, who, pos, units, seq) in enumerate(drawn):
        ref = REFS[who]
        message: CapRequest | CapRelease = (
            CapRequest("A1", ref, units, 1, pos, 100, seq)
            if kind == "request"
            else CapRelease("A1", units, ref, pos, kind, seq)
        )
        raw = json.dumps(cap_message_to_json(message)).encode()
        answers = []
        at = message_position("claim-caps:0", offset)
        apply_cap_message(pruned, raw, at, "A1")
        answers.append(cap_messages(pruned))
        with patch.object(cap_inputs, "settled", lambda _: False):  # as before: every ask kept
            apply_cap_message(kept, raw, at, "A1")
        answers.append(cap_messages(kept))
        assert all(not settled(ask) for ask in pruned.cap_asks.values())
        assert answers[0] == answers[1]
        assert pruned.cap_ledgers.get("*|A1") == kept.cap_ledgers.get("*|A1")
    assert len(list(pruned.cap_asks.values())) <= len(list(kept.cap_asks.values()))


def test_an_ask_whose_grant_came_back_whole_is_removed() -> None:
    """A grant of 70 that no line waited for comes back whole: the ledger counts nothing
    for it and keeps no ask; the same request again is granted anew, as it was before."""
    stores = reference(None)
    ref = REFS[0]
    request = json.dumps(cap_message_to_json(CapRequest("A1", ref, 70, 1, "p1", 100, 1)))
    whole = json.dumps(cap_message_to_json(CapRelease("A1", 70, ref, "p1", "whole", 1)))
    at = iter(range(10))
    apply_cap_message(stores, request.encode(), message_position("claim-caps:0", next(at)), "A1")
    assert len(list(stores.cap_asks.values())) == 1
    apply_cap_message(stores, whole.encode(), message_position("claim-caps:0", next(at)), "A1")
    assert list(stores.cap_asks.values()) == []
    ledger = stores.cap_ledgers.get("*|A1")
    assert ledger is not None and ledger.units_taken == 0
    apply_cap_message(stores, request.encode(), message_position("claim-caps:0", next(at)), "A1")
    ledger = stores.cap_ledgers.get("*|A1")
    assert ledger is not None and ledger.units_taken == 70
    assert len(list(stores.cap_asks.values())) == 1
