"""Bulk matching: rows of resellers as a distributor lists them (a CSV's dicts) matched
against the masters' blocking index, one at a time (`channelflow resellers match FILE`).

Each row gives one `BulkOutcome`: `exact` / `automatic` with the mapping the matcher
makes (a `ResellerAliasMapped`, automatic, with the score), `review` with the proposal for
the match queue (a `ResellerMatchProposed`: the candidates a person checks, each with its
score and reasons), `new`, or `invalid` with the line, field and reason. Each event's id is
derived from the file's name and the alias, so the same file sent again is recognised.
Rows are read lazily and each outcome is given back before the next row is read: memory
follows the masters (the index), never the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import NAMESPACE_URL, uuid5

from domain.party_matching import (
    DEFAULT_CONFIG,
    Match,
    MatchConfig,
    PartyRecord,
    decision_of,
    party_record,
    ranked_matches,
    reasons,
)
from projections.match_inputs import MATCHER, automatic_mapping, proposed_candidates
from projections.match_proposals import MAX_PROPOSED, Candidate
from projections.party_aliases import id_alias_key
from projections.party_index import BlockingIndex
from schemas.parties import ProposedMaster, ResellerAliasMapped, ResellerMatchProposed

#: the columns a row must have, and those it may
REQUIRED: Final = ("distributor_id", "reseller_id", "name", "country")
OPTIONAL: Final = ("postal_code", "address", "tax_id", "duns")


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What became of one row (`line`: its line in the file, the header being line 1)."""

    line: int
    distributor_id: str
    reseller_id: str
    outcome: str
    #: the candidates worth a look (exact, or at least `review_at`), best first
    candidates: tuple[Match, ...] = ()
    #: why the best scored as it did
    reasons: tuple[str, ...] = ()
    mapping: ResellerAliasMapped | None = None
    proposal: ResellerMatchProposed | None = None
    problem: str | None = None


class BadRow(ValueError):
    pass


def record_of(row: Mapping[str, str | None]) -> PartyRecord:
    """The row normalised for matching; `BadRow` names the field and the reason."""
    value = {name: (row.get(name) or "").strip() for name in (*REQUIRED, *OPTIONAL)}
    for name in REQUIRED:
        if not value[name]:
            raise BadRow(f"{name}: required")
    country = value["country"].upper()
    if len(country) != 2 or not country.isalpha():
        raise BadRow(f"country: {row['country']!r} is not an ISO 3166 alpha-2 code")
    duns = value["duns"] or None
    if duns is not None and not (len(duns) == 9 and duns.isdigit()):
        raise BadRow(f"duns: {duns!r} is not nine digits")
    return party_record(
        id_alias_key(value["distributor_id"], value["reseller_id"]), value["name"], country,
        value["postal_code"] or None, value["address"] or None, value["tax_id"] or None, duns,
    )  # fmt: skip


def match_rows(
    index: BlockingIndex,
    rows: Iterable[Mapping[str, str | None]],
    at: datetime,
    origin: str,
    config: MatchConfig = DEFAULT_CONFIG,
) -> Iterator[BulkOutcome]:
    """Each row's outcome in turn. `at`: when the mappings are made; `origin` (the file's
    name) is part of each mapping's reason and event id."""
    for line, row in enumerate(rows, start=2):
        distributor = (row.get("distributor_id") or "").strip()
        reseller = (row.get("reseller_id") or "").strip()
        try:
            record = record_of(row)
        except BadRow as problem:
            yield BulkOutcome(line, distributor, reseller, "invalid", problem=str(problem))
            continue
        order = ranked_matches(record, index.candidates(record), config)
        decision = decision_of(record.party_id, order, config)
        worth = tuple(
            match
            for match in order[:MAX_PROPOSED]
            if match.exact or match.score >= config.review_at
        )
        best = index.record(worth[0].master_id) if worth else None
        why = () if best is None else reasons(record, best, config)
        mapping = proposal = None
        if decision.outcome in ("exact", "automatic"):
            event_id = uuid5(NAMESPACE_URL, f"channelflow:bulk-match:{origin}:{record.party_id}")
            chosen = Candidate(worth[0].master_id, worth[0].score, why)
            mapping = automatic_mapping(
                distributor, reseller, chosen, f"bulk match of {origin}", at, event_id
            )
        elif decision.outcome == "review":
            proposed = proposed_candidates(index, record, order, config)
            proposal = bulk_proposal(distributor, reseller, record, proposed, at, origin)
        yield BulkOutcome(
            line, distributor, reseller, decision.outcome, worth, why, mapping, proposal
        )


def bulk_proposal(
    distributor_id: str,
    reseller_id: str,
    record: PartyRecord,
    proposed: tuple[Candidate, ...],
    at: datetime,
    origin: str,
) -> ResellerMatchProposed:
    """A review row's proposal for the match queue, by the `matcher`; its event id derived
    from the file's name and the alias (the mapping's from the same with another prefix)."""
    return ResellerMatchProposed(
        event_id=uuid5(NAMESPACE_URL, f"channelflow:bulk-proposal:{origin}:{record.party_id}"),
        occurred_at=at, source="api", distributor_id=distributor_id, alias_id=reseller_id,
        candidates=[
            ProposedMaster(master_id=c.master_id, score=c.score, reasons=list(c.reasons))
            for c in proposed
        ],
        proposed_by=MATCHER, reason=f"bulk match of {origin}", proposed_at=at,
    )  # fmt: skip
