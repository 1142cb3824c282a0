"""Debit claims as the channel projection applies them (docs/CLAIMS.md, "Wired in").

A claim (`DebitClaimSubmitted`, on the `claims` topic keyed by distributor) is checked
through `projections.claim_phases` against the stores: the authorizations' terms
(reference data), its POS lines and their claims, the price book. Its key (distributor,
claim_id) is judged by `projections.dedup`: a resend is a duplicate, other lines under the
same key `conflicting_duplicate`. A sale line arriving decides the lines waiting for it
(`check_pending`, reading its own key only); a replacement report reversing a claimed POS
line reopens its lines (`reopen`); the recorded time of a distributor's claim or sale
runs `expire_pending` on its POS lines whose wait may have run out
(`projections.pending_claims.due_pos_lines`).

The cap. Where this process applies every distributor's claims
(`ChannelStores.every_distributor`) every ledger is counted here (`LocalLedger`). A
worker holds some partitions only: there the ledger of an authorization naming one
distributor lives in that distributor's partition, and a line under an authorization
naming several waits for its grant (`PosClaims.awaiting`): its request goes to the
`claim-caps` topic (`ChannelStores.cap_outbox`), whose ledgers `projections.cap_inputs`
keeps, and the grant comes back on `claim-grants`. No cap is ever counted in a part.

Each step writes a bounded amount (the claim's record, the POS lines it names, their
index keys, the ledgers it asks) and gives audit facts for the claim's `DebitClaim`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from domain.claim_rules import (
    AuthorizationTerms,
    LineDecision,
    claim_fingerprint,
    claim_key,
)
from domain.identity import sale_key
from projections.book_costs import distributor_book
from projections.claim_caps import CapLedger
from projections.claim_facts import ClaimLinesDecided, ClaimLinesReopened, ClaimSubmitted
from projections.claim_phases import (
    LocalLedger,
    Routed,
    Sequencer,
    Steps,
    check_claims,
    check_pending,
    reopen,
)
from projections.claim_refs import LineRef
from projections.claim_state import ClaimRecord, record_key
from projections.claims import ClaimsView, expire_pending, pos_line_of
from projections.dedup import Verdict, classify, remember
from projections.outcome import AuditFact, Outcome
from projections.pending_claims import due_pos_lines, update_index
from projections.positions import Position, advance, already_applied
from projections.rejections import reject_input
from projections.rotation_inputs import StoreMapping
from projections.stores import ChannelStores
from schemas.claims import DebitClaimSubmitted
from schemas.events import SaleReported

CONFLICTING_DUPLICATE = "conflicting_duplicate"


def apply_claim(
    stores: ChannelStores, event: DebitClaimSubmitted, position: Position | None
) -> Outcome:
    """Check a claim's lines once per key; the submission and the decisions are facts."""
    key = claim_key(event.distributor_id, event.claim_id)
    event_id = str(event.event_id)
    fingerprint = claim_fingerprint(event)
    seen = stores.seen.get(key)
    verdict = classify(seen, event_id, fingerprint, position)
    where = record_key(event.distributor_id, event.claim_id)
    known = stores.claims.get(where)
    if verdict is Verdict.ACCEPTED and known and already_applied(known.applied, position):
        verdict = Verdict.REDELIVERY
    remember(stores.seen, key, seen, verdict, event_id, fingerprint, position)
    if verdict is Verdict.CONFLICT:
        reject_input(stores, CONFLICTING_DUPLICATE, event.distributor_id, position)
        detail = f"claim_id: {event.claim_id!r} was submitted before with other lines"
        return Outcome(verdict, CONFLICTING_DUPLICATE, detail=detail)
    if verdict is not Verdict.ACCEPTED:
        return Outcome(verdict)
    recorded = event.recorded_at or event.business_time
    line_nos = tuple(sorted(line.line_no for line in event.lines))
    record = known or ClaimRecord(
        event.distributor_id, event.claim_id, event_id, recorded.isoformat(), line_nos,
        applied=advance({}, position) or {},
    )  # fmt: skip
    stores.claims.put(where, record)
    submitted = ClaimSubmitted(event.distributor_id, event.claim_id, event, recorded)
    sequencer = sequencer_of(stores)
    steps = check_claims(claims_view(stores), [(event, recorded)], sequencer)
    return Outcome(Verdict.ACCEPTED, facts=(submitted, *store_steps(stores, steps, sequencer)))


