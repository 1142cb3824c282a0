"""Master parties and the alias → master mapping, with its history (docs/IDENTITY.md).

Two small values, each under its own key: a `MasterState` per master id (its
registration as it stands) and an `AliasState` per alias (the master it means now, and
every mapping and unmapping with who, why and when). Pure: functions return new values;
an input at or below a value's applied position changes nothing, and neither does an
event already in an alias's history (a resend).

Refused, with `IdentityProblem.reason` as the dead-letter reason:
- `unknown_master`: a mapping to a master never registered;
- `conflicting_mapping`: mapping an alias another master holds (the holder is named:
  unmap it first), or unmapping it from a master it is not mapped to;
- `alias_not_mapped`: unmapping an alias mapped to nothing;
- `master_referenced`: unmapping while something still counts on the mapping (the
  `referenced` hook, e.g. an authorization naming the master: move it first);
- `unreadable_alias`: an alias whose name is sealed, without the `name_key` its door made.

Mappings of different aliases commute, and so do a registration's corrections (the
latest `registered_at`, then `event_id`, stands); map and unmap of one alias do not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal

from domain.party_matching import PartyRecord, party_record
from domain.party_names import normalise_address, normalise_name, normalise_postal
from domain.personal_data import ERASED, E, parse_sealed
from projections.positions import Position, advance
from schemas.parties import AliasChange, AliasMapped, PartyKind, PartyRegistered

Action = Literal["mapped", "unmapped"]
#: the first part of an alias key, by party: an alias by id, an alias by name (an
#: end customer's differ from a reseller's, so their keys and audit records never meet)
KEY_KINDS: Final[dict[PartyKind, tuple[str, str]]] = {
    "reseller": ("id", "na"),
    "end_customer": ("ci", "cn"),
}
_BY_ID: Final = frozenset(kinds[0] for kinds in KEY_KINDS.values())
#: what still counts on a mapping: (alias key, master id) -> a description of it, or None
Referenced = Callable[[str, str], str | None]


class IdentityProblem(ValueError):
    """A registration or mapping that cannot apply; `reason` is the dead-letter reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def alias_key(change: AliasChange) -> str:
    """`id|distributor|alias id`, or `na|distributor|digest` of the normalised name, postal
    code, country and address: the same party sent with other case, accents or legal form
    is one alias, and a key (in logs, errors, dead letters) never spells a person's name.
    An alias whose name a door sealed carries the digest (`name_key`): the name is a token
    here."""
    if change.alias_id is not None:
        return id_alias_key(change.distributor_id, change.alias_id, change.party)
    by_name = KEY_KINDS[change.party][1]
    return f"{by_name}|{change.distributor_id}|{name_key(change)}"


def name_key(change: AliasChange) -> str:
    """The digest of an alias by name, from its clear name and address; when they are
    sealed (or were dropped as `erased` at a door without a key store), the `name_key` the
    door computed (a sealed name without it: refused `unreadable_alias`). A `name_key` sent
    beside a readable name is not read: the digest is the name's."""
    assert change.name is not None and change.postal_code is not None
    sealed = any(parse_sealed(text) for text in (change.name, change.address or ""))
    if sealed and change.name_key is None:
        raise IdentityProblem("unreadable_alias", "a sealed name without its name_key")
    if change.name_key is not None and (sealed or change.name == ERASED):
        return change.name_key
    address = "" if change.address is None else normalise_address(change.address)
    parts = (normalise_name(change.name), normalise_postal(change.postal_code), change.country)
    text = "|".join((*map(str, parts), address))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def with_name_key(event: E) -> E:
    """An end customer's alias by name with the digest of its clear name set, as the door
    that seals the name must (any other event as it is)."""
    if not isinstance(event, AliasChange) or event.party != "end_customer":
        return event
    if event.alias_id is not None or event.name is None or parse_sealed(event.name):
        return event
    return event.model_copy(update={"name_key": name_key(event)})


def id_alias_key(distributor_id: str, alias_id: str, party: PartyKind = "reseller") -> str:
    """The alias of a distributor's own id for a party (a sale's `reseller_id`, or its
    `end_customer`)."""
    return f"{KEY_KINDS[party][0]}|{distributor_id}|{alias_id}"


def by_id(alias_key: str) -> bool:
    """Whether the alias key is of a distributor's own id (not of a name)."""
    return alias_key.split("|", 1)[0] in _BY_ID


