"""The match step, in the distributor's partition: an onboarded reseller matched against
the masters, and the match queue's proposals closed (docs/IDENTITY.md, "Match queue").

A `ResellerOnboarded` with a country whose reseller id no person has mapped or unmapped
yet is scored against the masters the blocking index offers (`IndexedMasters`: a bounded
number of candidates, never every master):

- `exact` / `automatic`: the id is mapped, as by a `ResellerAliasMapped` from the
  `matcher` with the score (its event id derived from the onboarding's), recorded in the
  alias's history like any mapping;
- `review`: a proposal in the queue (`projections.match_proposals`);
- `new`: nothing: the reseller stays its own.

Only masters the system had recorded by the time it recorded the onboarding are candidates
(`MasterState.known_since`), so the decision depends on the inputs alone, never on when a
process happened to read them: a replay decides as live did. A reseller left unmapped waits
for the masters recorded later (`projections.rematch`, through `match_reseller`). Sale lines
are not matched: a sale names only the distributor's id, which says nothing a master could be
scored on.

A `ResellerMatchProposed` (a proposal made outside the onboarding flow: a bulk match's
review row) raises a proposal as an onboarding in the review band does (`propose_match`).
A `ResellerAliasMapped` of the id (a person's, or a bulk match's) confirms its open
proposal; a `ResellerMatchRejected` rejects it (refused `proposal_not_open` when none is
open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID, uuid5

from domain.party_matching import (
    DEFAULT_CONFIG,
    Match,
    MatchConfig,
    PartyRecord,
    decision_of,
    party_record,
    ranked_matches,
    reasons,
)
from projections.alias_facts import AliasStepTaken
from projections.alias_index import put_alias
from projections.match_proposals import (
    MAX_PROPOSED,
    Candidate,
    Closing,
    close,
    proposal_key,
    propose,
)
from projections.party_aliases import IdentityProblem, MasterState, id_alias_key, map_alias
from projections.party_index import BlockingIndex, IndexedMasters
from projections.positions import Position
from projections.stores import ChannelStores
from projections.waiting_resellers import WaitingReseller, stop_waiting, wait
from schemas.envelope import Source
from schemas.events import ResellerOnboarded
from schemas.parties import ResellerAliasMapped, ResellerMatchProposed, ResellerMatchRejected

#: who an automatic mapping is by
MATCHER: Final = "matcher"
#: the automatic mapping of onboarding E has the id uuid5(MATCH_NAMESPACE, E)
MATCH_NAMESPACE: Final = UUID("6f1c2d0e-9a43-5b7e-8c1d-2f3a4b5c6d7e")


def onboarding_record(event: ResellerOnboarded) -> PartyRecord | None:
    """The onboarded reseller normalised for matching; None without a country."""
    if event.country is None:
        return None
    return party_record(
        id_alias_key(event.distributor_id, event.reseller_id), event.name, event.country,
        event.postal_code, event.address, event.tax_id, event.duns,
    )  # fmt: skip


def match_onboarding(
    stores: ChannelStores,
    event: ResellerOnboarded,
    position: Position | None,
    config: MatchConfig = DEFAULT_CONFIG,
) -> tuple[AliasStepTaken, ...]:
    """Map the onboarded reseller, propose it, or leave it (see the module docstring); a
    mapping's step, for the alias's record on the audit chain. A reseller left unmapped
    waits for masters registered later (`projections.rematch`)."""
    record = onboarding_record(event)
    if record is None:
        return ()
    waiting = WaitingReseller(
        event.distributor_id, event.reseller_id, record, event.onboarded_at,
        event.recorded_at or event.onboarded_at, str(event.event_id), event.source,
    )  # fmt: skip
    attempt = Attempt(
        waiting.recorded, "matched on onboarding", event.onboarded_at,
        uuid5(MATCH_NAMESPACE, str(event.event_id)), str(event.event_id), event.recorded_at,
    )  # fmt: skip
    return match_reseller(stores, waiting, attempt, position, config)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One matching of a reseller: the masters known by `known` are its candidates; a
    mapping says `context`, is made `at` under `mapping_id` (recorded `recorded_at`), a
    proposal is raised under `proposal_id`."""

    known: datetime
    context: str
    at: datetime
    mapping_id: UUID
    proposal_id: str
    recorded_at: datetime | None