def sale_arrived(
    stores: ChannelStores,
    sale: SaleReported,
    master_id: str | None,
    customer_master: str | None = None,
) -> tuple[AuditFact, ...]:
    """Keep an accepted sale line as a POS line, with `master_id` and `customer_master`, the
    masters its reseller and end customer meant when it was judged
    (`identity_inputs.master_of`); decide the lines waiting for it."""
    key = sale_key(sale.distributor_id, sale.transaction_id)
    stores.pos_lines.put(key, pos_line_of(sale, master_id, customer_master))
    claims = stores.pos_claims.get(key)
    if claims is None or not claims.pending:
        return ()
    sequencer = sequencer_of(stores)
    return store_steps(stores, check_pending(claims_view(stores), key, sequencer), sequencer)


def pos_line_reversed(
    stores: ChannelStores, distributor_id: str, transaction_id: str, by: UUID, at: datetime
) -> tuple[AuditFact, ...]:
    """A replacement report (event `by`, recorded `at`) reversed a sale line: it is no
    POS line any more, and the claim lines holding it wait for the corrected one."""
    key = sale_key(distributor_id, transaction_id)
    pos = stores.pos_lines.get(key)
    if pos is None:
        return ()
    stores.pos_lines.delete(key)
    if stores.pos_claims.get(key) is None:
        return ()
    sequencer = sequencer_of(stores)
    steps = reopen(claims_view(stores), key, sequencer, str(pos.event_id))
    return store_steps(stores, steps, sequencer, Reversal(pos.event_id, by, at))


def expire_due(
    stores: ChannelStores, distributor_id: str, now: datetime, wait: timedelta
) -> tuple[AuditFact, ...]:
    """Reject as `no_pos_line` the distributor's lines that waited `wait` by `now`
    (recorded time): reads the index keys of the due days and one more. Called again at
    the same time with no POS line's claims written since (`stores.claims_checked`: the
    next line of a bundle), it reads nothing: every line due then is decided already, and
    a line becomes due only by a write of its POS line's claims (a reversal reopening it)."""
    checked = (distributor_id, now, wait)
    if stores.claims_checked == checked:
        return ()
    facts: list[AuditFact] = []
    for key in list(due_pos_lines(stores.claims_pending, distributor_id, now, wait)):
        outcome = expire_pending(claims_view(stores), key, now, wait)
        steps = Steps(decisions=outcome.decisions, pos_claims=outcome.pos_claims)
        facts += store_steps(stores, steps, sequencer_of(stores))
    stores.claims_checked = checked
    return tuple(facts)


class Reversal(NamedTuple):
    """The reversed POS line's event, and the replacement report's event and time."""

    pos_event_id: UUID
    by: UUID
    at: datetime


