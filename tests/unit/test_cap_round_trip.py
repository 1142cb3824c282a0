"""A cap several distributors share, through its logs as a worker runs them (docs/CLAIMS.md,
"The cap, in a worker"): the requests and releases of the distributors' partitions to the
authorization's ledger, its grants back; each message sent again (a batch applied again)
counts once; and the decisions are those of one process."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.claim_rules import LineDecision
from projections.cap_inputs import (
    INVALID_CAP_MESSAGE,
    apply_cap_message,
    apply_grant_message,
    cap_messages,
)
from projections.claim_caps import (
    CapGrant,
    CapRelease,
    CapRequest,
    give_back_once,
    grant_once,
)
from projections.claim_facts import ClaimLinesDecided
from projections.claims import PosClaims, line_refs
from projections.outcome import Outcome
from projections.positions import message_position
from projections.stores import ChannelStores
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import Input
from tests.unit.catalog import catalog_stores
from tests.unit.claim_events import (
    RECORDED,
    authorization,
    book_price,
    claim,
    line,
    outcome_of,
    sale,
)
from tests.unit.test_claim_wiring import Feed, report


class Worker(Feed):
    """A worker's partitions in one ChannelStores: the claims' requests go to the
    `claim-caps` log, the grants to `claim-grants`, each message applied at the next
    offset of its log (`twice`: and again at the one after, as a batch applied again
    sends it again)."""

    def __init__(self, every_distributor: bool = False, twice: bool = False) -> None:
        stores = catalog_stores("X")
        stores.every_distributor = every_distributor
        super().__init__(stores)
        self.twice = twice
        self.send("prices", book_price())
        self.send("authorizations", authorization(distributor_ids=["D1", "D2"]))
        self.sell(sale("T1", 70), sale("T3", 10), sale("T2", 50, distributor_id="D2"))

    def decide(self, event: Any) -> list[tuple[str, tuple[str, ...], int, Any]]:
        outcomes = [self.claim(event)]
        caps, grants = cap_messages(self.stores)
        while caps or grants:
            for _, message in caps:
                outcomes += self.log("claim-caps", apply_cap_message, message)
            for _, message in grants:
                outcomes += self.log("claim-grants", apply_grant_message, message)
            caps, grants = cap_messages(self.stores)
        return [outcome_of(d) for d in _decisions(outcomes) if d.status != "pending_pos"]

    def log(self, topic: str, apply: Any, message: dict[str, Any]) -> list[Outcome]:
        raw = json.dumps(message).encode()
        outcomes = []
        for _ in range(2 if self.twice else 1):
            offset = self.offsets.get(topic, 0)
            self.offsets[topic] = offset + 1
            self.inputs.append(Input(raw, None, topic, 0, offset))
            outcomes.append(apply(self.stores, raw, message_position(f"{topic}:0", offset)))
        return outcomes


def _decisions(outcomes: list[Outcome]) -> list[LineDecision]:
    return [
        d for o in outcomes for f in o.facts if isinstance(f, ClaimLinesDecided)
        for d in f.decisions
    ]  # fmt: skip


def taken(stores: ChannelStores) -> int:
    ledger = stores.cap_ledgers.get("*|A1")
    assert ledger is not None
    return ledger.units_taken


@pytest.mark.parametrize("twice", [False, True])
def test_two_distributors_share_one_cap_as_one_process_would(twice: bool) -> None:
    """Cap 100: D1 claims 70, D2 50 (30 left), D1 10 more (none left)."""
    results = []
    for worker in (Worker(twice=twice), Worker(every_distributor=True)):
        results.append(
            [
                worker.decide(claim("C1", line(1, "T1", 70))),
                worker.decide(claim("C2", line(1, "T2", 50), distributor_id="D2")),
                worker.decide(claim("C3", line(1, "T3", 10))),
            ]
        )
        assert taken(worker.stores) == 100
    live, whole = results
    assert [[d[:3] for d in each] for each in live] == [
        [("accepted", (), 70)],
        [("adjusted", ("cap_partial",), 30)],
        [("rejected", ("cap_exhausted",), 0)],
    ]
    assert live == whole


@pytest.mark.parametrize("twice", [False, True])
def test_a_replay_of_the_recorded_logs_decides_as_the_worker_did(twice: bool) -> None:
    worker = Worker(twice=twice)
    worker.decide(claim("C1", line(1, "T1", 70)))
    worker.decide(claim("C2", line(1, "T2", 50), distributor_id="D2"))
    worker.decide(claim("C3", line(1, "T3", 10)))
    replay = EmbeddedChannel()
    replay.stores = catalog_stores("X")
    replay.follow_cap_logs("")
    replay.apply(worker.inputs)
    assert Feed(replay.stores).rows() == worker.rows()
    assert taken(replay.stores) == 100
    assert cap_messages(replay.stores) == ([], [])  # recorded on the logs: nothing to send


def test_a_line_waits_for_its_grant_until_it_comes() -> None:
    worker = Worker()
    assert worker.claim(claim("C1", line(1, "T1", 70))).facts[1:] == ()
    assert worker.rows()[("C1", 1)]["status"] == "waiting"
    caps, grants = cap_messages(worker.stores)
    assert [key for key, _ in caps] == ["A1"] and grants == []
    assert cap_messages(worker.stores) == ([], [])  # taken once


def test_the_same_request_again_is_answered_as_before_and_counts_once() -> None:
    terms = Worker(every_distributor=True).stores.authorizations.get("A1")
    assert terms is not None
    (ref,) = line_refs(claim("C1", line(1, "T1", 70)), RECORDED)
    request = CapRequest("A1", ref, 70, 1, "pos-1")
    at = message_position("claim-caps:0", 0)
    ledger, ask, answer = grant_once(None, None, terms.terms, request, at)
    assert answer == CapGrant("A1", ref, 70, 70, 100, "pos-1")
    again = message_position("claim-caps:0", 1)
    after, same, resent = grant_once(ledger, ask, terms.terms, request, again)
    assert (after.units_taken, same, resent) == (70, ask, answer)
    assert grant_once(after, ask, terms.terms, request, again) == (after, ask, None)


def test_a_request_of_another_number_replaces_the_one_before() -> None:
    """The line's request sent again with a higher number (it saw the first grant before
    it asked again): what it had not given back of the first grant comes back, the request
    is granted anew, and a release of the first grant counts nothing after it."""
    (ref,) = line_refs(claim("C1", line(1, "T1", 70)), RECORDED)
    first = CapRequest("A1", ref, 70, 1, "pos-1", seq=1)
    ledger, ask, answer = grant_once(None, None, None, first, None)
    assert answer is not None and (answer.seq, ledger.units_taken) == (1, 70)
    again = replace(first, seq=2)
    ledger, ask, renewed = grant_once(ledger, ask, None, again, None)
    assert renewed == replace(answer, seq=2) and ledger.units_taken == 70
    stale = CapRelease("A1", 70, ref, "pos-1", "whole", seq=1)
    ledger, ask = give_back_once(ledger, ask, stale, None)
    assert ledger.units_taken == 70 and ask is not None and ask.released == {}
    kept = CapRelease("A1", 20, ref, "pos-1", "rest", seq=2)
    assert give_back_once(ledger, ask, kept, None)[0].units_taken == 50


def test_messages_written_before_requests_were_numbered_still_read() -> None:
    """A request, grant and release without `seq` read back as unnumbered, and a line
    waiting from before numbers is finished by the unnumbered grant of its request."""
    (ref,) = line_refs(claim("C1", line(1, "T1", 70)), RECORDED)
    request = CapRequest("A1", ref, 70, 1, "pos-1")
    old = {key: value for key, value in request.to_json().items() if key != "seq"}
    assert CapRequest.from_json(old) == request and request.seq is None
    answer = CapGrant("A1", ref, 70, 70, 100, "pos-1")
    old = {key: value for key, value in answer.to_json().items() if key != "seq"}
    assert CapGrant.from_json(old) == answer
    release = CapRelease("A1", 5, ref, "pos-1", "rest")
    old = {key: value for key, value in release.to_json().items() if key != "seq"}
    assert CapRelease.from_json(old) == release
    worker = Worker()
    worker.claim(claim("C1", line(1, "T1", 70)))
    caps, _ = cap_messages(worker.stores)
    [(_, message)] = caps
    del message["request"]["seq"]  # as a worker wrote it before numbers
    key = ref.sale_key
    waiting = worker.stores.pos_claims.get(key)
    assert waiting is not None
    data = waiting.to_json()
    del data["asked"], data["awaiting"][0]["seq"]
    worker.stores.pos_claims.put(key, PosClaims.from_json(data))
    worker.log("claim-caps", apply_cap_message, message)
    _, grants = cap_messages(worker.stores)
    [(_, granted)] = grants
    assert granted["seq"] is None
    [outcome] = worker.log("claim-grants", apply_grant_message, granted)
    assert [outcome_of(d)[:3] for d in _decisions([outcome])] == [("accepted", (), 70)]
    assert taken(worker.stores) == 70


def test_a_grant_comes_back_once_however_often_it_is_given_back() -> None:
    (ref,) = line_refs(claim("C1", line(1, "T1", 70)), RECORDED)
    request = CapRequest("A1", ref, 70, 1, "pos-1")
    ledger, ask, _ = grant_once(None, None, None, request, None)
    rest = CapRelease("A1", 10, ref, "pos-1", "rest")
    ledger, ask = give_back_once(ledger, ask, rest, None)
    ledger, ask = give_back_once(ledger, ask, rest, None)
    assert ledger.units_taken == 60
    # the same grant delivered again, finding no line waiting: already answered
    ledger, ask = give_back_once(ledger, ask, CapRelease("A1", 70, ref, "pos-1", "whole"), None)
    assert ledger.units_taken == 60
    held = CapRelease("A1", 60, ref, "pos-1", "held")  # reopened: what it kept
    ledger, ask = give_back_once(ledger, ask, held, None)
    ledger, ask = give_back_once(ledger, ask, held, None)
    assert ledger.units_taken == 0
    other = CapRelease("A1", 5, ref, "pos-2", "whole")  # of a request never granted
    assert give_back_once(ledger, None, other, None)[0].units_taken == 0


def test_a_message_that_is_not_one_is_dead_lettered() -> None:
    stores = catalog_stores("X")
    at = message_position("claim-caps:0", 0)
    assert apply_cap_message(stores, b"{}", at).dead_letter_reason == INVALID_CAP_MESSAGE
    assert apply_grant_message(stores, b"[", at).dead_letter_reason == INVALID_CAP_MESSAGE


@pytest.mark.parametrize(
    "message",
    [
        {"release": {"a": "A1", "units": 5, "kind": "bogus"}},
        {"release": {"a": "A1", "units": -5}},
        {"release": {"a": "A1", "units": "5"}},
    ],
)
def test_a_release_of_no_known_kind_or_no_count_is_dead_lettered_and_counts_nothing(
    message: dict[str, Any],
) -> None:
    """An unknown kind, negative or non-integer units: refused whole, no ledger touched
    (negative units would raise the units taken, a kind unknown would fail later)."""
    stores = catalog_stores("X")
    at = message_position("claim-caps:0", 0)
    outcome = apply_cap_message(stores, json.dumps(message).encode(), at)
    assert outcome.dead_letter_reason == INVALID_CAP_MESSAGE
    assert not list(stores.cap_ledgers.values())


def test_a_request_whose_grant_came_back_whole_before_it_is_granted_anew() -> None:
    """After a restart the grant may be read before the claim is applied again: the line,
    not waiting yet, gives it back whole; the claim's request, sent again, then counts."""
    (ref,) = line_refs(claim("C1", line(1, "T1", 70)), RECORDED)
    request = CapRequest("A1", ref, 70, 1, "pos-1")
    ledger, ask, first = grant_once(None, None, None, request, None)
    whole = CapRelease("A1", 70, ref, "pos-1", "whole")
    ledger, ask = give_back_once(ledger, ask, whole, None)
    assert ledger.units_taken == 0
    ledger, ask, again = grant_once(ledger, ask, None, request, None)
    assert (ledger.units_taken, again) == (70, first)
    assert ask is not None and ask.released == {}


