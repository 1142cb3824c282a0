"""Matching a party as a distributor names it against the master parties (docs/IDENTITY.md).

Pure and deterministic. `score` compares two normalised records:

1. A tax id on both (same country) or a DUNS on both decides alone: equal → 100
   (`exact`), different → 0 (two legal entities, however alike their names).
2. Otherwise the countries must be equal (else 0), and the score is the weighted sum of
   the name's similarity (rapidfuzz `token_sort_ratio`: word order does not matter), the
   postal code's (equal, or one of 5+ characters beginning the other as a ZIP its ZIP+4:
   100; the same first `postal_prefix` characters: 50; else 0, and 0 when either side has
   none, so a name alone is at best proposed) and the address's (`ratio`; when either
   side has none, its weight goes to the name).

The score is symmetric: `score(a, b) == score(b, a)`. `decide` turns the best candidate
into an outcome: `exact`; `automatic` at or above `automatic_at` with no other master
within `ambiguity_margin`; `review` (a proposal for a person) at or above `review_at`, or
automatic-high but ambiguous; `new` below (a new master). Ties go to the smallest master id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal

from rapidfuzz import fuzz

from domain.party_names import (
    normalise_address,
    normalise_name,
    normalise_postal,
    normalise_tax_id,
)

Outcome = Literal["exact", "automatic", "review", "new"]
SCORE_PLACES: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Thresholds and weights (docs/IDENTITY.md gives the defaults' reasons)."""

    automatic_at: Decimal = Decimal("92")
    review_at: Decimal = Decimal("75")
    #: two masters this close to the best make an automatic match a proposal
    ambiguity_margin: Decimal = Decimal("3")
    name_weight: Decimal = Decimal("0.70")
    postal_weight: Decimal = Decimal("0.15")
    address_weight: Decimal = Decimal("0.15")
    postal_prefix: int = 3

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.review_at <= self.automatic_at <= Decimal(100):
            raise ValueError("thresholds must satisfy 0 <= review_at <= automatic_at <= 100")
        weights = (self.name_weight, self.postal_weight, self.address_weight)
        if any(weight < 0 for weight in weights) or sum(weights) != 1:
            raise ValueError("the name, postal and address weights are >= 0 and sum to 1")
        if self.postal_prefix < 1:
            raise ValueError("postal_prefix is at least 1")


DEFAULT_CONFIG: Final = MatchConfig()


@dataclass(frozen=True, slots=True)
class PartyRecord:
    """A party normalised for matching: a master (`party_id` its master id) or an alias
    being matched (`party_id` names it). Names and addresses stay out of `repr`: an end
    customer's are personal data."""

    party_id: str
    name: str = field(repr=False)
    country: str
    postal: str = field(default="", repr=False)
    address: str = field(default="", repr=False)
    tax_id: str | None = field(default=None, repr=False)
    duns: str | None = field(default=None, repr=False)


def party_record(
    party_id: str,
    name: str,
    country: str,
    postal_code: str | None = None,
    address: str | None = None,
    tax_id: str | None = None,
    duns: str | None = None,
) -> PartyRecord:
    """A record from fields as sent, every one normalised."""
    return PartyRecord(
        party_id=party_id,
        name=normalise_name(name),
        country=country.upper(),
        postal="" if postal_code is None else normalise_postal(postal_code),
        address="" if address is None else normalise_address(address),
        tax_id=None if tax_id is None else normalise_tax_id(tax_id),
        duns=duns,
    )


@dataclass(frozen=True, slots=True)
class Match:
    """One candidate's score against the record matched."""

    master_id: str
    score: Decimal
    exact: bool = False


@dataclass(frozen=True, slots=True)
class MatchDecision:
    """What to do with a record: the outcome, the best match, and the runner-up's score."""

    party_id: str
    outcome: Outcome
    best: Match | None
    runner_up: Decimal | None = None

    @property
    def master_id(self) -> str | None:
        return None if self.best is None or self.outcome == "new" else self.best.master_id


def identifiers_decide(a: PartyRecord, b: PartyRecord) -> bool | None:
    """True / False when a tax id (same country) or a DUNS on both sides decides, else None."""
    if a.duns is not None and b.duns is not None:
        return a.duns == b.duns
    if a.tax_id is not None and b.tax_id is not None and a.country == b.country:
        return a.tax_id == b.tax_id
    return None