def match_reseller(
    stores: ChannelStores,
    waiting: WaitingReseller,
    attempt: Attempt,
    position: Position | None,
    config: MatchConfig = DEFAULT_CONFIG,
) -> tuple[AliasStepTaken, ...]:
    """Map the reseller, propose it, or leave it, among the masters known by
    `attempt.known`; unmapped, it waits (for a master registered later), else it stops."""
    masters = stores.masters
    if not isinstance(masters, IndexedMasters):
        raise TypeError("the match step needs the masters with their index (IndexedMasters)")
    blocking = masters.index.config
    record = waiting.record
    distributor_id, reseller_id = waiting.distributor_id, waiting.reseller_id
    alias = stores.party_aliases.get(record.party_id)
    key = proposal_key(distributor_id, reseller_id)
    proposal = stores.match_proposals.get(key)
    closed = proposal is not None and proposal.closing is not None
    if (alias is not None and alias.history) or closed:
        # mapped, or a person undid a mapping or closed the proposal: never overruled
        stop_waiting(stores, distributor_id, reseller_id, blocking)
        return ()
    candidates = [
        candidate
        for candidate in masters.index.candidates(record)
        if _known_by(masters.get(candidate.party_id), attempt.known)
    ]
    order = ranked_matches(record, candidates, config)
    decision = decision_of(record.party_id, order, config)
    if decision.outcome in ("new", "review"):
        wait(stores, waiting, blocking)
    if decision.outcome == "new":
        return ()
    proposed = proposed_candidates(masters.index, record, order, config)
    if decision.outcome == "review":
        raised = propose(
            proposal, distributor_id, reseller_id, proposed, waiting.onboarded_at,
            attempt.proposal_id, position,
        )  # fmt: skip
        if raised is not None:
            stores.match_proposals.put(key, raised)
        return ()
    mapping = automatic_mapping(
        distributor_id, reseller_id, proposed[0], attempt.context, attempt.at,
        attempt.mapping_id, waiting.source, attempt.recorded_at,
    )  # fmt: skip
    stop_waiting(stores, distributor_id, reseller_id, blocking)
    updated = map_alias(alias, mapping, lambda _: True, position)
    if updated is alias:
        return ()
    put_alias(stores.party("reseller"), alias, updated)
    confirm_match(stores, mapping, position)  # a proposal an earlier onboarding raised
    return (AliasStepTaken(record.party_id, distributor_id, updated.history[-1]),)


def _known_by(master: MasterState | None, moment: datetime) -> bool:
    return master is not None and (master.known_since is None or master.known_since <= moment)


def proposed_candidates(
    index: BlockingIndex, record: PartyRecord, order: list[Match], config: MatchConfig
) -> tuple[Candidate, ...]:
    """The best of the ranked matches worth a look (exact, or at least `review_at`), with
    the reasons of each: at most `MAX_PROPOSED`."""
    proposed = []
    for match in order[:MAX_PROPOSED]:
        master = index.record(match.master_id)
        if master is not None and (match.exact or match.score >= config.review_at):
            proposed.append(
                Candidate(match.master_id, match.score, reasons(record, master, config))
            )
    return tuple(proposed)