class LaggingWorker(Worker):
    """The logs delivered when drawn: a distributor's claims may come before the grants
    of its earlier ones, and the other distributor's requests between them."""

    def __init__(self) -> None:
        super().__init__()
        self.caps: list[dict[str, Any]] = []
        self.grants: list[dict[str, Any]] = []
        #: D1's T4 is sold in a report of its own, replaced when drawn
        self.generation = 0
        self.send("sales", report("R-0", 1))
        self.sell(sale("T4", 30, report_id="R-0"))

    def replace_report(self, number: int, units: int) -> None:
        """A replacement report reverses T4 (reopening the lines holding it), and sells it
        again with `units`."""
        replaced = f"R-{self.generation}"
        self.generation += 1
        current = f"R-{self.generation}"
        self.send("sales", report(current, 10 * number + 2, replaces=replaced))
        self.queue()
        self.sell(sale("T4", units, n=1000 * number, report_id=current))
        self.queue()

    def queue(self) -> None:
        caps, grants = cap_messages(self.stores)
        self.caps += [message for _, message in caps]
        self.grants += [message for _, message in grants]

    def deliver(self, log: str, twice: bool) -> None:
        pending = self.caps if log == "claim-caps" else self.grants
        if pending:
            apply = apply_cap_message if log == "claim-caps" else apply_grant_message
            self.twice = twice
            self.log(log, apply, pending.pop(0))
            self.queue()


