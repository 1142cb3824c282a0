"""Version 1 wire contracts of party identity: reseller and end-customer masters, and the
aliases (what each distributor calls a party) mapped to them.

Shape and field-level validity only; normalisation and matching live in
`domain.party_names` / `domain.party_matching`, the mapping state in
`projections.party_aliases` (docs/IDENTITY.md). The reseller ones are wired (registrations
on the `masters` reference topic, alias changes on the `identity` topic); the end-customer
ones are not on a raw topic yet.

An end customer may be a person: its name and address are personal data. The ingest doors
seal them under the master's subject key before an end-customer event is published
(docs/PRIVACY.md), so on the wire they are tokens; the events and the domain records keep
them out of `repr` (and so out of logs); only ids are logged.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.envelope import Envelope
from schemas.types import Id, Personal, Text, UtcDatetime

#: A name or an address line as sent (normalised only for matching).
PartyText = Annotated[Text, Field(min_length=1, max_length=256)]
#: ISO 3166-1 alpha-2 country code.
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
#: A postal code as written locally ("10115", "SW1A 1AA", "94105-1804").
PostalCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$")]
#: A DUNS number: nine digits.
Duns = Annotated[str, StringConstraints(pattern=r"^\d{9}$")]
#: A match score from 0 to 100 (two places).
Score = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
#: Why a person (or the matcher) did something: never empty.
Reason = Annotated[Text, Field(min_length=1, max_length=512)]
#: The digest that keys an alias by name (`projections.party_aliases.alias_key`).
NameKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]
#: Which kind of party a master or an alias is.
PartyKind = Literal["reseller", "end_customer"]
#: the personal fields of an end customer's registration, and of its alias by name: sealed
#: at the doors (docs/PRIVACY.md)
END_CUSTOMER_MASTER_FIELDS: Final = ("legal_name", "address")
END_CUSTOMER_ALIAS_FIELDS: Final = ("name", "address")


class PartyRegistered(Envelope):
    """A master party: the one identity every alias of it maps to.

    Registered again under the same `master_id` it is a correction (a rename, a new
    address): the registration with the latest `registered_at` (then `event_id`) stands,
    whatever order they arrive in.
    """

    party: ClassVar[PartyKind] = "reseller"
    master_id: Id
    legal_name: PartyText
    tax_id: Id | None = None
    duns: Duns | None = None
    address: PartyText | None = None
    postal_code: PostalCode | None = None
    country: Country
    registered_at: UtcDatetime

    @property
    def business_time(self) -> datetime:
        return self.registered_at


class AliasChange(Envelope):
    """What every alias event names: the distributor, and either the distributor's own id
    for the party (`alias_id`) or, where it sends none, its name and address as sent.

    `name_key` is the digest that keys an alias by name, set by the door that seals the
    name (a worker cannot read a sealed name); without it the key is made of the name."""

    party: ClassVar[PartyKind] = "reseller"
    distributor_id: Id
    alias_id: Id | None = None
    name: PartyText | None = None
    address: PartyText | None = None
    postal_code: PostalCode | None = None
    country: Country | None = None
    master_id: Id
    #: who decided: a person's actor id, or "matcher" for an automatic mapping
    changed_by: Id
    reason: Reason
    changed_at: UtcDatetime
    name_key: NameKey | None = None

    @model_validator(mode="after")
    def _one_alias(self) -> AliasChange:
        by_name = (self.name, self.postal_code, self.country)
        if self.alias_id is None and any(part is None for part in by_name):
            raise ValueError("an alias is an alias_id, or a name with postal_code and country")
        named = (*by_name, self.address, self.name_key)
        if self.alias_id is not None and any(part is not None for part in named):
            raise ValueError("an alias is an alias_id or a name and address, not both")
        return self

    @property
    def business_time(self) -> datetime:
        return self.changed_at


class AliasMapped(AliasChange):
    """An alias now means `master_id`. `automatic`: decided by the matcher above its
    threshold (then `score` says how sure), else confirmed by a person."""

    automatic: bool = False
    score: Score | None = None

    @model_validator(mode="after")
    def _automatic_scored(self) -> AliasMapped:
        if self.automatic and self.score is None:
            raise ValueError("an automatic mapping carries the matcher's score")
        return self


class ResellerRegistered(PartyRegistered):
    event_type: Literal["ResellerRegistered"] = "ResellerRegistered"


class ResellerAliasMapped(AliasMapped):
    event_type: Literal["ResellerAliasMapped"] = "ResellerAliasMapped"


class ResellerAliasUnmapped(AliasChange):
    """The alias no longer means `master_id` (a wrong merge undone)."""

    event_type: Literal["ResellerAliasUnmapped"] = "ResellerAliasUnmapped"


class ResellerMatchRejected(Envelope):
    """A person rejected the match proposal of a distributor's reseller id: it stays its
    own reseller, and the proposal is closed (docs/IDENTITY.md, the match queue)."""

    event_type: Literal["ResellerMatchRejected"] = "ResellerMatchRejected"
    distributor_id: Id
    alias_id: Id
    changed_by: Id
    reason: Reason
    changed_at: UtcDatetime

    @property
    def business_time(self) -> datetime:
        return self.changed_at


class ProposedMaster(BaseModel):
    """A master a proposal names: its score and the reasons it scored so."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    master_id: Id
    score: Score
    reasons: Annotated[list[Reason], Field(max_length=8)] = []


