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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.claim_rules import AuthorizationTerms
from projections.claims import LineRef
from projections.positions import Position, advance


@dataclass(frozen=True, slots=True)
class CapRequest:
    """A line asking its authorization's cap for `units` (it reserved them of its POS line);
    fewer than `least` are worth nothing to it (None: no quantity is: it is due no debit)."""

    authorization_id: str
    ref: LineRef
    units: int
    least: int | None = 1

    def to_json(self) -> dict[str, Any]:
        ref = self.ref.to_json()
        return {"a": self.authorization_id, "ref": ref, "units": self.units, "least": self.least}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapRequest:
        return cls(data["a"], LineRef.from_json(data["ref"]), data["units"], data["least"])


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
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapGrant:
        ref = LineRef.from_json(data["ref"])
        return cls(data["a"], ref, data["wanted"], data["granted"], data["left"])


@dataclass(frozen=True, slots=True)
class CapRelease:
    """Units given back to the cap: a line kept fewer than granted, or was reopened."""

    authorization_id: str
    units: int

    def to_json(self) -> dict[str, Any]:
        return {"a": self.authorization_id, "units": self.units}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CapRelease:
        return cls(data["a"], data["units"])


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


def cap_left(ledger: CapLedger, terms: AuthorizationTerms | None) -> int | None:
    """Units the cap still allows (None: no cap; never below zero)."""
    cap = None if terms is None else terms.quantity_cap
    return None if cap is None else max(cap - ledger.units_taken, 0)


def grant(
    ledger: CapLedger | None,
    terms: AuthorizationTerms | None,
    request: CapRequest,
    position: Position | None,
) -> tuple[CapLedger, CapGrant | None]:
    """The ledger after `request`, and its grant (None: the request was applied before).

    Granted: min(wanted, left), or nothing when that is fewer than the request's `least`.
    A request under an authorization without a cap is granted whole and still counted, so
    a cap set later by an amendment counts what was accepted before it.
    """
    current = ledger or CapLedger(request.authorization_id)
    applied = advance(current.applied, position)
    if applied is None:
        return current, None
    left = cap_left(current, terms)
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
