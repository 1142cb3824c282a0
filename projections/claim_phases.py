"""Deciding claim lines in two phases, for a cap shared across partitions, pure
(docs/CLAIMS.md, "a cap shared by distributors in other partitions").

In the distributor's partition a line is checked (1. to 10., `units_wanted`): a failing
check decides it (rejected, or pending its POS line); a line that passes reserves the units
it wants of its POS line and asks its authorization's ledger (`projections.claim_caps`)
through a `Sequencer`, telling it the fewest units worth a debit. With the grant, the
partition finishes it (11. and 12., `finish_line`, against the figures it was checked with
and the cap left as the ledger saw it), keeps the units granted, and gives back to the
ledger any it could not keep (a grant for a line reopened meanwhile).

Order. While a line waits for its grant, a later line of its distributor naming the same
POS line is held back (`Blocked`), and so is a later line naming a POS line or an
authorization of a line held back before it; they are checked again, in order, when a grant
comes back. So a distributor's lines take POS units and reach each ledger in its decision
order, and with its grants answered in the order asked a distributor's lines are decided
as `projections.claims.decide_claims` decides them, however late the grants come. With a
`LocalLedger` (the embedded runner, a file replay; in a worker, through `Routed`, an
authorization naming one distributor) a request is granted as it is made;
with an `Outbox` the requests go to the `claim-caps` topic, and between distributors the
cap is given out in the order their requests reach the ledger.

`projections.claims.expire_pending` serves both: it touches the pending lines only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final, Protocol

from domain.claim_rules import (
    AuthorizationTerms,
    LineDecision,
    LineInputs,
    fewest_debited_units,
    finish_line,
    units_wanted,
)
from projections.claim_caps import CapGrant, CapLedger, CapRelease, CapRequest, give_back, grant
from projections.claim_refs import LineRef
from projections.claims import (
    Awaiting,
    Blocked,
    ClaimsView,
    PosClaims,
    line_inputs,
    line_refs,
)
from projections.positions import Position, advance
from schemas.claims import DebitClaimSubmitted


class Sequencer(Protocol):
    """Where cap requests and releases go."""

    def request(self, request: CapRequest) -> CapGrant | None:
        """Ask for units: the grant when answered at once, else None (it comes later)."""

    def release(self, release: CapRelease) -> None:
        """Give units back."""


@dataclass(slots=True)
class Outbox:
    """Requests and releases to append to the `claim-caps` topic, in the order made (a
    release made before a request may leave it the units it asks for)."""

    sent: list[CapRequest | CapRelease] = field(default_factory=list)

    @property
    def requests(self) -> list[CapRequest]:
        return [message for message in self.sent if isinstance(message, CapRequest)]

    @property
    def releases(self) -> list[CapRelease]:
        return [message for message in self.sent if isinstance(message, CapRelease)]

    def request(self, request: CapRequest) -> CapGrant | None:
        self.sent.append(request)
        return None

    def release(self, release: CapRelease) -> None:
        self.sent.append(release)


class LocalLedger:
    """The ledgers run in this process, granting each request as it is made; `changed`
    holds the ledgers to write."""

    def __init__(
        self,
        ledgers: Mapping[str, CapLedger],
        terms: Callable[[str], AuthorizationTerms | None],
    ) -> None:
        self.ledgers = ledgers
        self._terms_of = terms
        #: the terms read, each once while this ledger lives (a message's steps)
        self._terms: dict[str, AuthorizationTerms | None] = {}
        self.changed: dict[str, CapLedger] = {}

    def terms(self, authorization_id: str) -> AuthorizationTerms | None:
        if authorization_id not in self._terms:
            self._terms[authorization_id] = self._terms_of(authorization_id)
        return self._terms[authorization_id]

    def ledger(self, authorization_id: str) -> CapLedger | None:
        return self.changed.get(authorization_id) or self.ledgers.get(authorization_id)

    def request(self, request: CapRequest) -> CapGrant | None:
        name = request.authorization_id
        ledger, answer = grant(self.ledger(name), self.terms(name), request, None)
        self.changed[name] = ledger
        return answer

    def release(self, release: CapRelease) -> None:
        name = release.authorization_id
        self.changed[name] = give_back(self.ledger(name), release, None)


class Routed:
    """The requests and releases of an authorization naming one distributor to its ledger
    in this partition (no round trip: no other partition takes from its cap), the others
    to the outbox. An amendment never changes whom an authorization names."""

    def __init__(self, local: LocalLedger, outbox: Outbox) -> None:
        self.local = local
        self.outbox = outbox

    def _route(self, authorization_id: str) -> Sequencer:
        terms = self.local.terms(authorization_id)
        alone = terms is not None and len(terms.distributor_ids) == 1
        return self.local if alone else self.outbox

    def request(self, request: CapRequest) -> CapGrant | None:
        return self._route(request.authorization_id).request(request)

    def release(self, release: CapRelease) -> None:
        self._route(release.authorization_id).release(release)


@dataclass(slots=True)
class Steps:
    """Decisions in the order given, the POS lines' claims and the distributors' held back
    lines that changed (to be written; an empty `Blocked` is removed), and the lines a
    reversal reopened."""

    decisions: list[LineDecision] = field(default_factory=list)
    pos_claims: dict[str, PosClaims] = field(default_factory=dict)
    blocked: dict[str, Blocked] = field(default_factory=dict)
    reopened: list[LineRef] = field(default_factory=list)


def check_claims(
    view: ClaimsView,
    claims: Iterable[tuple[DebitClaimSubmitted, datetime]],
    sequencer: Sequencer,
) -> Steps:
    """Check every line of `claims` (each with its recorded time) in decision order."""
    given = list(claims)
    refs = [ref for claim, at in given for ref in line_refs(claim, at)]
    if len(given) > 1:  # one claim's lines are in order already (line_refs)
        refs.sort(key=lambda ref: ref.order)
    phases = _Phases(view, sequencer)
    for ref in refs:
        phases.check(ref)
    return phases.steps


def apply_grant(
    view: ClaimsView, answer: CapGrant, sequencer: Sequencer, position: Position | None = None
) -> Steps:
    """Finish the line `answer` is for, then check its distributor's held back lines. A grant for
    a line no longer waiting (reopened meanwhile) is given back whole; a grant at or below
    its POS line's applied position (redelivered) changes nothing."""
    phases = _Phases(view, sequencer)
    key = answer.ref.sale_key
    claims = phases.pos_claims(key)
    applied = advance(claims.applied, position)
    if applied is None:
        return phases.steps
    phases.put_pos(key, replace(claims, applied=applied))
    phases.finish(answer)
    return phases.steps


