"""Properties of deciding in two phases: with the ledger in process it decides every line
as one phase does; with grants coming back in any order, the POS lines and the caps are
never exceeded and the ledgers count exactly the units the lines hold."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identity import sale_key
from projections.claim_caps import CapGrant
from projections.claims import PosClaims
from projections.positions import Position
from schemas.claims import DebitClaimSubmitted
from tests.unit.claim_events import RECORDED, Channel, TwoPhaseChannel, sale
from tests.unit.test_claim_properties import by_line, channels, claim_sets, fresh

Step = tuple[str, object]


def two_phase_copy(channel: Channel, local: bool) -> TwoPhaseChannel:
    copy = fresh(channel)
    twin = TwoPhaseChannel(copy.authorizations, copy.sales, copy.prices, copy.pos_claims)
    twin.local = local
    return twin


def unnumbered(pos_claims: dict[str, PosClaims]) -> dict[str, PosClaims]:
    """The POS lines' claims without the numbers of the cap requests sent (one phase sends
    none)."""
    return {key: replace(claims, asked=0) for key, claims in pos_claims.items()}


def steps_of(claims: list[DebitClaimSubmitted], data: st.DataObject) -> list[Step]:
    """Claims, a late POS line, reversals and a pending wait running out, in a drawn order."""
    others: list[Step] = [("sell", "T9"), ("reverse", "T1"), ("reverse", "T2"), ("expire", "T9")]
    return data.draw(st.permutations([*(("claim", c) for c in claims), *others]))


def run(channel: Channel, steps: list[Step], first_hour: int = 0) -> None:
    """The steps, the n-th recorded n hours after RECORDED (counting from `first_hour`)."""
    for hour, (kind, what) in enumerate(steps, start=first_hour):
        at = RECORDED + timedelta(hours=hour)
        if kind == "claim":
            assert isinstance(what, DebitClaimSubmitted)
            channel.claim(what, at=at)
        elif kind == "sell":
            channel.sell(sale(str(what), 25))
        elif kind == "expire":
            channel.expire("D1", str(what), at, wait=timedelta(hours=2))
        elif sale_key("D1", str(what)) in channel.sales:
            channel.reverse("D1", str(what))


@settings(max_examples=200)
@given(channels(), claim_sets(), st.data())
def test_with_the_ledger_in_process_two_phases_decide_as_one(
    channel: Channel, claims: list[DebitClaimSubmitted], data: st.DataObject
) -> None:
    """The same steps, one phase and two: the same decisions in the same order, the same
    claims on every POS line, and each ledger counting what one phase counts in the
    authorization."""
    steps = steps_of(claims, data)
    one = fresh(channel)
    two = two_phase_copy(channel, local=True)
    run(one, steps)
    run(two, steps)
    assert two.decisions == one.decisions
    assert two.pos_claims == one.pos_claims
    for name, state in one.authorizations.items():
        ledger = two.ledgers.get(name)
        assert (0 if ledger is None else ledger.units_taken) == state.units_taken
        assert two.authorizations[name].units_taken == 0


@settings(max_examples=200)
@given(channels(), claim_sets(), st.data())
def test_grants_in_any_order_keep_the_pos_lines_and_caps(
    channel: Channel, claims: list[DebitClaimSubmitted], data: st.DataObject
) -> None:
    """Requests reach the ledger, and grants come back, in a drawn order between the
    steps; once all are answered, no line waits for a grant, every line has an answer or
    waits for its POS line, and the
    ledgers count exactly the units held."""
    two = two_phase_copy(channel, local=False)
    grants: list[CapGrant] = []

    def deliver(count: int) -> None:
        for _ in range(count):
            if two.outbox.requests and (not grants or data.draw(st.booleans())):
                index = data.draw(st.integers(0, len(two.outbox.requests) - 1))
                answer = two.grant_next(index)
                assert answer is not None
                grants.append(answer)
            elif grants:
                two.answer(grants.pop(data.draw(st.integers(0, len(grants) - 1))))

    for hour, step in enumerate(steps_of(claims, data)):
        run(two, [step], hour)
        deliver(data.draw(st.integers(0, 4)))
    while two.outbox.requests or grants:
        deliver(1)
    two.settle()

    held_by_authorization: dict[str, int] = defaultdict(int)
    assert not two.blocked
    for key, claims_of_line in two.pos_claims.items():
        assert not claims_of_line.awaiting
        if claims_of_line.held:
            assert claims_of_line.units_taken <= two.sales[key].quantity
        for ref, units in claims_of_line.held:
            held_by_authorization[ref.line.authorization_id] += units
    for name, state in two.authorizations.items():
        taken = two.ledgers[name].units_taken if name in two.ledgers else 0
        assert taken == held_by_authorization[name]
        cap = state.terms.quantity_cap
        assert cap is None or taken <= cap
    answered = {(d.distributor_id, d.claim_id, d.line_no) for d in two.decisions}
    waiting = {
        (ref.distributor_id, ref.claim_id, ref.line.line_no)
        for claims_of_line in two.pos_claims.values()
        for ref in claims_of_line.pending
    }  # a line reversed while it waited for its grant was never answered: it waits again
    claimed = {(c.distributor_id, c.claim_id, line.line_no) for c in claims for line in c.lines}
    assert answered | waiting == claimed


@settings(max_examples=200)
@given(channels(), claim_sets(), st.data())
def test_one_distributor_decides_as_one_phase_however_late_its_grants(
    channel: Channel, claims: list[DebitClaimSubmitted], data: st.DataObject
) -> None:
    """D1's claims and a late POS line, its requests granted and answered in the order
    asked but after a drawn number of steps: every line decided as in one phase."""
    own = [each for each in claims if each.distributor_id == "D1"]
    steps = data.draw(st.permutations([*(("claim", c) for c in own), ("sell", "T9")]))
    one = fresh(channel)
    run(one, steps)
    two = two_phase_copy(channel, local=False)
    grants: list[CapGrant] = []

    def deliver(count: int) -> None:
        for _ in range(count):
            if two.outbox.requests and (not grants or data.draw(st.booleans())):
                answer = two.grant_next()
                assert answer is not None
                grants.append(answer)
            elif grants:
                two.answer(grants.pop(0))

    for hour, step in enumerate(steps):
        run(two, [step], hour)
        deliver(data.draw(st.integers(0, 4)))
    while two.outbox.requests or grants:
        deliver(1)
    assert by_line(two.decisions) == by_line(one.decisions)
    assert unnumbered(two.pos_claims) == one.pos_claims


@settings(max_examples=150)
@given(channels(), claim_sets(), st.data())
def test_a_request_or_grant_delivered_again_changes_nothing(
    channel: Channel, claims: list[DebitClaimSubmitted], data: st.DataObject
) -> None:
    """Each request taken by the ledger and each grant applied by the partition under a
    position, then, drawn, delivered again at it: no second grant, no ledger change, no
    decision, nothing given back."""
    two = two_phase_copy(channel, local=False)
    offsets = iter(range(1, 10_000))
    pending: list[tuple[CapGrant, Position]] = []
    for hour, step in enumerate(steps_of(claims, data)):
        run(two, [step], hour)
        while two.outbox.requests:
            two.settle()
            request = two.outbox.requests[0]
            two.outbox.sent.remove(request)
            at = Position("claim-caps:0", next(offsets))
            answer = two.take(request, at)
            assert answer is not None
            ledgers = dict(two.ledgers)
            if data.draw(st.booleans()):
                assert two.take(request, at) is None
                assert two.ledgers == ledgers
            pending.append((answer, Position("claim-grants:0", next(offsets))))
            while pending:
                if not data.draw(st.booleans()):
                    break
                answer, at = pending.pop(0)
                two.answer(answer, at)
                decided, claims_now = len(two.decisions), dict(two.pos_claims)
                releases = list(two.outbox.releases)
                if data.draw(st.booleans()):
                    assert two.answer(answer, at) == []
                    assert len(two.decisions) == decided and two.pos_claims == claims_now
                    assert two.outbox.releases == releases