claim_steps = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), st.sampled_from(["T1", "T2", "T3", "T4"]), st.integers(1, 60)),
        st.tuples(st.just("replace"), st.integers(1, 40)),
        st.tuples(st.sampled_from(["claim-caps", "claim-grants"]), st.booleans()),
    ),
    max_size=14,
)


@settings(max_examples=60)
@given(claim_steps)
def test_however_late_and_often_the_logs_come_no_cap_is_exceeded_and_the_replay_agrees(
    steps: list[tuple[Any, ...]],
) -> None:
    worker = LaggingWorker()
    for number, step in enumerate(steps):
        if step[0] == "claim":
            _, transaction, units = step
            distributor = "D2" if transaction == "T2" else "D1"
            event = claim(f"C{number}", line(1, transaction, units), distributor_id=distributor)
            worker.claim(event)
            worker.queue()
        elif step[0] == "replace":
            worker.replace_report(number, step[1])
        else:
            worker.deliver(*step)
    while worker.caps or worker.grants:
        worker.deliver("claim-caps" if worker.caps else "claim-grants", False)
    rows = worker.rows().values()
    assert all(row["status"] != "waiting" for row in rows)
    held = sum(row["quantity_accepted"] for row in rows if row["status"] != "pending_pos")
    assert taken_or_none(worker.stores) == held <= 100
    replay = EmbeddedChannel()
    replay.stores = catalog_stores("X")
    replay.follow_cap_logs("")
    replay.apply(worker.inputs)
    assert Feed(replay.stores).rows() == worker.rows()


