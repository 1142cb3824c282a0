"""The aliases by the master each means now: what a page of masters reads its aliases from.

The aliases' store is keyed by alias (`projections.party_aliases`), so finding the aliases
of one master there means reading every alias. This index keys each mapped alias under
its master: `master_id|distributor|kind|own` (the alias key `kind|distributor|own` with
the master in front and the distributor second, so the entry lives in the distributor's
partition, beside its alias), valued by the alias's name as the masters route lists it
("distributor|alias_id" for an alias by id, else its key). Master ids never hold "|", so
the prefix `master_id|` holds one master's aliases and nothing else.

`put_alias` is the one way an alias is stored: it writes the alias and, when the master
it means changes, deletes its old entry and puts its new one (at most one delete and one
put per mapping change: bounded). `derived_index` is the same index from a full scan of
the aliases, what the index always equals (tests/unit/test_alias_index.py); `reindexed`
makes a stored index equal to it, once, where the state was written before the index (a
worker's, after its start: `streams.worker.upkeep.index_aliases`).
"""

from __future__ import annotations

from collections.abc import Iterable

from projections.keyvalue import KeyValue
from projections.party_aliases import AliasState, by_id
from projections.stores import ChannelStores, PartyStores


def index_key(master_id: str, alias_key: str) -> str:
    """`master_id|distributor|kind|own` of the alias key `kind|distributor|own`."""
    kind, distributor, own = alias_key.split("|", 2)
    return f"{master_id}|{distributor}|{kind}|{own}"


def alias_name(alias_key: str) -> str:
    """ "distributor|alias_id" for an alias by id (as top resellers list them), else its key."""
    _, distributor, own = alias_key.split("|", 2)
    return f"{distributor}|{own}" if by_id(alias_key) else alias_key


def put_alias(party: PartyStores, before: AliasState | None, after: AliasState) -> None:
    """Store the alias as it now stands, and keep the index in step with it."""
    party.aliases.put(after.key, after)
    reindex(party.by_master, before, after)


def reindex(index: KeyValue[str], before: AliasState | None, after: AliasState) -> None:
    """Move the alias's entry from the master it meant to the one it means (None: none)."""
    old = None if before is None else before.master_id
    if old == after.master_id:
        return
    if old is not None:
        index.delete(index_key(old, after.key))
    if after.master_id is not None:
        index.put(index_key(after.master_id, after.key), alias_name(after.key))


def aliases_of(index: KeyValue[str], master_id: str) -> list[str]:
    """The names of the aliases meaning the master now, sorted: one prefix range read."""
    return sorted(name for _, name in index.scan(f"{master_id}|"))


def derived_index(aliases: Iterable[AliasState]) -> dict[str, str]:
    """The index as a full scan of the aliases gives it (index key -> alias name)."""
    return {
        index_key(alias.master_id, alias.key): alias_name(alias.key)
        for alias in aliases
        if alias.master_id is not None
    }


def reindexed(stores: ChannelStores) -> int:
    """Make the index equal to what the aliases give, by as few puts and deletes as differ;
    how many. Reads the aliases and the index whole (in a worker, of the partition being
    applied): what a state written before the index needs, once (`streams.worker.upkeep`)."""
    wanted = derived_index(stores.party_aliases.values())
    index = stores.master_aliases
    present = dict(index.scan())
    stale = sorted(present.keys() - wanted.keys())
    for key in stale:
        index.delete(key)
    missing = sorted(key for key, name in wanted.items() if present.get(key) != name)
    for key in missing:
        index.put(key, wanted[key])
    return len(stale) + len(missing)
