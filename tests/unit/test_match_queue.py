"""The match step through the embedded runner: an onboarded reseller mapped automatically,
proposed for review or left its own (docs/IDENTITY.md's worked examples), a proposal
confirmed or rejected, only masters recorded before the onboarding considered, and a
replay (in any order of distinct resellers) equal to live."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.match_inputs import MATCHER
from projections.party_reads import proposal_rows
from projections.snapshot import reseller_growth_of
from schemas.events import Envelope, ResellerOnboarded
from schemas.parties import ResellerMatchRejected
from streams.audit.trail import history
from streams.runners.embedded import EmbeddedChannel
from tests.unit.channel_cases import replayed_file
from tests.unit.party_events import AT, mapped, registered, unmapped

LATER = AT + timedelta(days=1)
M1 = registered("M1", "Acme Tools Inc.", n=1, address="1 Market Street", recorded_at=AT)
M2 = registered("M2", "Zeta Audio Systems", n=2, postal_code="10115", country="DE")


def onboarding(n: int, reseller: str, name: str, **place: Any) -> ResellerOnboarded:
    at = place.pop("at", LATER)
    return ResellerOnboarded(
        event_id=UUID(int=500 + n, version=4), occurred_at=at, recorded_at=at, source="api",
        distributor_id="D1", reseller_id=reseller, name=name, onboarded_at=at, **place,
    )  # fmt: skip


EXACT = onboarding(1, "R1", "ACME TOOLS LLC", country="US", postal_code="94105-1804",
                   address="1 Market St.")  # fmt: skip
TYPO = onboarding(2, "R2", "Acme Tols", country="US", postal_code="94107")
OTHER = onboarding(3, "R3", "Zeta Audio", country="US", postal_code="94105")
NOWHERE = onboarding(4, "R4", "Acme Tools")  # no country: nothing to match on


def rejected(alias_id: str, n: int = 700) -> ResellerMatchRejected:
    return ResellerMatchRejected(
        event_id=UUID(int=n, version=4), occurred_at=LATER, source="api", distributor_id="D1",
        alias_id=alias_id, changed_by="ops-ana", reason="another shop of the owner",
        changed_at=LATER,
    )  # fmt: skip


def fed(*events: Envelope) -> EmbeddedChannel:
    channel = EmbeddedChannel()
    for event in events:
        channel.feed_events([event])
    return channel


def test_above_the_threshold_the_reseller_is_mapped_by_the_matcher_with_its_score() -> None:
    channel = fed(M1, M2, EXACT)
    alias = channel.stores.party_aliases.get("id|D1|R1")
    assert alias is not None and alias.master_id == "M1"
    [step] = alias.history
    assert (step.action, step.changed_by, step.automatic, str(step.score)) == (
        "mapped", MATCHER, True, "100.00",
    )  # fmt: skip
    assert "name 100.00" in step.reason and "same postal code" in step.reason
    assert proposal_rows(channel.stores) == []
    [*_, recorded] = history(channel.audit, "alias", "D1/R1")["events"]
    assert (recorded["who"], recorded["data"]["automatic"], recorded["data"]["master_id"]) == (
        MATCHER, True, "M1",
    )  # fmt: skip


def test_in_the_review_band_the_reseller_becomes_a_proposal_with_scores_and_reasons() -> None:
    channel = fed(M1, M2, TYPO)
    [row] = proposal_rows(channel.stores)
    assert (row["distributor_id"], row["alias_id"], row["status"]) == ("D1", "R2", "open")
    assert row["candidates"] == [
        {"master_id": "M1", "score": "88.03",
         "reasons": ["name 94.74", "postal 50 (same postal area)", "no address to compare"]},
    ]  # fmt: skip
    assert channel.stores.party_aliases.get("id|D1|R2") is None


def test_below_the_band_or_without_a_country_the_reseller_stays_its_own() -> None:
    channel = fed(M1, M2, OTHER, NOWHERE)
    assert proposal_rows(channel.stores) == []
    assert list(channel.stores.party_aliases.values()) == []


def test_confirming_maps_the_reseller_and_closes_the_proposal() -> None:
    confirm = mapped("D1", "R2", "M1", n=601, reason="same owner, checked by phone")
    channel = fed(M1, M2, EXACT, TYPO, confirm)
    [row] = proposal_rows(channel.stores)
    assert (row["status"], row["closed_by"], row["master_id"]) == ("confirmed", "ops-ana", "M1")
    assert row["closed_reason"] == "same owner, checked by phone"
    growth = [(r["month"], r["onboarded"]) for r in reseller_growth_of(channel.stores, "D1")]
    assert growth == [("2026-07", 1)]  # R1 (by the matcher) and R2 (confirmed) are M1
    alias = channel.stores.party_aliases.get("id|D1|R2")
    assert alias is not None and alias.master_id == "M1" and not alias.history[-1].automatic
    assert channel.dead_letters == []


def test_rejecting_closes_the_proposal_and_a_later_onboarding_does_not_reopen_it() -> None:
    again = onboarding(5, "R2", "Acme Tols", country="US", postal_code="94107",
                       at=LATER + timedelta(days=1))  # fmt: skip
    channel = fed(M1, M2, TYPO, rejected("R2"), rejected("R2"), again)
    [row] = proposal_rows(channel.stores)
    assert (row["status"], row["closed_by"], row["event_id"]) == (
        "rejected", "ops-ana", str(TYPO.event_id),
    )  # fmt: skip
    assert channel.dead_letters == []  # the resent rejection changes nothing
    channel.feed_events([rejected("R2", n=701), rejected("R9", n=702)])
    assert [letter.reason for letter in channel.dead_letters] == ["proposal_not_open"] * 2
    assert "no open match proposal" in (channel.dead_letters[0].detail or "")


def test_the_matcher_does_not_overrule_a_person_who_undid_a_mapping() -> None:
    undo = unmapped("D1", "R1", "M1", n=602, changed_at=LATER)
    again = onboarding(6, "R1", "ACME TOOLS LLC", country="US", postal_code="94105",
                       at=LATER + timedelta(days=2))  # fmt: skip
    channel = fed(M1, EXACT, undo, again)
    alias = channel.stores.party_aliases.get("id|D1|R1")
    assert alias is not None and alias.master_id is None
    assert [step.action for step in alias.history] == ["mapped", "unmapped"]


def test_a_master_recorded_after_the_onboarding_is_no_candidate_in_live_or_replay() -> None:
    late = registered("M3", "Acme Tols Co", n=3, recorded_at=LATER + timedelta(hours=1))
    early_first = fed(late, M2, TYPO)  # read first, recorded later: as live saw it
    assert proposal_rows(early_first.stores) == []
    assert fed(M2, TYPO, late).snapshot(LATER) == early_first.snapshot(LATER)


def test_a_replay_of_the_same_lines_equals_live(tmp_path: Path) -> None:
    events: list[Envelope] = [
        M1, M2, EXACT, TYPO, OTHER, rejected("R2"),
        onboarding(7, "R7", "Acme Tool", country="US", postal_code="94109"),
        mapped("D1", "R7", "M1", n=603),
    ]  # fmt: skip
    live = fed(*events)
    replay = replayed_file(tmp_path, events)
    assert replay.snapshot(LATER) == live.snapshot(LATER)
    statuses = [(r["alias_id"], r["status"]) for r in live.snapshot(LATER)["match_proposals"]]
    assert statuses == [("R2", "rejected"), ("R7", "confirmed")]


NAMES = ["Acme Tools", "Acme Tols", "Acme Tool Corp", "Zeta Audio", "Acme Toolz", "Acne Tools"]


@settings(max_examples=25)
@given(st.permutations(list(range(len(NAMES)))))
def test_distinct_resellers_give_the_same_mappings_and_queue_in_any_order(
    order: list[int],
) -> None:
    arrivals = [
        onboarding(10 + i, f"R{i}", NAMES[i], country="US", postal_code=f"9410{i % 3}")
        for i in range(len(NAMES))
    ]
    reference = fed(M1, M2, *arrivals).snapshot(LATER)
    shuffled = fed(M1, M2, *(arrivals[i] for i in order)).snapshot(LATER)
    for section in ("party_aliases", "match_proposals"):
        assert shuffled[section] == reference[section]
    assert reference["match_proposals"]  # the band is exercised
    assert any(row["master_id"] for row in reference["party_aliases"])


def test_the_index_follows_the_masters_as_they_arrive_and_are_corrected() -> None:
    renamed = registered("M1", "Omega Tools", n=9, registered_at=AT + timedelta(hours=1))
    channel = fed(M1, renamed, EXACT)
    assert channel.stores.party_aliases.get("id|D1|R1") is None  # no longer that name
    record = channel.stores.masters.index.record("M1")  # type: ignore[attr-defined]
    assert record is not None and record.name == "omega tools"


def test_an_automatic_mapping_of_a_bulk_match_closes_the_proposal_too() -> None:
    automatic = mapped("D1", "R2", "M1", n=604, automatic=True, score="95.00",
                       changed_by="matcher")  # fmt: skip
    again = mapped("D1", "R2", "M1", n=605, reason="checked")  # means M1 already: no change
    channel = fed(M1, M2, TYPO, automatic, again)
    [row] = proposal_rows(channel.stores)
    assert (row["status"], row["closed_by"], row["master_id"]) == ("confirmed", "matcher", "M1")
    assert channel.dead_letters == []


def test_a_later_onboarding_mapped_automatically_closes_the_proposal_of_an_earlier_one() -> None:
    better = onboarding(8, "R2", "Acme Tools", country="US", postal_code="94105",
                        at=LATER + timedelta(days=1))  # fmt: skip
    channel = fed(M1, M2, TYPO, better)
    [row] = proposal_rows(channel.stores)
    assert (row["status"], row["closed_by"], row["master_id"]) == ("confirmed", MATCHER, "M1")
    alias = channel.stores.party_aliases.get("id|D1|R2")
    assert alias is not None and alias.master_id == "M1" and alias.history[0].automatic
