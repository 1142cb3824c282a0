"""Rows of the reseller masters and aliases (schemas/rows/identity.py): the snapshot's
`masters` and `party_aliases` sections and `/api/resellers/masters` / `aliases`.

The masters are reference data held whole; the aliases are bounded by the resellers, and
one distributor's are read by the prefix of its keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.timeutil import iso_z
from projections.party_aliases import AliasState, MappingStep, MasterState
from projections.stores import ChannelStores


def master_rows(stores: ChannelStores) -> list[dict[str, Any]]:
    """Every master, by master_id."""
    return [master_row(master) for master in stores.masters.values()]


def master_row(master: MasterState) -> dict[str, Any]:
    return {
        "master_id": master.master_id,
        "legal_name": master.legal_name,
        "country": master.country,
        "postal_code": master.postal_code,
        "registered_at": iso_z(master.registered_at),
    }


def masters_with_aliases(stores: ChannelStores) -> list[dict[str, Any]]:
    """Every master with the aliases that mean it now ("distributor|alias", sorted; an
    alias by name as its key). Reads the masters and every alias once."""
    meaning: dict[str, list[str]] = {}
    for alias in stores.party_aliases.values():
        if alias.master_id is not None:
            meaning.setdefault(alias.master_id, []).append(_alias_name(alias.key))
    return [
        {**master_row(master), "aliases": sorted(meaning.get(master.master_id, []))}
        for master in stores.masters.values()
    ]


def alias_rows(stores: ChannelStores, distributor_id: str | None = None) -> list[dict[str, Any]]:
    """Every alias (of one distributor), sorted by distributor_id, then alias key."""
    if distributor_id is None:
        aliases: Iterable[AliasState] = stores.party_aliases.values()
    else:
        by_id = (state for _, state in stores.party_aliases.scan(f"id|{distributor_id}|"))
        by_name = (state for _, state in stores.party_aliases.scan(f"na|{distributor_id}|"))
        aliases = [*by_id, *by_name]
    rows = [alias_row(alias) for alias in aliases]
    return sorted(rows, key=lambda row: (row["distributor_id"], row["alias_key"]))


def alias_row(alias: AliasState) -> dict[str, Any]:
    kind, distributor, own = alias.key.split("|", 2)
    return {
        "distributor_id": distributor,
        "alias_key": alias.key,
        "alias_id": own if kind == "id" else None,
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


def _alias_name(key: str) -> str:
    """ "distributor|alias_id" for an alias by id (as top resellers list them), else its key."""
    kind, distributor, own = key.split("|", 2)
    return f"{distributor}|{own}" if kind == "id" else key
