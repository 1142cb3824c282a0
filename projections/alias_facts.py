"""The audit fact of a reseller alias's mapping step (docs/IDENTITY.md, "Audit chain").

Each step the projection accepts (`projections.party_aliases`: mapped or unmapped) gives
rise to one `AliasStepTaken`, recorded in the alias's `PartyAlias` aggregate (its id
derived from the alias key), so a redelivered or replayed step changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from projections.party_aliases import MappingStep


@dataclass(frozen=True, slots=True)
class AliasStepTaken:
    """One step of an alias's mapping, as the projection took it."""

    alias_key: str
    distributor_id: str
    step: MappingStep