def store_steps(
    stores: ChannelStores,
    steps: Steps,
    sequencer: Sequencer,
    reversal: Reversal | None = None,
) -> tuple[AuditFact, ...]:
    """Write what `steps` changed (POS lines' claims and their index keys, held back
    lines, ledgers, the claims' records) and give the facts of its decisions."""
    if steps.pos_claims:
        stores.claims_checked = None  # a line may be due again: `expire_due` looks
    for key, after in steps.pos_claims.items():
        update_index(stores.claims_pending, stores.pos_claims.get(key), after)
        stores.pos_claims.put(key, after)
    for distributor_id, blocked in steps.blocked.items():
        if blocked.lines:
            stores.claims_blocked.put(distributor_id, blocked)
        else:
            stores.claims_blocked.delete(distributor_id)
    local = _local(sequencer)
    if local is not None:
        for authorization_id, ledger in local.changed.items():
            terms = local.terms(authorization_id)
            if terms is not None:
                stores.cap_ledgers.put(ledger_key(terms), ledger)
    facts: list[AuditFact] = []
    for (distributor_id, claim_id), decisions in _by_claim(steps.decisions).items():
        where = record_key(distributor_id, claim_id)
        if (record := stores.claims.get(where)) is not None:
            stores.claims.put(where, record.decided(decisions))
        facts.append(ClaimLinesDecided(distributor_id, claim_id, tuple(decisions)))
    if reversal is not None:
        for (distributor_id, claim_id), refs in _by_claim(steps.reopened).items():
            numbers = tuple(ref.line.line_no for ref in refs)
            where = record_key(distributor_id, claim_id)
            if (record := stores.claims.get(where)) is not None:
                stores.claims.put(where, record.reopened(numbers))
            facts.append(ClaimLinesReopened(distributor_id, claim_id, numbers, *reversal))
    return tuple(facts)


def claims_view(stores: ChannelStores) -> ClaimsView:
    """What deciding reads, by key only, from the stores."""
    return ClaimsView(
        authorizations=StoreMapping(stores.authorizations),
        sales=StoreMapping(stores.pos_lines),
        prices=StoreMapping(stores.prices),
        pos_claims=StoreMapping(stores.pos_claims),
        blocked=StoreMapping(stores.claims_blocked),
        book=lambda pos: distributor_book(stores, pos),
    )


def sequencer_of(stores: ChannelStores) -> Sequencer:
    """Every ledger here when this process applies every distributor's claims; else the
    ledgers of authorizations naming one distributor, the others' requests and releases
    to the `claim-caps` topic."""
    local = LocalLedger(Ledgers(stores), lambda name: terms_of(stores, name))
    return local if stores.every_distributor else Routed(local, stores.cap_outbox)


def terms_of(stores: ChannelStores, authorization_id: str) -> AuthorizationTerms | None:
    state = stores.authorizations.get(authorization_id)
    return None if state is None else state.terms


#: the owner in the ledger key of an authorization naming several distributors
SHARED = "*"


def ledger_key(terms: AuthorizationTerms) -> str:
    """An authorization's ledger: in the partition of the one distributor it names, else
    under `SHARED` (in a worker, in the partition of the authorization: `shared_ledger`)."""
    if len(terms.distributor_ids) != 1:
        return shared_ledger(terms.authorization_id)
    [owner] = terms.distributor_ids
    return f"{owner}|{terms.authorization_id}"


def shared_ledger(authorization_id: str) -> str:
    """The ledger key of an authorization naming several distributors."""
    return f"{SHARED}|{authorization_id}"


class Ledgers(Mapping[str, CapLedger]):
    """The stored ledgers by authorization id (what `LocalLedger` reads)."""

    def __init__(self, stores: ChannelStores) -> None:
        self._stores = stores

    def __getitem__(self, authorization_id: str) -> CapLedger:
        ledger = self.get(authorization_id)
        if ledger is None:
            raise KeyError(authorization_id)
        return ledger

    def get(self, authorization_id: str, default: Any = None) -> Any:
        """The ledger, read without raising KeyError for one not started yet."""
        terms = terms_of(self._stores, authorization_id)
        ledger = None if terms is None else self._stores.cap_ledgers.get(ledger_key(terms))
        return default if ledger is None else ledger

    def __iter__(self) -> Iterator[str]:
        return (ledger.authorization_id for _, ledger in self._stores.cap_ledgers.scan())

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _local(sequencer: Sequencer) -> LocalLedger | None:
    if isinstance(sequencer, LocalLedger):
        return sequencer
    return sequencer.local if isinstance(sequencer, Routed) else None


T = TypeVar("T", LineDecision, LineRef)


def _by_claim(items: Iterable[T]) -> dict[tuple[str, str], list[T]]:
    grouped: dict[tuple[str, str], list[T]] = defaultdict(list)
    for item in items:
        grouped[(item.distributor_id, item.claim_id)].append(item)
    return grouped
