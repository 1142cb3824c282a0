"""Properties of claim decisions: message splitting, arrival order within a time, replay,
and the limits the POS lines and the cap set."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.claim_rules import LineDecision, debit_amount
from projections.authorizations import AuthorizationState
from projections.claims import PosClaims
from schemas.claims import DebitClaimSubmitted
from tests.unit.claim_events import (
    RECORDED,
    Channel,
    authorization,
    book_price,
    claim,
    line,
    sale,
)

TRANSACTIONS = ("T1", "T2", "T3", "T4")


@st.composite
def channels(draw: st.DrawFn) -> Channel:
    """Two authorizations (caps drawn), a book price, and POS lines to two resellers."""
    channel = Channel().price(book_price(draw(st.sampled_from(["100.00", "75.50", "60.00"]))))
    for name in ("A1", "A2"):
        cap = draw(st.none() | st.integers(0, 120))
        number = len(channel.authorizations)
        covered = ["D1", "D2"]
        channel.authorize(authorization(name, n=number, quantity_cap=cap, distributor_ids=covered))
    for distributor in ("D1", "D2"):
        for transaction_id in TRANSACTIONS:
            if draw(st.booleans()) or transaction_id == "T1":
                quantity = draw(st.integers(-5, 60))
                reseller = draw(st.sampled_from(["R9", "R5"]))
                channel.sell(sale(transaction_id, quantity, reseller, distributor_id=distributor))
    return channel


@st.composite
def claim_sets(draw: st.DrawFn) -> list[DebitClaimSubmitted]:
    claims: list[DebitClaimSubmitted] = []
    for number in range(draw(st.integers(1, 5))):
        lines = [
            line(
                line_no,
                draw(st.sampled_from([*TRANSACTIONS, "T9"])),
                draw(st.integers(1, 70)),
                authorization_id=draw(st.sampled_from(["A1", "A2", "A3"])),
            )
            for line_no in range(1, draw(st.integers(1, 4)) + 1)
        ]
        distributor = draw(st.sampled_from(["D1", "D2"]))
        made = claim(f"C{number % 3}", *lines, distributor_id=distributor, n=number)
        if all((c.distributor_id, c.claim_id) != (distributor, made.claim_id) for c in claims):
            claims.append(made)  # a claim key is given once (a resend is a duplicate)
    return claims


def fresh(channel: Channel) -> Channel:
    return Channel(
        dict(channel.authorizations),
        dict(channel.sales),
        dict(channel.prices),
        dict(channel.pos_claims),
    )


def by_line(decisions: list[LineDecision]) -> dict[tuple[str, str, int], LineDecision]:
    return {(d.distributor_id, d.claim_id, d.line_no): d for d in decisions}


@settings(max_examples=150)
@given(channels(), claim_sets(), st.data())
def test_decisions_do_not_depend_on_how_claims_are_split_into_messages(
    channel: Channel, claims: list[DebitClaimSubmitted], data: st.DataObject
) -> None:
    """The claims recorded at one time, in any order in one batch, or in the order they are
    decided (claim_id, then distributor) cut into consecutive batches: the same decision for
    every line."""
    whole = fresh(channel).claim(*claims)
    shuffled = data.draw(st.permutations(claims))
    assert by_line(fresh(channel).claim(*shuffled)) == by_line(whole)
    ordered = sorted(claims, key=lambda c: (c.claim_id, c.distributor_id))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(len(claims) - 1, 1)))))
    split = fresh(channel)
    for start, end in zip([0, *cuts], [*cuts, len(claims)], strict=True):
        split.claim(*ordered[start:end])
    assert by_line(split.decisions) == by_line(whole)


@settings(max_examples=100)
@given(channels(), claim_sets(), st.data())
def test_replaying_the_same_events_gives_the_same_decisions(
    channel: Channel, claims: list[DebitClaimSubmitted], data: st.DataObject
) -> None:
    """Claims, late POS lines and reversals in a drawn order, run twice from the start."""
    steps = data.draw(
        st.permutations([*(("claim", c) for c in claims), ("sell", "T9"), ("reverse", "T1")])
    )

    def run() -> list[LineDecision]:
        replica = fresh(channel)
        for offset, (kind, what) in enumerate(steps):
            at = RECORDED + timedelta(hours=offset)
            if kind == "claim":
                assert isinstance(what, DebitClaimSubmitted)
                replica.claim(what, at=at)
            elif kind == "sell":
                replica.sell(sale("T9", 25))
            elif f"sale|D1|{what}" in replica.sales:
                replica.reverse("D1", str(what))
        return replica.decisions

    assert run() == run()


@settings(max_examples=150)
@given(channels(), claim_sets())
def test_accepted_units_stay_within_the_pos_lines_and_the_caps(
    channel: Channel, claims: list[DebitClaimSubmitted]
) -> None:
    decided = fresh(channel)
    decisions = decided.claim(*claims)
    per_line: dict[str, int] = defaultdict(int)
    per_authorization: dict[str, int] = defaultdict(int)
    for decision in decisions:
        if not decision.takes_units:
            assert decision.quantity_accepted == 0 and decision.amount_accepted == 0
            continue
        assert 0 < decision.quantity_accepted <= decision.quantity_claimed
        assert decision.book_cost is not None and decision.authorized_cost is not None
        expected = debit_amount(
            decision.book_cost,
            decision.authorized_cost,
            decision.quantity_accepted,
            decision.currency,
        )
        assert decision.amount_accepted == expected > Decimal(0)
        per_line[f"sale|{decision.distributor_id}|{decision.transaction_id}"] += (
            decision.quantity_accepted
        )
        per_authorization[decision.authorization_id] += decision.quantity_accepted
    for key, units in per_line.items():
        assert units <= decided.sales[key].quantity
    for name, units in per_authorization.items():
        state = decided.authorizations[name]
        assert state.units_taken == units
        assert state.terms.quantity_cap is None or units <= state.terms.quantity_cap


@settings(max_examples=60)
@given(channels(), claim_sets())
def test_the_state_reads_back_from_json_as_written(
    channel: Channel, claims: list[DebitClaimSubmitted]
) -> None:
    decided = fresh(channel)
    decided.claim(*claims)
    decided.reverse("D1", "T1")
    for state in decided.authorizations.values():
        assert AuthorizationState.from_json(json.loads(json.dumps(state.to_json()))) == state
    for claims_of_line in decided.pos_claims.values():
        again = PosClaims.from_json(json.loads(json.dumps(claims_of_line.to_json())))
        assert again == claims_of_line