def taken_or_none(stores: ChannelStores) -> int:
    ledger = stores.cap_ledgers.get("*|A1")
    return 0 if ledger is None else ledger.units_taken


def test_a_ledger_without_the_terms_yet_counts_the_cap_the_line_was_checked_against() -> None:
    (ref,) = line_refs(claim("C1", line(1, "T1", 70)), RECORDED)
    request = CapRequest("A1", ref, 70, 1, "pos-1", cap=50)
    ledger, _, answer = grant_once(None, None, None, request, None)
    assert answer is not None and (answer.granted, answer.left, ledger.units_taken) == (50, 50, 50)


def test_a_log_message_keyed_for_another_partition_is_dead_lettered() -> None:
    """A request keyed by another authorization would open a second ledger of A1's cap in
    that partition; a grant keyed by another distributor would finish nothing there."""
    stores = catalog_stores("X")
    at = message_position("claim-caps:0", 0)
    release = json.dumps({"release": {"a": "A1", "units": 5}}).encode()
    refused = apply_cap_message(stores, release, at, "A2")
    assert (refused.dead_letter_reason, "keyed 'A2'" in (refused.detail or "")) == (
        INVALID_CAP_MESSAGE,
        True,
    )
    assert apply_cap_message(stores, release, at, "A1").dead_letter_reason is None
