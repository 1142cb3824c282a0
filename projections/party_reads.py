"""Rows of the reseller masters, aliases and match proposals (schemas/rows/identity.py): the
snapshot's `masters`, `party_aliases` and `match_proposals` sections, their read models and
`/api/resellers/masters` / `aliases` / `proposals`.

The masters are reference data held whole; the aliases are bounded by the resellers, and
one distributor's are read by the prefix of its keys, one master's by the prefix of its
keys in the index of aliases by master.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from domain.timeutil import iso_z
from projections.alias_index import aliases_of
from projections.match_proposals import Proposal, proposal_key
from projections.party_aliases import KEY_KINDS, AliasState, MappingStep, MasterState, by_id
from projections.stores import ChannelStores
from schemas.parties import PartyKind


def master_rows(stores: ChannelStores, party: PartyKind = "reseller") -> list[dict[str, Any]]:
    """Every master of the kind, by master_id."""
    row = _ROW_OF[party]
    return [row(master) for master in stores.party(party).masters.values()]


def customer_master_row(master: MasterState) -> dict[str, Any]:
    """An end customer's master without its name and address (`CustomerMasterRow`)."""
    return {
        "master_id": master.master_id,
        "country": master.country,
        "postal_code": master.postal_code,
        "tax_id": master.tax_id,
        "duns": master.duns,
        "registered_at": iso_z(master.registered_at),
    }


def master_row(master: MasterState) -> dict[str, Any]:
    return {
        **master_brief(master),
        "postal_code": master.postal_code,
        "address": master.address,
        "tax_id": master.tax_id,
        "duns": master.duns,
    }


def master_brief(master: MasterState) -> dict[str, Any]:
    """Who the master is and where (`MasterBriefRow`: the `masters` read model)."""
    return {
        "master_id": master.master_id,
        "legal_name": master.legal_name,
        "country": master.country,
        "registered_at": iso_z(master.registered_at),
    }


#: the row of a master, by kind: an end customer's leaves its name and address out
_ROW_OF: dict[PartyKind, Callable[[MasterState], dict[str, Any]]] = {
    "reseller": master_row,
    "end_customer": customer_master_row,
}


def master_table_rows(
    stores: ChannelStores, partition_of: Callable[[str], int], party: PartyKind = "reseller"
) -> list[dict[str, Any]]:
    """The `masters` (or `customer_masters`) read model: each master in the partition its id
    is keyed to. Every process holds every master (reference data), so the writer of that
    partition writes it, and each master is written once however the partitions are shared
    out."""
    row = master_brief if party == "reseller" else customer_master_row
    return [
        {"kafka_partition": partition_of(master.master_id), **row(master)}
        for master in stores.party(party).masters.values()
    ]


def masters_with_aliases(
    stores: ChannelStores, masters: Iterable[MasterState], party: PartyKind = "reseller"
) -> list[dict[str, Any]]:
    """The masters given, each with the aliases that mean it now ("distributor|alias",
    sorted; an alias by name as its key): a prefix range of the index per master, so a
    page costs its masters and their aliases (`projections.alias_index`)."""
    row, index = _ROW_OF[party], stores.party(party).by_master
    return [{**row(master), "aliases": aliases_of(index, master.master_id)} for master in masters]


def masters_page(
    stores: ChannelStores,
    master_id: str | None,
    offset: int,
    limit: int,
    party: PartyKind = "reseller",
) -> tuple[list[dict[str, Any]], int]:
    """A page of the masters (by master_id; the one asked for, if any) with their aliases,
    and how many masters there are in all: the masters are read whole (reference data),
    the aliases of the page's masters only."""
    held = stores.party(party).masters
    if master_id is None:
        masters = list(held.values())
    else:
        master = held.get(master_id)
        masters = [] if master is None else [master]
    return masters_with_aliases(stores, masters[offset : offset + limit], party), len(masters)


def alias_rows(
    stores: ChannelStores, distributor_id: str | None = None, party: PartyKind = "reseller"
) -> list[dict[str, Any]]:
    """Every alias of the kind (of one distributor), sorted by distributor_id, then alias
    key."""
    held = stores.party(party).aliases
    if distributor_id is None:
        aliases: Iterable[AliasState] = held.values()
    else:
        aliases = [
            state
            for kind in KEY_KINDS[party]
            for _, state in held.scan(f"{kind}|{distributor_id}|")
        ]
    rows = [alias_row(alias) for alias in aliases]
    return sorted(rows, key=lambda row: (row["distributor_id"], row["alias_key"]))


def alias_row(alias: AliasState) -> dict[str, Any]:
    _, distributor, own = alias.key.split("|", 2)
    return {
        "distributor_id": distributor,
        "alias_key": alias.key,
        "alias_id": own if by_id(alias.key) else None,
        "master_id": alias.master_id,
        "history": [_step_row(step) for step in alias.history],
    }


def _step_row(step: MappingStep) -> dict[str, Any]:
    return {
        "action": step.action,
        "master_id": step.master_id,
        "changed_by": step.changed_by,
        "reason": step.reason,
        "changed_at": iso_z(step.changed_at),
        "automatic": step.automatic,
        "score": None if step.score is None else str(step.score),
        "event_id": step.event_id,
    }


def proposal_rows(stores: ChannelStores, distributor_id: str | None = None) -> list[dict[str, Any]]:
    """The match queue's proposals (one distributor's, if given), in key order: open and
    closed alike (the route filters by `status`)."""
    if distributor_id is None:
        proposals: Iterable[Proposal] = stores.match_proposals.values()
    else:
        proposals = (state for _, state in stores.match_proposals.scan(f"{distributor_id}|"))
    return [proposal_row(proposal) for proposal in proposals]


def proposal_of(stores: ChannelStores, distributor_id: str, alias_id: str) -> Proposal | None:
    return stores.match_proposals.get(proposal_key(distributor_id, alias_id))


def proposal_row(proposal: Proposal) -> dict[str, Any]:
    closing = proposal.closing
    return {
        "distributor_id": proposal.distributor_id,
        "alias_id": proposal.alias_id,
        "status": proposal.status,
        "proposed_at": iso_z(proposal.proposed_at),
        "best_score": str(proposal.candidates[0].score) if proposal.candidates else None,
        "candidates": [
            {"master_id": c.master_id, "score": str(c.score), "reasons": list(c.reasons)}
            for c in proposal.candidates
        ],
        "event_id": proposal.event_id,
        "closed_by": None if closing is None else closing.changed_by,
        "closed_reason": None if closing is None else closing.reason,
        "closed_at": None if closing is None else iso_z(closing.changed_at),
        "master_id": None if closing is None else closing.master_id,
    }
