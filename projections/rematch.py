"""Re-matching when a master arrives later (docs/IDENTITY.md, "Match queue"): the resellers a
distributor onboarded before a master was registered are matched again once it is known, as
their onboarding would have been had the master been known then.

The masters are reference data; the resellers live in their distributor's partition. So the
re-match runs there, on the distributor's recorded clock, as the waits of claim lines do:
each input of the distributor recorded at `t` (a sale, a shipment, a count, a report, an
onboarding, a claim) first re-matches its waiting resellers (`projections.waiting_resellers`)
against the masters first recorded after its mark and by `t`
(`IndexedMasters.known_between`), in the order they were recorded, and moves the mark to `t`
(only when there were any: most inputs find none and write nothing). Each such master reads
only the waiting resellers sharing a block with it; each one found is decided again among
the masters known by the master's recorded time (`match_inputs.match_reseller`): mapped by
the `matcher` (its event id derived from the onboarding's and the master's, at the master's
recorded time), proposed or refreshed in the queue, or left waiting. The decision depends on
the inputs alone: a replay, which reads every master first, re-matches at the same inputs as
live did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID, uuid5

from domain.party_matching import DEFAULT_CONFIG, MatchConfig
from projections.alias_facts import AliasStepTaken
from projections.match_inputs import Attempt, match_reseller
from projections.party_index import IndexedMasters
from projections.positions import Position
from projections.stores import ChannelStores
from projections.waiting_resellers import WaitingReseller, sharing_a_block

#: a re-match's mapping (and proposal) of onboarding E when master M arrived has the id
#: uuid5(REMATCH_NAMESPACE, "E|M")
REMATCH_NAMESPACE: Final = UUID("3d8b6a52-71c4-5e0f-9b2a-6c4e8f1a2b3d")


def rematch_due(
    stores: ChannelStores,
    distributor_id: str,
    recorded: datetime,
    position: Position | None,
    config: MatchConfig = DEFAULT_CONFIG,
) -> tuple[AliasStepTaken, ...]:
    """Re-match the distributor's waiting resellers against the masters first recorded
    after its mark and by `recorded`, then move the mark; the mappings' steps."""
    mark = stores.rematch_marks.get(distributor_id)
    if mark is None or recorded <= mark:
        return ()
    masters = stores.masters
    if not isinstance(masters, IndexedMasters):
        raise TypeError("re-matching needs the masters with their index (IndexedMasters)")
    arrived = masters.known_between(mark, recorded)
    if not arrived:
        return ()  # the mark stays: no write for an input that finds no new master
    blocking = masters.index.config
    facts: list[AliasStepTaken] = []
    for master_id in arrived:
        master = masters.get(master_id)
        assert master is not None and master.known_since is not None
        known = master.known_since
        for waiting in list(sharing_a_block(stores, distributor_id, master.record, blocking)):
            attempt = _attempt(waiting, master_id, known)
            facts += match_reseller(stores, waiting, attempt, position, config)
    stores.rematch_marks.put(distributor_id, recorded)
    return tuple(facts)


def _attempt(waiting: WaitingReseller, master_id: str, known: datetime) -> Attempt:
    derived = uuid5(REMATCH_NAMESPACE, f"{waiting.event_id}|{master_id}")
    context = f"matched when master {master_id} was registered"
    return Attempt(known, context, known, derived, str(derived), known)
