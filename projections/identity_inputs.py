"""Reseller masters and alias mappings as the channel projection applies them.

A `ResellerRegistered` (reference data, keyed by master id) sets its master's registration;
a `ResellerAliasMapped` / `ResellerAliasUnmapped` (keyed by distributor, so one alias's map
and unmap stay in order) changes its alias (`projections.party_aliases`). A refusal
(`IdentityProblem`: `conflicting_mapping`, `unknown_master`, `alias_not_mapped`,
`master_referenced`, `proposal_not_open`) is the input's dead-letter reason, counted under
the distributor whose key the message travels by (its dead-letter lines and their count
agree), never in that distributor's data quality: the mapping is the vendor's decision,
not the distributor's data.
A person's mapping of a reseller id confirms its open match proposal, a
`ResellerMatchRejected` rejects it (`projections.match_inputs`).

Nothing counts on a mapping yet (no reseller-scoped price or authorization reads it), so
the `referenced` hook finds nothing; docs/IDENTITY.md says what will.
"""

from __future__ import annotations

from projections.dedup import Verdict
from projections.match_inputs import confirm_match, reject_match
from projections.outcome import Outcome
from projections.party_aliases import IdentityProblem, alias_key, map_alias, register, unmap_alias
from projections.positions import Position, already_applied
from projections.rejections import count_dead_letter_of
from projections.stores import ChannelStores
from schemas.parties import (
    ResellerAliasMapped,
    ResellerAliasUnmapped,
    ResellerMatchRejected,
    ResellerRegistered,
)

IdentityEvent = (
    ResellerRegistered | ResellerAliasMapped | ResellerAliasUnmapped | ResellerMatchRejected
)


def apply_identity(
    stores: ChannelStores, event: IdentityEvent, position: Position | None
) -> Outcome:
    """A registration, an alias mapped or unmapped, a match proposal rejected; a refusal
    is dead-lettered."""
    if isinstance(event, ResellerRegistered):
        master = stores.masters.get(event.master_id)
        if master is not None and already_applied(master.applied, position):
            return Outcome(Verdict.REDELIVERY)
        stores.masters.put(event.master_id, register(master, event, position))
        resent = master is not None and master.event_id == str(event.event_id)
        return Outcome(Verdict.DUPLICATE if resent else Verdict.ACCEPTED)
    try:
        if isinstance(event, ResellerMatchRejected):
            closed = reject_match(stores, event, position)
            return Outcome(Verdict.ACCEPTED if closed else Verdict.DUPLICATE)
        return _change_alias(stores, event, position)
    except IdentityProblem as problem:
        count_dead_letter_of(stores, event.distributor_id, problem.reason, position)
        return Outcome(None, problem.reason, detail=str(problem))


def _change_alias(
    stores: ChannelStores,
    event: ResellerAliasMapped | ResellerAliasUnmapped,
    position: Position | None,
) -> Outcome:
    key = alias_key(event)
    state = stores.party_aliases.get(key)
    if state is not None and already_applied(state.applied, position):
        return Outcome(Verdict.REDELIVERY)
    if isinstance(event, ResellerAliasMapped):
        masters = stores.masters
        updated = map_alias(state, event, lambda m: masters.get(m) is not None, position)
    else:
        updated = unmap_alias(state, event, lambda _key, _master: None, position)
    if isinstance(event, ResellerAliasMapped):  # the id means a master: its proposal closes
        confirm_match(stores, event, position)
    if updated is state:
        return Outcome(Verdict.DUPLICATE)
    stores.party_aliases.put(key, updated)
    return Outcome(Verdict.ACCEPTED)
