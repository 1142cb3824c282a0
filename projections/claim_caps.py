"""The cap of one authorization, taken in one ledger (docs/CLAIMS.md, "a cap shared by
distributors in other partitions"), pure.

A claim line that passed checks 1. to 10. in its distributor's partition asks the ledger of
its authorization for the units it wants (`CapRequest`); the ledger grants min(wanted,
left) in the order the requests reach it (`CapGrant`), and takes back units a line did not
keep or a reversal gave back (`CapRelease`). The ledger's log (the `claim-caps` topic,
keyed by authorization id) is the sequencer: applying it again grants the same.

The units taken are the ledger's own state (`CapLedger`), not the authorization's terms:
those are reference data every worker holds, while a cap is counted in one place. The cap
itself is read from the terms as they stand when the request is granted (an amendment may
raise or lower it). Redelivery: an input at or below the ledger's applied position changes
nothing and grants nothing again (`projections.positions`).

Sent again. A worker's batch that could not be stored is applied again, and appends its
requests and releases to the log again, at new offsets (`CapAsk`): a request names the POS
line its line was checked against and carries its number (`seq`, counted per POS line in
the line's partition, echoed in the grant), so the same request again is answered with
the grant given before (its line may have lost the first answer with its batch) and counts
nothing, while a request with another number replaces the one before it (what is left of
that grant comes back); a release names its line, that POS line, its kind and the number
of the grant it gives back of, and counts once, never more than was granted, and never
for a grant a newer request replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Final

from domain.claim_rules import AuthorizationTerms
from domain.frozen import quick_init
from projections.claim_refs import LineRef
from projections.positions import Position, advance


@quick_init
@dataclass(frozen=True, slots=True)
class CapRequest:
    """A line asking its authorization's cap for `units` (it reserved them of its POS line);
    fewer than `least` are worth nothing to it (None: no quantity is: it is due no debit)."""

    authorization_id: str
    ref: LineRef
    units: int
    least: int | None = 1
    #: the event id of the POS line the line was checked against: with the line, what
    #: names the request (a line asks again only once reopened, against another POS line)
    pos: str | None = None
    #: the cap of the terms the line was checked against: counted by a ledger whose copy
    #: of the reference data does not have the authorization yet (another worker's)
    cap: int | None = None
    #: the request's number on its POS line (`PosClaims.asked`): the line takes only the
    #: grant of the number it waits for (None: a message written before numbers)
    seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        ref = self.ref.to_json()
        return {
            "a": self.authorization_id,
            "ref": ref,
            "units": self.units,
            "least": self.least,
            "pos": self.pos,
            "cap": self.cap,
            "seq": self.seq,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapRequest:
        ref = LineRef.from_json(data["ref"])
        named = data.get("pos"), data.get("cap"), _number(data.get("seq"))
        return cls(data["a"], ref, _units(data["units"]), _units(data["least"]), *named)


@quick_init
@dataclass(frozen=True, slots=True)
class CapGrant:
    """The ledger's answer to a request: `granted` of the `wanted` units, and the units the
    cap had left for it (None: no cap), with which the line is finished as one phase
    would have finished it."""

    authorization_id: str
    ref: LineRef
    wanted: int
    granted: int
    left: int | None
    #: the request's POS line and number (`CapRequest.pos`, `CapRequest.seq`)
    pos: str | None = None
    seq: int | None = None

    @property
    def distributor_id(self) -> str:
        """The key of the grant's topic: it goes back to the line's partition."""
        return self.ref.distributor_id

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.authorization_id,
            "ref": self.ref.to_json(),
            "wanted": self.wanted,
            "granted": self.granted,
            "left": self.left,
            "pos": self.pos,
            "seq": self.seq,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapGrant:
        ref = LineRef.from_json(data["ref"])
        values = _units(data["wanted"]), _units(data["granted"]), data["left"]
        return cls(data["a"], ref, *values, data.get("pos"), _number(data.get("seq")))


@quick_init
@dataclass(frozen=True, slots=True)
class CapRelease:
    """Units given back to the cap: a line kept fewer than granted (`rest`), was reopened
    (`held`), or did not wait for this grant (`whole`). `ref`, `pos` and `kind` name it on
    the log (None: in process, where nothing is sent twice), with `seq` the number of the
    grant it gives back of (`rest`, `whole`; a reopened line gives back of the grant it
    took)."""

    authorization_id: str
    units: int
    ref: LineRef | None = None
    pos: str | None = None
    kind: str | None = None
    seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        ref = None if self.ref is None else self.ref.to_json()
        named = {"ref": ref, "pos": self.pos, "kind": self.kind, "seq": self.seq}
        return {"a": self.authorization_id, "units": self.units, **named}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapRelease:
        ref = None if data.get("ref") is None else LineRef.from_json(data["ref"])
        kind = data.get("kind")
        if kind is not None and kind not in RELEASE_KINDS:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(RELEASE_KINDS)}")
        return cls(
            data["a"], _units(data["units"]), ref, data.get("pos"), kind, _number(data.get("seq"))
        )


def _units(value: Any) -> int:
    """A count of units on a log: an integer, none negative (else the message is invalid)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a count of units")
    return value


