"""Reseller and end-customer masters and alias mappings as the channel projection applies
them, each kind in its own stores (`ChannelStores.party`).

A `ResellerRegistered` / `EndCustomerRegistered` (reference data, keyed by master id) sets
its master's registration; a `...AliasMapped` / `...AliasUnmapped` (keyed by distributor, so
one alias's map and unmap stay in order) changes its alias (`projections.party_aliases`). A
refusal (`IdentityProblem`: `conflicting_mapping`, `unknown_master`, `alias_not_mapped`,
`master_referenced`, `proposal_not_open`, `alias_decided`, `unreadable_alias`) is the
input's dead-letter reason, counted under
the distributor whose key the message travels by (its dead-letter lines and their count
agree), never in that distributor's data quality: the mapping is the vendor's decision,
not the distributor's data.
A `ResellerMatchProposed` (a bulk match's review row) raises a match proposal, refused
`alias_decided` once the id has a mapping step or a person closed its proposal; a person's
mapping of a reseller id confirms its open match proposal, a `ResellerMatchRejected` rejects
it (`projections.match_inputs`).

A sale's reseller and end customer are judged by the master each alias means (`master_of`:
a price or an authorization naming the master applies to it), so an authorization counts on
a mapping: unmapping an alias of a distributor from a master is refused `master_referenced`
while an authorization naming that master (as its reseller, or its end customer) for that
distributor is valid on the unmapping's day or later (`authorization_inputs.naming`); it
must be expired (or amended to end) first.
"""

from __future__ import annotations

from domain.timeutil import utc
from projections.alias_facts import AliasStepTaken
from projections.alias_index import put_alias
from projections.authorization_inputs import naming
from projections.dedup import Verdict
from projections.match_inputs import confirm_match, propose_match, reject_match
from projections.outcome import Outcome
from projections.party_aliases import (
    IdentityProblem,
    MappedTo,
    Referenced,
    alias_key,
    id_alias_key,
    map_alias,
    register,
    unmap_alias,
)
from projections.positions import Position, already_applied
from projections.rejections import count_dead_letter_of
from projections.stores import ChannelStores
from schemas.events import SaleReported
from schemas.parties import (
    AliasChange,
    AliasMapped,
    PartyEvent,
    PartyKind,
    PartyRegistered,
    ResellerAliasMapped,
    ResellerMatchProposed,
    ResellerMatchRejected,
)


def apply_identity(stores: ChannelStores, event: PartyEvent, position: Position | None) -> Outcome:
    """A registration, an alias mapped or unmapped, a match proposal raised or rejected; a
    refusal is dead-lettered."""
    if isinstance(event, PartyRegistered):
        masters = stores.party(event.party).masters
        master = masters.get(event.master_id)
        if master is not None and already_applied(master.applied, position):
            return Outcome(Verdict.REDELIVERY)
        masters.put(event.master_id, register(master, event, position))
        resent = master is not None and master.event_id == str(event.event_id)
        return Outcome(Verdict.DUPLICATE if resent else Verdict.ACCEPTED)
    try:
        if isinstance(event, ResellerMatchRejected):
            closed = reject_match(stores, event, position)
            return Outcome(Verdict.ACCEPTED if closed else Verdict.DUPLICATE)
        if isinstance(event, ResellerMatchProposed):
            raised = propose_match(stores, event, position)
            return Outcome(Verdict.ACCEPTED if raised else Verdict.DUPLICATE)
        return _change_alias(stores, event, position)
    except IdentityProblem as problem:
        count_dead_letter_of(stores, event.distributor_id, problem.reason, position)
        return Outcome(None, problem.reason, detail=str(problem))


def _change_alias(stores: ChannelStores, event: AliasChange, position: Position | None) -> Outcome:
    party = stores.party(event.party)
    key = alias_key(event)
    state = party.aliases.get(key)
    if state is not None and already_applied(state.applied, position):
        return Outcome(Verdict.REDELIVERY)
    if isinstance(event, AliasMapped):
        masters = party.masters
        updated = map_alias(state, event, lambda m: masters.get(m) is not None, position)
    else:
        updated = unmap_alias(state, event, _referenced(stores, event), position)
    if isinstance(event, ResellerAliasMapped):  # the id means a master: its proposal closes
        confirm_match(stores, event, position)
    if updated is state:
        return Outcome(Verdict.DUPLICATE)
    put_alias(party, state, updated)
    if state is not None and updated.history == state.history:
        return Outcome(Verdict.ACCEPTED)  # mapped to the master it already means: no step
    step = AliasStepTaken(key, event.distributor_id, updated.history[-1])
    return Outcome(Verdict.ACCEPTED, facts=(step,))


def _referenced(stores: ChannelStores, event: AliasChange) -> Referenced:
    """What still counts on the alias meaning its master: an authorization naming the
    master for the alias's distributor, valid on the unmapping's day or later. Nothing
    counts on an alias by name: sales are resolved through the distributor's ids."""
    on = utc(event.changed_at).date()

    def referenced(_key: str, master_id: str) -> str | None:
        if event.alias_id is None:
            return None
        terms = naming(stores, event.party, master_id, event.distributor_id, on)
        return None if terms is None else f"authorization {terms.authorization_id!r}"

    return referenced


def customer_master_of(stores: ChannelStores, sale: SaleReported) -> str | None:
    """The master the sale's end customer means now (None: it names none, or unmapped)."""
    if sale.end_customer is None:
        return None
    found = master_of(stores, sale.distributor_id, sale.end_customer, "end_customer")
    return None if found is None else found.master_id


def master_of(
    stores: ChannelStores, distributor_id: str, alias_id: str, party: PartyKind = "reseller"
) -> MappedTo | None:
    """The master a distributor's party id (a sale's reseller, or its end customer) means
    now, with the step that mapped it (None: unmapped): one keyed get, in the distributor's
    partition (where its sales are judged)."""
    state = stores.party(party).aliases.get(id_alias_key(distributor_id, alias_id, party))
    return None if state is None else state.mapped_to
