"""Reseller and end-customer identity rows: the masters, and each alias with the master it
means and how it came to (docs/IDENTITY.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.rows.base import DecimalText, DistributorId, RowModel, Sql, Time


class MappingStepRow(RowModel):
    """One change of an alias's mapping, as recorded."""

    action: Literal["mapped", "unmapped"] = Field(description="What was done.")
    master_id: str = Field(description="The master mapped to, or unmapped from.")
    changed_by: str = Field(description='Who decided: an actor id, or "matcher".')
    reason: str = Field(description="Why, as given.")
    changed_at: Time = Field(description="When it was decided.")
    automatic: bool = Field(description="Decided by the matcher above its threshold.")
    score: DecimalText | None = Field(description="The matcher's score (0 to 100), if any.")
    event_id: str = Field(description="The event that made the change.")


class MasterBriefRow(RowModel):
    """A master reseller: who it is and where (the `masters` read model). What only matching
    reads (address, tax id, DUNS) stays with `/api/resellers/masters`; the aliases meaning
    it are the `party_aliases` rows with its `master_id`."""

    identified_by = ("master_id",)

    master_id: str = Field(description="The master reseller.")
    legal_name: str = Field(description="Its legal name as registered.")
    country: str = Field(description="ISO 3166-1 alpha-2 country.")
    registered_at: Time = Field(description="When the standing registration was made.")


class MasterRow(MasterBriefRow):
    """A master reseller's registration as it stands."""

    postal_code: str | None = Field(description="Its postal code as registered.")
    address: str | None = Field(description="Its address as registered.")
    tax_id: str | None = Field(description="Its tax id as registered.")
    duns: str | None = Field(description="Its DUNS number (nine digits).")


class MasterWithAliasesRow(MasterRow):
    """A master and the aliases that mean it now (`/api/resellers/masters`)."""

    aliases: list[str] = Field(description='The aliases that mean it: "distributor|alias".')


class CustomerMasterRow(RowModel):
    """An end customer's master as it stands. Its legal name and address are personal data:
    sealed on the wire, shown in no row (docs/PRIVACY.md)."""

    identified_by = ("master_id",)

    master_id: str = Field(description="The master end customer.")
    country: str = Field(description="ISO 3166-1 alpha-2 country.")
    postal_code: str | None = Field(description="Its postal code as registered.")
    tax_id: str | None = Field(description="Its tax id as registered.")
    duns: str | None = Field(description="Its DUNS number (nine digits).")
    registered_at: Time = Field(description="When the standing registration was made.")


class CustomerMasterWithAliasesRow(CustomerMasterRow):
    """An end customer's master and the aliases that mean it now
    (`/api/end-customers/masters`)."""

    aliases: list[str] = Field(description='The aliases that mean it: "distributor|alias".')


class PartyAliasRow(RowModel):
    """One alias: what a distributor calls a reseller, the master it means now and every
    mapping step."""

    identified_by = ("alias_key",)

    distributor_id: DistributorId
    alias_key: str = Field(
        description='"id|distributor|alias_id", or "na|distributor|digest" for a name.'
    )
    alias_id: str | None = Field(
        description="The distributor's own id for it (null: an alias by name)."
    )
    master_id: str | None = Field(description="The master it means now (null: unmapped).")
    history: Annotated[list[MappingStepRow], Sql("jsonb")] = Field(
        description="Every mapping and unmapping, oldest first."
    )


class ProposedMasterRow(RowModel):
    """A master proposed for a reseller id, with its score and why."""

    master_id: str = Field(description="The master proposed.")
    score: DecimalText = Field(description="The matcher's score, 0 to 100.")
    reasons: list[str] = Field(description='Why: "name 94.74", "postal 50 (same postal area)".')


class ProposalRow(RowModel):
    """A reseller id the matcher could not decide alone: the match queue
    (`/api/resellers/proposals`)."""

    identified_by = ("distributor_id", "alias_id")

    distributor_id: DistributorId
    alias_id: str = Field(description="The distributor's own id for the reseller.")
    status: Literal["open", "confirmed", "rejected"] = Field(description="Where it stands.")
    proposed_at: Time = Field(
        description="When the reseller was onboarded, or proposed by a bulk match."
    )
    best_score: DecimalText | None = Field(description="The best candidate's score.")
    candidates: Annotated[list[ProposedMasterRow], Sql("jsonb")] = Field(
        description="The masters it may mean, best first."
    )
    event_id: str = Field(
        description="The onboarding that raised it, or the re-match that refreshed it when a "
        "master arrived later (derived from the onboarding's and the master's)."
    )
    closed_by: str | None = Field(description="Who confirmed or rejected it.")
    closed_reason: str | None = Field(description="Why, as given.")
    closed_at: Time | None = Field(description="When.")
    master_id: str | None = Field(description="Confirmed: the master it was mapped to.")