def _number(value: Any) -> int | None:
    """A request's number: absent, or an integer from 1."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{value!r} is not a request number")
    return value


def cap_message_to_json(message: CapRequest | CapRelease) -> dict[str, Any]:
    """A message of the `claim-caps` log: a request or a release, said which."""
    kind = "request" if isinstance(message, CapRequest) else "release"
    return {kind: message.to_json()}


def cap_message_from_json(data: dict[str, Any]) -> CapRequest | CapRelease:
    if "request" in data:
        return CapRequest.from_json(data["request"])
    return CapRelease.from_json(data["release"])


@quick_init
@dataclass(frozen=True, slots=True)
class CapLedger:
    """How many units of one authorization's cap accepted lines hold, over all claims and
    distributors."""

    authorization_id: str
    units_taken: int = 0
    applied: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"a": self.authorization_id, "taken": self.units_taken, "applied": self.applied}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapLedger:
        return cls(data["a"], data["taken"], dict(data["applied"]))


@dataclass(frozen=True, slots=True)
class CapAsk:
    """What the ledger answered one line asking against one POS line (kept with the
    ledger, by `ask_key`): the grant of its latest request (with its number), and the
    units given back of it, by kind."""

    grant: CapGrant
    released: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"grant": self.grant.to_json(), "released": self.released}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapAsk:
        return cls(CapGrant.from_json(data["grant"]), dict(data["released"]))


#: a grant's units come back once: what its line did not keep (`rest`) or, when the line no
#: longer waited for it, all of them (`whole`), whichever comes first; those it kept, once
#: reopened (`held`)
RELEASE_KINDS: Final = {"rest": ("rest", "whole"), "whole": ("rest", "whole"), "held": ("held",)}


def ask_key(authorization_id: str, ref: LineRef, pos: str | None) -> str:
    """authorization_id|distributor_id|claim_id|line_no|POS line event id: with its
    ledger, in the partition of the authorization."""
    line = f"{ref.distributor_id}|{ref.claim_id}|{ref.line.line_no}"
    return f"{authorization_id}|{line}|{pos}"


def grant_once(
    ledger: CapLedger | None,
    ask: CapAsk | None,
    terms: AuthorizationTerms | None,
    request: CapRequest,
    position: Position | None,
) -> tuple[CapLedger, CapAsk | None, CapGrant | None]:
    """`grant`, for a request that may have been appended to the log before (`ask`: the
    answer to its line's last request against that POS line). The same request again (the
    same number) is answered as before and counts nothing, unless its line gave that answer
    back whole (no line waited for it): then it is granted anew. A request with another
    number replaces the one before: what its line had not given back of that grant comes
    back, and it is granted anew."""
    current = ledger or CapLedger(request.authorization_id)
    applied = advance(current.applied, position)
    if applied is None:
        return current, ask, None
    if ask is not None and ask.grant.seq == request.seq and "whole" not in ask.released:
        return replace(current, applied=applied), ask, ask.grant
    if ask is not None:
        taken = max(current.units_taken - outstanding(ask), 0)
        current = replace(current, units_taken=taken)
    after, answer = grant(current, terms, request, position)
    if answer is None:
        return after, ask, None
    answer = replace(answer, pos=request.pos, seq=request.seq)
    return after, CapAsk(answer), answer


def outstanding(ask: CapAsk) -> int:
    """Units of the grant its line has not given back."""
    return max(ask.grant.granted - sum(ask.released.values()), 0)


def settled(ask: CapAsk) -> bool:
    """Whether the ask answers nothing any more: its grant came back whole (no line waited
    for it) and none of it is out. Every message about it then does what it does with no
    ask kept: the same request again is granted anew (after a whole return it is anyway),
    another number replaces nothing outstanding, and a release counts nothing (its kind
    came back already, or nothing is left to give back)."""
    return "whole" in ask.released and outstanding(ask) == 0


def give_back_once(
    ledger: CapLedger | None,
    ask: CapAsk | None,
    release: CapRelease,
    position: Position | None,
) -> tuple[CapLedger, CapAsk | None]:
    """`give_back`, for a release that may have been appended before (`ask`: the grant it
    gives back of): `rest` or `whole` counts once per grant, and only of the grant of its
    number (one a newer request replaced came back then); `held` once; never more than was
    granted; a release of a grant never given counts nothing."""
    if release.kind is None:
        return give_back(ledger, release, position), ask
    units = 0
    if ask is not None and _counts(ask, release, release.kind):
        units = min(release.units, outstanding(ask))
        ask = replace(ask, released={**ask.released, release.kind: units})
    return give_back(ledger, replace(release, units=units), position), ask


def _counts(ask: CapAsk, release: CapRelease, kind: str) -> bool:
    """Whether `release` (of `kind`) gives back of the grant `ask` holds, not given back so
    before: a reopened line's (`held`) of the grant it took, the others of the grant of
    their number."""
    of_it = kind == "held" or release.seq == ask.grant.seq
    return of_it and not any(done in ask.released for done in RELEASE_KINDS[kind])


def cap_left(ledger: CapLedger, cap: int | None) -> int | None:
    """Units the cap still allows (None: no cap; never below zero)."""
    return None if cap is None else max(cap - ledger.units_taken, 0)


def grant(
    ledger: CapLedger | None,
    terms: AuthorizationTerms | None,
    request: CapRequest,
    position: Position | None,
) -> tuple[CapLedger, CapGrant | None]:
    """The ledger after `request`, and its grant (None: the request was applied before).

    Granted: min(wanted, left), or nothing when that is fewer than the request's `least`.
    The cap is the terms' (None: not known here yet: the one the line was checked against).
    A request under an authorization without a cap is granted whole and still counted, so
    a cap set later by an amendment counts what was accepted before it.
    """
    current = ledger or CapLedger(request.authorization_id)
    applied = advance(current.applied, position)
    if applied is None:
        return current, None
    left = cap_left(current, request.cap if terms is None else terms.quantity_cap)
    granted = request.units if left is None else min(request.units, left)
    if request.least is None or granted < request.least:
        granted = 0
    taken = current.units_taken + granted
    answer = CapGrant(request.authorization_id, request.ref, request.units, granted, left)
    return CapLedger(current.authorization_id, taken, applied), answer


def give_back(
    ledger: CapLedger | None, release: CapRelease, position: Position | None
) -> CapLedger:
    """The ledger with `release.units` back (never below zero taken)."""
    current = ledger or CapLedger(release.authorization_id)
    applied = advance(current.applied, position)
    if applied is None:
        return current
    taken = max(current.units_taken - release.units, 0)
    return CapLedger(current.authorization_id, taken, applied)