@dataclass(frozen=True, slots=True)
class MasterState:
    """A master party's registration as it stands. Names stay out of `repr`."""

    master_id: str
    legal_name: str = field(repr=False)
    country: str
    registered_at: datetime
    event_id: str
    tax_id: str | None = field(default=None, repr=False)
    duns: str | None = field(default=None, repr=False)
    address: str | None = field(default=None, repr=False)
    postal_code: str | None = field(default=None, repr=False)
    applied: dict[str, int] = field(default_factory=dict)
    #: when the system first recorded a registration of it (the event's `recorded_at`, or
    #: its `registered_at` when it carries none): the match step considers a master only
    #: for an onboarding recorded after it, in live and replay alike
    known_since: datetime | None = None

    @property
    def record(self) -> PartyRecord:
        """The master normalised for matching."""
        return party_record(
            self.master_id, self.legal_name, self.country, self.postal_code, self.address,
            self.tax_id, self.duns,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.master_id,
            "name": self.legal_name,
            "c": self.country,
            "at": self.registered_at.isoformat(),
            "ev": self.event_id,
            "tax": self.tax_id,
            "duns": self.duns,
            "addr": self.address,
            "zip": self.postal_code,
            "applied": self.applied,
            "known": None if self.known_since is None else self.known_since.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MasterState:
        known = data.get("known")
        return cls(
            data["id"], data["name"], data["c"], datetime.fromisoformat(data["at"]), data["ev"],
            data["tax"], data["duns"], data["addr"], data["zip"], dict(data["applied"]),
            None if known is None else datetime.fromisoformat(known),
        )  # fmt: skip


def register(
    state: MasterState | None, event: PartyRegistered, position: Position | None
) -> MasterState:
    """The master as registered; a correction stands if it is the latest (see above)."""
    applied = advance({} if state is None else state.applied, position)
    if applied is None:
        assert state is not None
        return state
    recorded = event.recorded_at or event.registered_at
    known = (
        recorded if state is None or state.known_since is None else min(state.known_since, recorded)
    )
    new = MasterState(
        event.master_id, event.legal_name, event.country, event.registered_at,
        str(event.event_id), event.tax_id, event.duns, event.address, event.postal_code, applied,
        known,
    )  # fmt: skip
    if state is None or (new.registered_at, new.event_id) > (state.registered_at, state.event_id):
        return new
    return replace(state, applied=applied, known_since=known)


@dataclass(frozen=True, slots=True)
class MappingStep:
    """One change of an alias's mapping, as recorded."""

    action: Action
    master_id: str
    changed_by: str
    reason: str
    changed_at: datetime
    event_id: str
    automatic: bool = False
    score: Decimal | None = None

    def to_json(self) -> list[Any]:
        score = None if self.score is None else str(self.score)
        return [
            self.action, self.master_id, self.changed_by, self.reason,
            self.changed_at.isoformat(), self.event_id, self.automatic, score,
        ]  # fmt: skip

    @classmethod
    def from_json(cls, data: list[Any]) -> MappingStep:
        action, master, by, reason, at, event_id, automatic, score = data
        moment = datetime.fromisoformat(at)
        amount = None if score is None else Decimal(score)
        return cls(action, master, by, reason, moment, event_id, automatic, amount)


@dataclass(frozen=True, slots=True)
class MappedTo:
    """The master an alias means, and the event of the mapping step that made it so."""

    master_id: str
    event_id: str


@dataclass(frozen=True, slots=True)
class AliasState:
    """One alias: the master it means now (None: unmapped) and how it came to."""

    key: str
    master_id: str | None = None
    history: tuple[MappingStep, ...] = ()
    applied: dict[str, int] = field(default_factory=dict)

    @property
    def mapped_to(self) -> MappedTo | None:
        """The master it means now with its mapping step (the last one), or None."""
        if self.master_id is None:
            return None
        return MappedTo(self.master_id, self.history[-1].event_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "k": self.key,
            "m": self.master_id,
            "h": [step.to_json() for step in self.history],
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AliasState:
        history = tuple(MappingStep.from_json(step) for step in data["h"])
        return cls(data["k"], data["m"], history, dict(data["applied"]))


def map_alias(
    state: AliasState | None,
    event: AliasMapped,
    is_master: Callable[[str], bool],
    position: Position | None,
) -> AliasState:
    """The alias mapped to `event.master_id` (already mapped there: nothing changes)."""
    key = alias_key(event)
    state = state or AliasState(key)
    applied = advance(state.applied, position)
    if applied is None or _seen(state, event):
        return state
    if state.master_id == event.master_id:
        return replace(state, applied=applied)
    if state.master_id is not None:
        raise IdentityProblem(
            "conflicting_mapping",
            f"alias {key} is mapped to master {state.master_id!r}: unmap it before mapping "
            f"it to {event.master_id!r}",
        )
    if not is_master(event.master_id):
        raise IdentityProblem("unknown_master", f"master {event.master_id!r} is not registered")
    step = _step("mapped", event, event.automatic, event.score)
    return AliasState(key, event.master_id, (*state.history, step), applied)


def unmap_alias(
    state: AliasState | None,
    event: AliasChange,
    referenced: Referenced,
    position: Position | None,
) -> AliasState:
    """The alias no longer mapped to `event.master_id`."""
    key = alias_key(event)
    state = state or AliasState(key)
    applied = advance(state.applied, position)
    if applied is None or _seen(state, event):
        return state
    if state.master_id is None:
        raise IdentityProblem("alias_not_mapped", f"alias {key} is not mapped to any master")
    if state.master_id != event.master_id:
        raise IdentityProblem(
            "conflicting_mapping",
            f"alias {key} is mapped to master {state.master_id!r}, not {event.master_id!r}",
        )
    holder = referenced(key, state.master_id)
    if holder is not None:
        raise IdentityProblem(
            "master_referenced",
            f"alias {key} cannot leave master {state.master_id!r}: {holder} still names it; "
            "move that first",
        )
    step = _step("unmapped", event, False, None)
    return AliasState(key, None, (*state.history, step), applied)


def _seen(state: AliasState, event: AliasChange) -> bool:
    return any(step.event_id == str(event.event_id) for step in state.history)


def _step(
    action: Action, event: AliasChange, automatic: bool, score: Decimal | None
) -> MappingStep:
    return MappingStep(
        action, event.master_id, event.changed_by, event.reason, event.changed_at,
        str(event.event_id), automatic, score,
    )  # fmt: skip


def current_mapping(aliases: Iterable[AliasState]) -> dict[str, str]:
    """alias key -> master id, of the aliases mapped now."""
    return {state.key: state.master_id for state in aliases if state.master_id is not None}


def identity_of(mapping: Mapping[str, str], distributor_id: str, alias_id: str) -> str:
    """Whom a distributor's party id means: its master id, or, unmapped, itself as
    "distributor|alias" (which no master id can be: ids never hold "|")."""
    return mapping.get(id_alias_key(distributor_id, alias_id), f"{distributor_id}|{alias_id}")