def score(a: PartyRecord, b: PartyRecord, config: MatchConfig = DEFAULT_CONFIG) -> Match:
    """How alike two records are, 0 to 100 (two places); `b` is the master scored."""
    decided = identifiers_decide(a, b)
    if decided is not None:
        return Match(b.party_id, Decimal(100) if decided else Decimal(0), exact=decided)
    if a.country != b.country:
        return Match(b.party_id, Decimal(0))
    parts = _parts(a, b, config)
    name_weight, address_weight = config.name_weight, config.address_weight
    if parts.address is None:
        name_weight, address_weight = name_weight + address_weight, Decimal(0)
    total = (
        name_weight * parts.name
        + config.postal_weight * parts.postal
        + address_weight * (parts.address or Decimal(0))
    )
    return Match(b.party_id, total.quantize(SCORE_PLACES))


@dataclass(frozen=True, slots=True)
class _Parts:
    name: Decimal
    postal: Decimal
    address: Decimal | None  # None: either side has none


def _parts(a: PartyRecord, b: PartyRecord, config: MatchConfig) -> _Parts:
    address = None
    if a.address and b.address:
        address = _similarity(fuzz.ratio(a.address, b.address))
    name = _similarity(fuzz.token_sort_ratio(a.name, b.name))
    return _Parts(name, _postal(a.postal, b.postal, config.postal_prefix), address)


def reasons(
    a: PartyRecord, b: PartyRecord, config: MatchConfig = DEFAULT_CONFIG
) -> tuple[str, ...]:
    """Why `b` scored as it did against `a`, in words a person checks a proposal by
    ("name 94.74", "postal 50 (same area)", "no address to compare")."""
    decided = identifiers_decide(a, b)
    if decided is not None:
        which = "DUNS" if a.duns is not None and b.duns is not None else "tax id"
        return (f"{which} {'equal' if decided else 'different'}",)
    if a.country != b.country:
        return ("another country",)
    parts = _parts(a, b, config)
    postal = {Decimal(100): "same postal code", Decimal(50): "same postal area"}.get(
        parts.postal, "postal code missing" if not (a.postal and b.postal) else "another area"
    )
    address = "no address to compare" if parts.address is None else f"address {parts.address}"
    return (f"name {parts.name}", f"postal {parts.postal} ({postal})", address)


def _similarity(value: float) -> Decimal:
    """rapidfuzz's 0..100 float as a Decimal of two places (the float's shortest repr)."""
    return Decimal(repr(value)).quantize(SCORE_PLACES)


def _postal(a: str, b: str, prefix: int) -> Decimal:
    if not a or not b:
        return Decimal(0)
    if a == b or (min(len(a), len(b)) >= 5 and (a.startswith(b) or b.startswith(a))):
        return Decimal(100)  # equal, or a ZIP and its ZIP+4
    return Decimal(50) if a[:prefix] == b[:prefix] else Decimal(0)


def ranked(matches: Iterable[Match]) -> list[Match]:
    """Best first: exact, then score, then the smallest master id."""
    return sorted(matches, key=lambda match: (not match.exact, -match.score, match.master_id))


def ranked_matches(
    record: PartyRecord, candidates: Iterable[PartyRecord], config: MatchConfig = DEFAULT_CONFIG
) -> list[Match]:
    """Each candidate master's best score against `record`, best first (`ranked`)."""
    best_by_master: dict[str, Match] = {}
    for candidate in candidates:
        match = score(record, candidate, config)
        known = best_by_master.get(match.master_id)
        if known is None or ranked([match, known])[0] is match:
            best_by_master[match.master_id] = match
    return ranked(best_by_master.values())


def decide(
    record: PartyRecord, candidates: Iterable[PartyRecord], config: MatchConfig = DEFAULT_CONFIG
) -> MatchDecision:
    """The outcome for `record` against `candidates` (see the module docstring)."""
    return decision_of(record.party_id, ranked_matches(record, candidates, config), config)


def decision_of(party_id: str, order: list[Match], config: MatchConfig) -> MatchDecision:
    """The outcome of matches already ranked (`ranked_matches`)."""
    if not order:
        return MatchDecision(party_id, "new", None)
    best = order[0]
    runner_up = order[1].score if len(order) > 1 else None
    return MatchDecision(party_id, _outcome(best, runner_up, config), best, runner_up)


def _outcome(best: Match, runner_up: Decimal | None, config: MatchConfig) -> Outcome:
    if best.exact:
        return "exact"
    if best.score >= config.automatic_at:
        close = runner_up is not None and best.score - runner_up < config.ambiguity_margin
        return "review" if close else "automatic"
    return "review" if best.score >= config.review_at else "new"