def check_pending(view: ClaimsView, key: str, sequencer: Sequencer) -> Steps:
    """The POS line under `key` arrived: check the lines waiting for it, in order."""
    phases = _Phases(view, sequencer)
    claims = phases.pos_claims(key)
    phases.put_pos(key, replace(claims, pending=()))
    for ref in sorted(claims.pending, key=lambda ref: ref.order):
        phases.check(ref)
    return phases.steps


def reopen(
    view: ClaimsView, key: str, sequencer: Sequencer, pos_event_id: str | None = None
) -> Steps:
    """A replacement report reversed the POS line under `key` (event `pos_event_id`): the
    lines holding units of it give them back (to the ledger too) and, with the line
    waiting for a grant, wait for the corrected line (the grant, when it comes, is given
    back; the lines held back behind it are checked then)."""
    phases = _Phases(view, sequencer)
    claims = phases.pos_claims(key)
    if not (claims.held or claims.awaiting or claims.early):
        return phases.steps
    for ref, units in claims.held:
        sequencer.release(CapRelease(ref.line.authorization_id, units, ref, pos_event_id, "held"))
        phases.steps.reopened.append(ref)
    for answer in claims.early:  # asked against the line reversed: never asked again
        phases.give_back(answer, answer.granted, "whole")
    asked = max([claims.asked, *(answer.seq or 0 for answer in claims.early)])
    waiting = (
        *claims.pending,
        *(ref for ref, _ in claims.held),
        *(line.ref for line in claims.awaiting),
    )
    pending = tuple(sorted(waiting, key=lambda ref: ref.order))
    reopened = replace(claims, held=(), pending=pending, awaiting=(), early=(), asked=asked)
    phases.put_pos(key, reopened)
    return phases.steps