class ResellerMatchProposed(Envelope):
    """A distributor's reseller id proposed for the match queue from outside the
    onboarding flow (a bulk match's review row): the candidate masters, best first, for a
    person to confirm or reject (docs/IDENTITY.md, the match queue)."""

    event_type: Literal["ResellerMatchProposed"] = "ResellerMatchProposed"
    distributor_id: Id
    alias_id: Id
    candidates: Annotated[list[ProposedMaster], Field(min_length=1, max_length=5)]
    #: who proposed: a person's actor id, or the tool that did ("bulk-match")
    proposed_by: Id
    reason: Reason
    proposed_at: UtcDatetime

    @model_validator(mode="after")
    def _distinct(self) -> ResellerMatchProposed:
        if len({candidate.master_id for candidate in self.candidates}) < len(self.candidates):
            raise ValueError("a master is proposed once")
        return self

    @property
    def business_time(self) -> datetime:
        return self.proposed_at


class EndCustomerRegistered(PartyRegistered):
    """An end customer's master. Its legal name and address are personal data: sealed
    tokens on the wire (`pii1.<key id>.<...>`), never in `repr`."""

    party: ClassVar[PartyKind] = "end_customer"
    event_type: Literal["EndCustomerRegistered"] = "EndCustomerRegistered"
    legal_name: Personal = Field(repr=False)
    address: Personal | None = Field(default=None, repr=False)


class EndCustomerAlias(AliasChange):
    """What an end customer's alias events share: a name and address sent are personal
    data, sealed on the wire, never in `repr`."""

    party: ClassVar[PartyKind] = "end_customer"
    name: Personal | None = Field(default=None, repr=False)
    address: Personal | None = Field(default=None, repr=False)


class EndCustomerAliasMapped(EndCustomerAlias, AliasMapped):
    event_type: Literal["EndCustomerAliasMapped"] = "EndCustomerAliasMapped"


class EndCustomerAliasUnmapped(EndCustomerAlias):
    event_type: Literal["EndCustomerAliasUnmapped"] = "EndCustomerAliasUnmapped"


#: every event about who a party is (masters, aliases, match proposals), on `identity` /
#: `masters`: one list for the envelope's union, the identity reducer and the JSON Schemas
PartyEvent = (
    ResellerRegistered
    | ResellerAliasMapped
    | ResellerAliasUnmapped
    | ResellerMatchRejected
    | ResellerMatchProposed
    | EndCustomerRegistered
    | EndCustomerAliasMapped
    | EndCustomerAliasUnmapped
)
PARTY_EVENT_TYPES: tuple[type[Envelope], ...] = get_args(PartyEvent)

__all__ = [
    "END_CUSTOMER_ALIAS_FIELDS",
    "END_CUSTOMER_MASTER_FIELDS",
    "PARTY_EVENT_TYPES",
    "AliasChange",
    "AliasMapped",
    "EndCustomerAlias",
    "EndCustomerAliasMapped",
    "EndCustomerAliasUnmapped",
    "EndCustomerRegistered",
    "NameKey",
    "PartyEvent",
    "PartyKind",
    "PartyRegistered",
    "ProposedMaster",
    "ResellerAliasMapped",
    "ResellerAliasUnmapped",
    "ResellerMatchProposed",
    "ResellerMatchRejected",
    "ResellerRegistered",
]
