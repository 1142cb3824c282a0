"""A bulk match's review rows in the match queue: the `ResellerMatchProposed` each row gives
(its id derived from the file's name and the alias), raised by the same projection as an
onboarding's proposal, confirmed and rejected like one, a resend changing nothing, refused
once the id has a mapping step or a person closed its proposal, and a replay equal to live."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from projections.bulk_matching import match_rows
from projections.match_inputs import MATCHER
from projections.party_index import BlockingIndex
from projections.party_reads import proposal_rows
from schemas.events import Envelope
from schemas.parties import ResellerMatchProposed
from tests.unit.channel_cases import replayed_file
from tests.unit.party_events import mapped
from tests.unit.test_match_queue import LATER, M1, M2, TYPO, fed, onboarding, rejected

TYPO_ROW = {"distributor_id": "D1", "reseller_id": "R2", "name": "Acme Tols", "country": "US",
            "postal_code": "94107"}  # fmt: skip
EXACT_ROW = {"distributor_id": "D1", "reseller_id": "R1", "name": "ACME TOOLS LLC",
             "country": "US", "postal_code": "94105-1804", "address": "1 Market St."}  # fmt: skip


def proposals(*rows: dict[str, Any], origin: str = "resellers.csv") -> list[ResellerMatchProposed]:
    """The proposals of the review rows, as `channelflow resellers match` makes them."""
    index: BlockingIndex = fed(M1, M2).stores.masters.index  # type: ignore[attr-defined]
    outcomes = match_rows(index, rows, LATER, origin)
    return [outcome.proposal for outcome in outcomes if outcome.proposal is not None]


def test_a_review_row_gives_a_proposal_with_each_candidates_score_and_reasons() -> None:
    [proposal] = proposals(EXACT_ROW, TYPO_ROW)  # the exact row is a mapping, not a proposal
    assert (proposal.distributor_id, proposal.alias_id, proposal.proposed_by) == (
        "D1", "R2", MATCHER,
    )  # fmt: skip
    assert proposal.reason == "bulk match of resellers.csv"
    [candidate] = proposal.candidates
    assert (candidate.master_id, str(candidate.score), candidate.reasons) == (
        "M1", "88.03", ["name 94.74", "postal 50 (same postal area)", "no address to compare"],
    )  # fmt: skip
    assert proposals(TYPO_ROW)[0].event_id == proposal.event_id  # the same file: the same id
    assert proposals(TYPO_ROW, origin="other.csv")[0].event_id != proposal.event_id


def test_the_proposal_enters_the_queue_as_an_onboardings_does_and_a_resend_changes_nothing() -> (
    None
):
    [proposal] = proposals(TYPO_ROW)
    channel = fed(M1, M2, proposal, proposal)
    [row] = proposal_rows(channel.stores)
    assert (row["alias_id"], row["status"], row["event_id"]) == (
        "R2",
        "open",
        str(proposal.event_id),
    )
    assert row["candidates"] == [
        {"master_id": "M1", "score": "88.03",
         "reasons": ["name 94.74", "postal 50 (same postal area)", "no address to compare"]},
    ]  # fmt: skip
    assert channel.stores.party_aliases.get("id|D1|R2") is None and channel.dead_letters == []


def test_confirmed_it_maps_the_reseller_and_the_file_sent_again_changes_nothing() -> None:
    [proposal] = proposals(TYPO_ROW)
    confirm = mapped("D1", "R2", "M1", n=611, reason="same owner", changed_at=LATER)
    channel = fed(M1, M2, proposal, confirm, proposal)
    [row] = proposal_rows(channel.stores)
    assert (row["status"], row["closed_by"], row["master_id"]) == ("confirmed", "ops-ana", "M1")
    alias = channel.stores.party_aliases.get("id|D1|R2")
    assert alias is not None and alias.master_id == "M1" and len(alias.history) == 1
    assert channel.dead_letters == []


def test_rejected_it_stays_closed() -> None:
    [proposal] = proposals(TYPO_ROW)
    channel = fed(M1, M2, proposal, rejected("R2"), proposal)
    [row] = proposal_rows(channel.stores)
    assert (row["status"], row["closed_by"]) == ("rejected", "ops-ana")
    assert channel.dead_letters == []


def test_refused_once_the_id_has_a_mapping_step_or_a_person_closed_its_proposal() -> None:
    [proposal] = proposals(TYPO_ROW)
    [other_file] = proposals(TYPO_ROW, origin="again.csv")
    channel = fed(M1, M2, mapped("D1", "R2", "M2", n=612), proposal)
    assert proposal_rows(channel.stores) == []
    [letter] = channel.dead_letters
    assert letter.reason == "alias_decided" and "mapping step" in (letter.detail or "")
    closed = fed(M1, M2, TYPO, rejected("R2"), other_file)
    [row] = proposal_rows(closed.stores)
    assert (row["status"], row["event_id"]) == ("rejected", str(TYPO.event_id))
    assert [letter.reason for letter in closed.dead_letters] == ["alias_decided"]


def test_a_candidate_never_registered_is_refused() -> None:
    [proposal] = proposals(TYPO_ROW)
    channel = fed(M2, proposal)
    assert proposal_rows(channel.stores) == []
    assert [letter.reason for letter in channel.dead_letters] == ["unknown_master"]


def test_it_refreshes_an_onboardings_open_proposal_and_a_later_onboarding_refreshes_it() -> None:
    [proposal] = proposals(TYPO_ROW)
    [row] = proposal_rows(fed(M1, M2, TYPO, proposal).stores)
    assert (row["status"], row["event_id"]) == ("open", str(proposal.event_id))
    later = onboarding(9, "R2", "Acme Tols", country="US", postal_code="94107",
                       at=LATER + timedelta(days=1))  # fmt: skip
    [row] = proposal_rows(fed(M1, M2, proposal, later).stores)
    assert (row["status"], row["event_id"]) == ("open", str(later.event_id))


def test_a_candidate_is_proposed_once() -> None:
    [proposal] = proposals(TYPO_ROW)
    twice = proposal.model_dump()
    twice["candidates"] = [twice["candidates"][0]] * 2
    with pytest.raises(ValidationError, match="a master is proposed once"):
        ResellerMatchProposed(**twice)


def test_a_replay_of_the_same_lines_equals_live(tmp_path: Path) -> None:
    [proposal, other] = proposals(
        TYPO_ROW, {**TYPO_ROW, "reseller_id": "R8", "postal_code": "94108"}
    )
    events: list[Envelope] = [
        M1, M2, proposal, other, mapped("D1", "R2", "M1", n=613, changed_at=LATER),
        rejected("R8", n=614), proposal,
    ]  # fmt: skip
    live = fed(*events)
    replay = replayed_file(tmp_path, events)
    assert replay.snapshot(LATER) == live.snapshot(LATER)
    statuses = [(r["alias_id"], r["status"]) for r in live.snapshot(LATER)["match_proposals"]]
    assert statuses == [("R2", "confirmed"), ("R8", "rejected")]