class _Phases:
    """Checks and finishes lines one after the other, each seeing what the ones before it
    changed."""

    def __init__(self, view: ClaimsView, sequencer: Sequencer) -> None:
        self.view = view
        self.sequencer = sequencer
        self.steps = Steps()
        self._terms: dict[str, AuthorizationTerms | None] = {}

    def pos_claims(self, key: str) -> PosClaims:
        changed = self.steps.pos_claims.get(key)
        if changed is not None:
            return changed
        return self.view.pos_claims.get(key) or NO_CLAIMS

    def put_pos(self, key: str, claims: PosClaims) -> None:
        self.steps.pos_claims[key] = claims

    def blocked(self, distributor_id: str) -> Blocked:
        changed = self.steps.blocked.get(distributor_id)
        if changed is not None:
            return changed
        return self.view.blocked.get(distributor_id) or NONE_BLOCKED

    def terms(self, authorization_id: str) -> AuthorizationTerms | None:
        """An authorization's terms, read once a step (reference data: deciding never
        changes them)."""
        if authorization_id in self._terms:
            return self._terms[authorization_id]
        state = self.view.authorizations.get(authorization_id)
        terms = self._terms[authorization_id] = None if state is None else state.terms
        return terms

    def check(self, ref: LineRef) -> None:
        key = ref.sale_key
        claims = self.pos_claims(key)
        blocked = self.blocked(ref.distributor_id)
        if claims.awaiting or (blocked.lines and any(_shares(ref, b) for b in blocked.lines)):
            self.steps.blocked[ref.distributor_id] = Blocked((*blocked.lines, ref))
            return
        terms = self.terms(ref.line.authorization_id)
        inputs = line_inputs(self.view, ref, terms, claims.units_taken, None)
        wanted = units_wanted(inputs)
        if isinstance(wanted, LineDecision):
            if wanted.status == "pending_pos":
                self.put_pos(key, replace(claims, pending=(*claims.pending, ref)))
            elif claims.early:  # decided without asking: a grant read early for it goes back
                self.put_pos(key, self._take_early(claims, ref, None)[0])
            self.steps.decisions.append(wanted)
            return
        terms, pos, book = inputs.terms, inputs.pos, inputs.book
        assert terms is not None and pos is not None and book is not None
        least = fewest_debited_units(book.cost, terms.authorized_cost, terms.currency)
        name, seq = ref.line.authorization_id, claims.asked + 1
        request = CapRequest(name, ref, wanted, least, str(pos.event_id), terms.quantity_cap, seq)
        claims, answer = self._take_early(claims, ref, request)
        if answer is not None:  # its grant read early: the request was sent before
            claims = replace(claims, asked=seq)
        else:
            answer = self.sequencer.request(request)
        if answer is None:  # the line reserves its units and waits for the grant
            waiting = Awaiting(ref, wanted, terms, pos, book, seq)
            self.put_pos(key, replace(claims, awaiting=(waiting,), asked=seq))
            return
        # answered at once (in process, the request sent nowhere and its number not used;
        # or by its grant read early)
        self._close(key, claims, ref, inputs, wanted, answer)
        if blocked.lines:  # else none are held back still: closing a line holds none
            self._unblock(ref.distributor_id)

    def finish(self, answer: CapGrant) -> None:
        """Finish the line waiting for `answer`. A grant numbered above the POS line's
        requests was read early (after a restart, before the input that asked for it was
        applied again): it is kept (`PosClaims.early`) for the request of its number, so
        the same history is applied in the order it was first. Any other grant no line
        waits for (its line was reopened meanwhile, the same grant was appended again, or
        it answers a request of another number) goes back whole: the ledger counts that
        once, not after what the line did not keep, and not for a grant a newer request
        replaced."""
        key = answer.ref.sale_key
        claims = self.pos_claims(key)
        waiting = next((line for line in claims.awaiting if _answers(answer, line)), None)
        if waiting is not None:
            awaiting = tuple(line for line in claims.awaiting if line is not waiting)
            rest = replace(claims, awaiting=awaiting)
            self._close(key, rest, waiting.ref, waiting.inputs(), waiting.units, answer)
        elif answer.seq is not None and answer.seq > claims.asked:
            if answer not in claims.early:  # a copy of one kept is the same grant
                self.put_pos(key, replace(claims, early=(*claims.early, answer)))
            return
        else:
            self.give_back(answer, answer.granted, "whole")
        self._unblock(answer.distributor_id)

    def _take_early(
        self, claims: PosClaims, ref: LineRef, request: CapRequest | None
    ) -> tuple[PosClaims, CapGrant | None]:
        """The grant read early for `request` (its line, POS line and number; None: `ref`
        was decided without asking), and the POS line's claims without it and without the
        grants read early no request will be made for again: `ref`'s when it asked
        nothing, and those numbered up to `request`'s. Those go back whole, and the next
        request is numbered above them."""
        if not claims.early:
            return claims, None
        named = None if request is None else (request.ref, request.pos, request.seq)
        answer = next(
            (held for held in claims.early if (held.ref, held.pos, held.seq) == named), None
        )
        number = 0 if request is None else request.seq or 0
        kept: list[CapGrant] = []
        asked = claims.asked
        for held in claims.early:
            if held is answer:
                continue
            if (held.seq or 0) > number and (request is not None or held.ref != ref):
                kept.append(held)
            else:
                self.give_back(held, held.granted, "whole")
                asked = max(asked, held.seq or 0)
        return replace(claims, early=tuple(kept), asked=asked), answer

    def _close(
        self,
        key: str,
        claims: PosClaims,
        ref: LineRef,
        inputs: LineInputs,
        units: int,
        answer: CapGrant,
    ) -> None:
        """Decide `ref`, checked with `inputs` and wanting `units`, with its grant; `claims`:
        its POS line's claims without it."""
        # the cap left as the ledger saw it; a grant asked before a reopening, for other
        # units than the line now waits for, only for what it granted
        left = answer.left if answer.wanted == units else answer.granted
        decision = finish_line(inputs, units, left)
        kept = decision.quantity_accepted if decision.takes_units else 0
        self.give_back(answer, answer.granted - kept, "rest")
        held = claims.holding(ref, kept) if kept else claims.held
        self.put_pos(key, replace(claims, held=held))
        self.steps.decisions.append(decision)

    def _unblock(self, distributor_id: str) -> None:
        """Check the distributor's held back lines again, in order (each held back again
        while what held it back stands)."""
        blocked = self.blocked(distributor_id)
        if not blocked.lines:
            return
        self.steps.blocked[distributor_id] = Blocked()
        for ref in blocked.lines:
            self.check(ref)

    def give_back(self, answer: CapGrant, units: int, kind: str) -> None:
        # on the log even none are: the grant was answered, so the same grant again is not
        # given back whole
        if units > 0 or answer.pos is not None:
            name = answer.authorization_id
            release = CapRelease(name, units, answer.ref, answer.pos, kind, answer.seq)
            self.sequencer.release(release)


#: a distributor with no line held back, a POS line no claim line names (values are
#: replaced, never changed in place: one serves every read)
NONE_BLOCKED: Final = Blocked()
NO_CLAIMS: Final = PosClaims()


def _answers(answer: CapGrant, line: Awaiting) -> bool:
    """Whether `answer` is the grant `line` waits for: its line, asked against its POS
    line with the number it waits for (a grant without a POS line answers its line in
    process)."""
    if not (line.ref is answer.ref or line.ref == answer.ref):
        return False
    return answer.pos is None or (answer.pos, answer.seq) == (str(line.pos.event_id), line.seq)


def _shares(line: LineRef, before: LineRef) -> bool:
    """Whether `line` must wait for `before`: it takes units of the same POS line or the
    same cap."""
    return line.sale_key == before.sale_key or (
        line.line.authorization_id == before.line.authorization_id
    )