def automatic_mapping(
    distributor_id: str,
    alias_id: str,
    best: Candidate,
    context: str,
    at: datetime,
    event_id: UUID,
    source: Source = "api",
    recorded_at: datetime | None = None,
) -> ResellerAliasMapped:
    """The matcher's mapping of a reseller id to its best candidate, with the score and
    the reasons: what an onboarding (or a bulk match) above the threshold records."""
    return ResellerAliasMapped(
        event_id=event_id, occurred_at=at, recorded_at=recorded_at, source=source,
        distributor_id=distributor_id, alias_id=alias_id, master_id=best.master_id,
        changed_by=MATCHER, reason=f"{context}: {'; '.join(best.reasons)}", changed_at=at,
        automatic=True, score=best.score,
    )  # fmt: skip


def confirm_match(
    stores: ChannelStores, event: ResellerAliasMapped, position: Position | None
) -> None:
    """A mapping of a reseller id (a person's, or a bulk match's) closes its open proposal,
    confirmed. No proposal opens once the id has a mapping step, so a resent mapping
    cannot close a later one."""
    if event.alias_id is None:
        return
    key = proposal_key(event.distributor_id, event.alias_id)
    proposal = stores.match_proposals.get(key)
    if proposal is None:
        return
    closing = Closing(
        "confirmed", event.changed_by, event.reason, event.changed_at, str(event.event_id),
        event.master_id,
    )  # fmt: skip
    closed = close(proposal, closing, position)
    if closed is not None:
        stores.match_proposals.put(key, closed)


def reject_match(
    stores: ChannelStores, event: ResellerMatchRejected, position: Position | None
) -> bool:
    """Close the open proposal, rejected. False: nothing changed (a resend, or applied
    already). Raises `IdentityProblem("proposal_not_open")` when there is none open."""
    key = proposal_key(event.distributor_id, event.alias_id)
    proposal = stores.match_proposals.get(key)
    closed_by = None if proposal is None or proposal.closing is None else proposal.closing
    if closed_by is not None and closed_by.event_id == str(event.event_id):
        return False  # a resend
    if proposal is None or proposal.closing is not None:
        raise IdentityProblem(
            "proposal_not_open",
            f"reseller {event.alias_id!r} of {event.distributor_id} has no open match proposal",
        )
    closing = Closing(
        "rejected", event.changed_by, event.reason, event.changed_at, str(event.event_id)
    )
    closed = close(proposal, closing, position)
    if closed is None:
        return False
    stores.match_proposals.put(key, closed)
    return True


def propose_match(
    stores: ChannelStores, event: ResellerMatchProposed, position: Position | None
) -> bool:
    """Raise the proposal of a reseller id proposed outside the onboarding flow (or refresh
    its open one). False: nothing changed (a resend, or applied already). Refused, as an
    onboarding proposes nothing then: `alias_decided` when the id has a mapping step or a
    person closed its proposal (the matcher never overrules a person), `unknown_master`
    when a candidate was never registered."""
    key = proposal_key(event.distributor_id, event.alias_id)
    proposal = stores.match_proposals.get(key)
    if proposal is not None and proposal.event_id == str(event.event_id):
        return False  # a resend
    whose = f"reseller {event.alias_id!r} of {event.distributor_id}"
    alias = stores.party_aliases.get(id_alias_key(event.distributor_id, event.alias_id))
    if alias is not None and alias.history:
        raise IdentityProblem("alias_decided", f"{whose} has a mapping step already")
    if proposal is not None and proposal.closing is not None:
        raise IdentityProblem("alias_decided", f"{whose}: its proposal is {proposal.status}")
    for candidate in event.candidates:
        if stores.masters.get(candidate.master_id) is None:
            raise IdentityProblem(
                "unknown_master", f"master {candidate.master_id!r} is not registered"
            )
    proposed = tuple(
        Candidate(candidate.master_id, candidate.score, tuple(candidate.reasons))
        for candidate in event.candidates
    )
    raised = propose(
        proposal, event.distributor_id, event.alias_id, proposed, event.proposed_at,
        str(event.event_id), position,
    )  # fmt: skip
    if raised is None:
        return False
    stores.match_proposals.put(key, raised)
    return True
