"""Deciding claim lines in two phases (the cap in a ledger per authorization): worked by
hand, and against the one-phase decisions."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.claim_rules import LineDecision, debit_amount, fewest_debited_units
from domain.identity import sale_key
from projections.claim_caps import (
    CapGrant,
    CapLedger,
    CapRelease,
    CapRequest,
    give_back,
    grant,
    grant_once,
)
from projections.claim_phases import LocalLedger, Routed, apply_grant, check_claims
from projections.claim_refs import LineRef
from projections.claims import Blocked, PosClaims, line_refs
from projections.positions import Position
from tests.unit.claim_events import (
    RECORDED,
    TwoPhaseChannel,
    authorization,
    book_price,
    claim,
    line,
    outcome_of,
    sale,
)

D = Decimal


def two_phase(local: bool = True, **changes: Any) -> TwoPhaseChannel:
    """The worked example's channel (A1: D1 and D2, cap 100; book 100.00; D1 sold T1 60,
    T2 50 to R9, T3 10 to R5; D2 sold T1 60 to R9)."""
    channel = TwoPhaseChannel(local=local)
    channel.authorize(authorization(**{"distributor_ids": ["D1", "D2"], **changes}))
    channel.price(book_price())
    channel.local = True  # nothing waits for a grant yet
    channel.sell(sale("T1", 60), sale("T2", 50), sale("T3", 10, reseller_id="R5"))
    channel.sell(sale("T1", 60, distributor_id="D2"))
    channel.local = local
    return channel


def outcomes(decisions: list[LineDecision]) -> list[tuple[str, tuple[str, ...], int, Decimal]]:
    return [outcome_of(decision) for decision in decisions]


def test_worked_example_with_the_ledger_in_process() -> None:
    channel = two_phase()
    first = channel.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 50), line(3, "T3", 10)))
    assert outcomes(first) == [
        ("accepted", (), 60, D("1800.00")),
        ("adjusted", ("cap_partial",), 40, D("1200.00")),
        ("rejected", ("wrong_reseller",), 0, D("0.00")),
    ]
    assert outcomes(channel.claim(claim("C2", line(1, "T1", 60)))) == [
        ("rejected", ("already_claimed",), 0, D("0.00"))
    ]
    assert channel.ledgers["A1"].units_taken == 100
    assert channel.authorizations["A1"].units_taken == 0  # the terms count nothing


def test_a_line_that_passes_waits_for_its_grant() -> None:
    """C1's lines reserve their POS units and ask; the grants, in the ledger's order,
    decide them: 60 of 60, then 40 of the 50 wanted."""
    channel = two_phase(local=False)
    assert outcomes(channel.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 50)))) == []
    assert [(r.ref.line.line_no, r.units) for r in channel.outbox.requests] == [(1, 60), (2, 50)]
    assert channel.pos_claims[sale_key("D1", "T1")].units_taken == 60
    first, second = channel.grant_next(), channel.grant_next()
    assert first is not None and second is not None
    assert (first.granted, second.granted) == (60, 40)
    assert outcomes(channel.answer(first) + channel.answer(second)) == [
        ("accepted", (), 60, D("1800.00")),
        ("adjusted", ("cap_partial",), 40, D("1200.00")),
    ]
    assert channel.pos_claims[sale_key("D1", "T2")].held[0][1] == 40  # 10 given back
    assert channel.outbox.releases == []


def test_the_ledger_order_decides_a_race_for_the_last_units() -> None:
    """D1 and D2 each claim 60 under A1 (cap 100): the request the ledger takes first gets
    all 60, the other the 40 left."""
    channel = two_phase(local=False)
    channel.claim(claim("C1", line(1, "T1", 60)))
    channel.claim(claim("C7", line(1, "T1", 60), distributor_id="D2"))
    d2 = channel.grant_next(1)
    d1 = channel.grant_next(0)
    assert d1 is not None and d2 is not None
    assert outcomes(channel.answer(d1)) == [("adjusted", ("cap_partial",), 40, D("1200.00"))]
    assert outcomes(channel.answer(d2)) == [("accepted", (), 60, D("1800.00"))]
    assert channel.ledgers["A1"].units_taken == 100


def test_lines_of_a_pos_line_are_held_back_behind_the_one_waiting() -> None:
    """C2 names T1 while C1's line of it waits: it is checked when C1 is answered, and sees
    the units C1 gave back (cap 10: C1 keeps 10 of 60, C2 finds the cap exhausted)."""
    channel = two_phase(local=False, quantity_cap=10)
    channel.claim(claim("C1", line(1, "T1", 60)))
    channel.claim(claim("C2", line(1, "T1", 20)))
    assert len(channel.outbox.requests) == 1
    assert [ref.claim_id for ref in channel.blocked["D1"].lines] == ["C2"]
    first = channel.grant_next()
    assert first is not None
    assert outcomes(channel.answer(first)) == [("adjusted", ("cap_partial",), 10, D("300.00"))]
    assert [r.units for r in channel.outbox.requests] == [20]  # C2 asks for 20 of the 50
    assert "D1" not in channel.blocked
    second = channel.grant_next()
    assert second is not None
    assert outcomes(channel.answer(second)) == [("rejected", ("cap_exhausted",), 0, D("0.00"))]
    assert channel.ledgers["A1"].units_taken == 10


def test_a_line_due_no_debit_takes_nothing_from_the_cap() -> None:
    """Authorized at the book cost: the line asks with nothing worth taking, the ledger
    grants nothing (the cap left is still told), the line is `no_debit_due`."""
    channel = two_phase(local=False, authorized_cost=D("100.00"))
    channel.claim(claim("C1", line(1, "T1", 60, authorized_cost=D("100.00"))))
    assert channel.outbox.requests[0].least is None
    answer = channel.grant_next()
    assert answer is not None and (answer.granted, answer.left) == (0, 100)
    assert outcomes(channel.answer(answer)) == [("rejected", ("no_debit_due",), 0, D("0.00"))]
    assert channel.outbox.releases == []
    assert channel.ledgers["A1"].units_taken == 0


def test_the_ledger_grants_nothing_below_the_least_worth_taking() -> None:
    (ref,) = line_refs(claim("C1", line(1, "T1", 60)), RECORDED)
    terms = two_phase(quantity_cap=2).terms("A1")
    ledger, answer = grant(None, terms, CapRequest("A1", ref, 60, least=3), None)
    assert answer is not None and (answer.granted, answer.left) == (0, 2)
    assert ledger.units_taken == 0


@given(
    st.decimals(D("0.00"), D("200.00"), places=4),
    st.decimals(D("0.00"), D("200.00"), places=4),
    st.sampled_from(("USD", "JPY", "KWD")),
)
def test_the_fewest_units_with_a_debit(book: Decimal, authorized: Decimal, currency: str) -> None:
    least = fewest_debited_units(book, authorized, currency)
    if least is None:
        assert debit_amount(book, authorized, 10_000, currency) <= 0
        return
    assert debit_amount(book, authorized, least, currency) > 0
    assert least == 1 or debit_amount(book, authorized, least - 1, currency) <= 0


def test_a_grant_for_a_line_reopened_meanwhile_is_given_back() -> None:
    """T1 is reversed while C1's line waits: the line waits for the corrected T1, and the
    late grant goes back to the ledger; the corrected T1 decides the line afresh."""
    channel = two_phase(local=False)
    channel.claim(claim("C1", line(1, "T1", 60)))
    assert channel.reverse("D1", "T1").reopened == []  # not decided yet: nothing to reopen
    late = channel.grant_next()
    assert late is not None
    assert channel.answer(late) == []
    channel.settle()
    assert channel.ledgers["A1"].units_taken == 0
    channel.sell(sale("T1", 30, n=1))
    again = channel.grant_next()
    assert again is not None
    assert outcomes(channel.answer(again)) == [("adjusted", ("quantity_reduced",), 30, D("900.00"))]


def test_a_reversal_gives_held_units_back_to_the_ledger() -> None:
    channel = two_phase()
    channel.claim(claim("C1", line(1, "T1", 60)))
    reopened = channel.reverse("D1", "T1").reopened
    assert [ref.claim_id for ref in reopened] == ["C1"]
    assert channel.ledgers["A1"].units_taken == 0
    assert channel.pos_claims[sale_key("D1", "T1")].pending == tuple(reopened)


def test_the_ledger_grants_nothing_twice_for_a_redelivered_request() -> None:
    (ref,) = line_refs(claim("C1", line(1, "T1", 60)), RECORDED)
    request = CapRequest("A1", ref, 60)
    terms = two_phase().terms("A1")
    at = Position("channelflow.claim-caps:0", 1024)
    ledger, answer = grant(None, terms, request, at)
    assert answer == CapGrant("A1", ref, 60, 60, 100)
    assert grant(ledger, terms, request, at) == (ledger, None)
    released = give_back(ledger, CapRelease("A1", 20), Position(at.source, 2048))
    assert released.units_taken == 40
    assert give_back(released, CapRelease("A1", 20), Position(at.source, 2048)) == released


def test_a_cap_set_by_an_amendment_counts_what_was_granted_before() -> None:
    (ref,) = line_refs(claim("C1", line(1, "T1", 60)), RECORDED)
    uncapped = two_phase(quantity_cap=None).terms("A1")
    ledger, answer = grant(None, uncapped, CapRequest("A1", ref, 60), None)
    assert answer is not None and answer.granted == 60
    capped = two_phase(quantity_cap=80).terms("A1")
    _, later = grant(ledger, capped, CapRequest("A1", ref, 50), None)
    assert later is not None and later.granted == 20


def test_waiting_lines_and_ledger_messages_read_back_from_json() -> None:
    channel = two_phase(local=False)
    channel.claim(claim("C1", line(1, "T1", 60)))
    channel.claim(claim("C2", line(1, "T1", 5)))
    busy = channel.pos_claims[sale_key("D1", "T1")]
    assert busy.awaiting
    assert PosClaims.from_json(json.loads(json.dumps(busy.to_json()))) == busy
    blocked = channel.blocked["D1"]
    assert Blocked.from_json(json.loads(json.dumps(blocked.to_json()))) == blocked
    request = channel.outbox.requests[0]
    assert (busy.asked, request.seq, busy.awaiting[0].seq) == (1, 1, 1)
    assert CapRequest.from_json(json.loads(json.dumps(request.to_json()))) == request
    answer = channel.grant_next()
    assert answer is not None
    assert CapGrant.from_json(json.loads(json.dumps(answer.to_json()))) == answer
    ledger = CapLedger("A1", 60, {"channelflow.claim-caps:0": 1024})
    assert CapLedger.from_json(json.loads(json.dumps(ledger.to_json()))) == ledger
    for release in (CapRelease("A1", 3), CapRelease("A1", 3, answer.ref, "pos-1", "whole", 2)):
        assert CapRelease.from_json(json.loads(json.dumps(release.to_json()))) == release
    assert isinstance(answer.ref, LineRef) and answer.distributor_id == "D1"


def test_a_grant_read_early_waits_for_the_request_of_its_number() -> None:
    """After a restart a grant can be read before the claim that asked for it is applied
    again: it is kept (no line asked for it yet), and the claim applied again finishes its
    line with it, asking nothing again. Its POS line reversed meanwhile, or its line
    decided without asking, it goes back whole and the next request is numbered above."""
    stored = two_phase(local=False)
    lost = copy.deepcopy(stored)
    lost.claim(claim("C1", line(1, "T1", 60)))
    (request,) = lost.outbox.requests
    _, _, early = grant_once(None, None, lost.terms("A1"), request, None)
    assert early is not None and early.seq == 1
    key = sale_key("D1", "T1")

    def restarted() -> TwoPhaseChannel:
        channel = copy.deepcopy(stored)
        assert channel.answer(early) == []
        kept = channel.pos_claims[key]
        assert (kept.early, kept.asked, channel.outbox.sent) == ((early,), 0, [])
        assert PosClaims.from_json(json.loads(json.dumps(kept.to_json()))) == kept
        assert channel.answer(early) == []  # a copy of it: kept once
        assert channel.pos_claims[key].early == (early,)
        return channel

    again = restarted()
    decided = again.claim(claim("C1", line(1, "T1", 60)))
    assert outcomes(decided) == [("accepted", (), 60, D("1800.00"))]
    rest = CapRelease("A1", 0, early.ref, early.pos, "rest", 1)
    assert again.outbox.sent == [rest]
    assert (again.pos_claims[key].early, again.pos_claims[key].asked) == ((), 1)

    whole = CapRelease("A1", 60, early.ref, early.pos, "whole", 1)
    reversed_ = restarted()
    reversed_.reverse("D1", "T1")
    assert reversed_.outbox.sent == [whole]
    assert (reversed_.pos_claims[key].early, reversed_.pos_claims[key].asked) == ((), 1)

    rejected = restarted()
    del rejected.authorizations["A1"]  # its terms not read again yet: the line is rejected
    (decision,) = rejected.claim(claim("C1", line(1, "T1", 60)))
    assert decision.status == "rejected"
    assert rejected.outbox.sent == [whole]
    assert (rejected.pos_claims[key].early, rejected.pos_claims[key].asked) == ((), 1)


def test_a_redelivered_grant_changes_nothing() -> None:
    """The grant of C1's line applied at its position, then delivered again: no second
    decision, nothing given back to the ledger."""
    channel = two_phase(local=False)
    channel.claim(claim("C1", line(1, "T1", 60)))
    answer = channel.grant_next()
    assert answer is not None
    at = Position("channelflow.claim-grants:0", 1024)
    key = sale_key("D1", "T1")
    first = apply_grant(channel.view(), answer, channel.outbox, at)
    assert outcomes(first.decisions) == [("accepted", (), 60, D("1800.00"))]
    channel.pos_claims.update(first.pos_claims)
    assert channel.pos_claims[key].applied == {at.source: at.offset}
    again = apply_grant(channel.view(), answer, channel.outbox, at)
    assert again.decisions == [] and again.pos_claims == {}
    assert channel.outbox.releases == []
    claims_of_line = channel.pos_claims[key]
    assert PosClaims.from_json(json.loads(json.dumps(claims_of_line.to_json()))) == claims_of_line


def test_a_line_of_the_same_cap_waits_behind_a_held_back_line() -> None:
    """C2 (T1, held back behind C1) comes before C3 (T2, the same authorization) in
    decision order: C3 is held back too, so the cap is asked in that order (cap 70: C1
    keeps 60, C2's 5 of T1 come before C3's 20 of T2)."""
    channel = two_phase(local=False, quantity_cap=70)
    channel.claim(claim("C1", line(1, "T1", 55)))
    channel.claim(claim("C2", line(1, "T1", 5)), claim("C3", line(1, "T2", 20)))
    assert [ref.claim_id for ref in channel.blocked["D1"].lines] == ["C2", "C3"]
    decided = []
    while channel.outbox.requests:
        answer = channel.grant_next()
        assert answer is not None
        decided += channel.answer(answer)
    assert [(d.claim_id, *outcome_of(d)[:3]) for d in decided] == [
        ("C1", "accepted", (), 55),
        ("C2", "accepted", (), 5),
        ("C3", "adjusted", ("cap_partial",), 10),
    ]
    one = two_phase(quantity_cap=70)
    one.claim(claim("C1", line(1, "T1", 55)))
    one.claim(claim("C2", line(1, "T1", 5)), claim("C3", line(1, "T2", 20)))
    assert one.decisions == channel.decisions


def test_an_authorization_naming_one_distributor_needs_no_round_trip() -> None:
    """Routed: A1 names D1 only, its ledger answers in the partition; A2 names D1 and D2,
    its request goes out."""
    channel = two_phase(local=False, distributor_ids=["D1"])
    channel.authorize(authorization("A2", n=2, distributor_ids=["D1", "D2"]))
    local = LocalLedger(channel.ledgers, channel.terms)
    routed = Routed(local, channel.outbox)
    made = claim("C1", line(1, "T1", 60), line(2, "T2", 10, authorization_id="A2"))
    steps = check_claims(channel.view(), [(made, RECORDED)], routed)
    assert outcomes(steps.decisions) == [("accepted", (), 60, D("1800.00"))]
    assert local.changed["A1"].units_taken == 60
    assert [(r.authorization_id, r.units) for r in channel.outbox.requests] == [("A2", 10)]
