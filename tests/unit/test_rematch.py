"""Re-matching when a master arrives later (docs/IDENTITY.md, "Match queue"): a reseller the
matcher left unmapped is mapped or proposed once a master it matches is registered, at the
distributor's next input recorded after the master, as its onboarding would have been; a
person's decision stands; only the waiting resellers sharing a block with the master are
read; a replay (every master read first) equals live, wherever the master arrived.

D1 onboards R1 "ACME TOOLS LLC" (94105) and R2 "Acme Tols" (94107) on July 2 (LATER), when
only M2 (Zeta Audio Systems, DE) is known: neither matches. M1 "Acme Tools Inc." (94105) is
first recorded an hour later: R1 scores 100.00 against it (automatic), R2 88.03 (review)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid5

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.party_matching import party_record
from projections.match_inputs import MATCHER
from projections.party_index import BlockingConfig
from projections.party_reads import proposal_rows
from projections.rematch import REMATCH_NAMESPACE
from projections.stores import ChannelStores
from projections.waiting_resellers import WaitingReseller, sharing_a_block, wait
from schemas.events import Envelope
from streams.audit.trail import history
from streams.runners.embedded import EmbeddedChannel
from tests.unit.channel_cases import replayed_file
from tests.unit.party_events import mapped, registered
from tests.unit.test_match_queue import LATER, M2, fed, onboarding

HOUR = timedelta(hours=1)
R1 = onboarding(31, "R1", "ACME TOOLS LLC", country="US", postal_code="94105")
R2 = onboarding(32, "R2", "Acme Tols", country="US", postal_code="94107")
LATE_M1 = registered("M1", "Acme Tools Inc.", n=41, postal_code="94105", recorded_at=LATER + HOUR)


def next_input(n: int, at: datetime) -> Envelope:
    """D1's next input (an onboarding matching nothing), recorded at `at`."""
    return onboarding(n, f"R{n}", "Quux Lighting", country="US", postal_code="10001", at=at)


def master_of(channel: EmbeddedChannel, reseller_id: str) -> str | None:
    alias = channel.stores.party_aliases.get(f"id|D1|{reseller_id}")
    return None if alias is None else alias.master_id


def test_a_later_master_maps_the_waiting_reseller_at_the_distributors_next_input() -> None:
    channel = fed(M2, R1, LATE_M1)
    assert master_of(channel, "R1") is None  # no input of D1 since the master
    channel.feed_events([next_input(50, LATER + 2 * HOUR)])
    alias = channel.stores.party_aliases.get("id|D1|R1")
    assert alias is not None and alias.master_id == "M1"
    [step] = alias.history
    assert (step.changed_by, step.automatic, str(step.score), step.changed_at) == (
        MATCHER, True, "100.00", LATER + HOUR,
    )  # fmt: skip
    assert step.event_id == str(uuid5(REMATCH_NAMESPACE, f"{R1.event_id}|M1"))
    assert step.reason.startswith("matched when master M1 was registered: name 100.00")
    [*_, recorded] = history(channel.audit, "alias", "D1/R1")["events"]
    assert (recorded["what"], recorded["who"]) == ("Mapped", MATCHER)
    waiting = {key.rsplit("|", 1)[1] for key, _ in channel.stores.waiting_resellers.scan("D1|")}
    assert waiting == {"R50"}  # R1 mapped: it waits no more


def test_a_later_master_in_the_review_band_raises_a_proposal() -> None:
    channel = fed(M2, R2, LATE_M1, next_input(50, LATER + 2 * HOUR))
    [row] = proposal_rows(channel.stores)
    assert (row["alias_id"], row["status"], row["proposed_at"]) == (
        "R2",
        "open",
        "2026-07-02T09:00:00Z",
    )
    assert [(c["master_id"], c["score"]) for c in row["candidates"]] == [("M1", "88.03")]
    assert master_of(channel, "R2") is None


def test_a_persons_mapping_before_the_master_arrived_stands() -> None:
    person = mapped("D1", "R1", "M2", n=601, changed_at=LATER)
    channel = fed(M2, R1, person, LATE_M1, next_input(50, LATER + 2 * HOUR))
    alias = channel.stores.party_aliases.get("id|D1|R1")
    assert alias is not None and alias.master_id == "M2" and len(alias.history) == 1


def test_a_master_recorded_before_the_onboarding_is_not_matched_again() -> None:
    """M1 known before R2 was onboarded: R2's onboarding proposed it; a later input
    changes nothing (the mark starts at the onboarding)."""
    early = registered("M1", "Acme Tools Inc.", n=41, postal_code="94105", recorded_at=LATER - HOUR)
    once = fed(early, M2, R2)
    twice = fed(early, M2, R2, next_input(50, LATER + 2 * HOUR))
    assert proposal_rows(twice.stores) == proposal_rows(once.stores)


def test_only_the_resellers_sharing_a_block_are_read() -> None:
    """Three waiting resellers named "... Tools": in the master's postal block (941) two,
    in the rare-word block `w|US|tools` all three, which is over max_block (2): left out,
    as matching leaves out a common word."""
    stores = ChannelStores()
    config = BlockingConfig(max_block=2)
    for n, (name, postal) in enumerate(
        [
            ("Acme Tools", "94105"),
            ("Best Tools", "94110"),
            ("Core Tools", "10001"),
            ("Zeta Audio", "94105"),
        ]
    ):
        record = party_record(f"id|D1|R{n}", name, "US", postal)
        wait(stores, WaitingReseller("D1", f"R{n}", record, LATER, LATER, f"ev{n}", "api"), config)
    master = party_record("M1", "Acme Tools Inc.", "US", "94199")
    found = [w.reseller_id for w in sharing_a_block(stores, "D1", master, config)]
    assert found == ["R0", "R1"]
    assert [w.reseller_id for w in sharing_a_block(stores, "D2", master, config)] == []


def test_a_replay_equals_live(tmp_path: Path) -> None:
    events: list[Envelope] = [M2, R1, R2, LATE_M1, next_input(50, LATER + 2 * HOUR)]
    live = fed(*events)
    replay = replayed_file(tmp_path, events)
    assert replay.snapshot(LATER) == live.snapshot(LATER)
    assert master_of(live, "R1") == "M1" and proposal_rows(live.stores)
    assert steps(replay) == steps(live)


def steps(channel: EmbeddedChannel) -> list[tuple[str, dict[str, object]]]:
    """R1's recorded steps: what, and their data (when each was stored differs)."""
    return [(e["what"], e["data"]) for e in history(channel.audit, "alias", "D1/R1")["events"]]


NAMES = ["Acme Tools", "Acme Tols", "Acme Tool Corp", "Zeta Audio", "Acme Toolz", "Acne Tools"]


@settings(max_examples=25)
@given(st.integers(min_value=0, max_value=len(NAMES)), st.booleans())
def test_wherever_the_master_arrives_live_equals_a_replay_reading_it_first(
    arrives_after: int, corrected: bool
) -> None:
    """D1's inputs an hour apart; M1 recorded just after the `arrives_after`-th of them. Live
    reads it then; a replay reads it before every input: the same mappings and queue."""
    inputs = [
        onboarding(60 + i, f"R{i}", NAMES[i], country="US", postal_code=f"9410{i % 3}",
                   at=LATER + i * HOUR)
        for i in range(len(NAMES))
    ] + [next_input(90, LATER + 10 * HOUR)]  # fmt: skip
    at = LATER + arrives_after * HOUR - HOUR / 2
    master = registered("M1", "Acme Tools Inc.", n=41, postal_code="94105", recorded_at=at)
    masters = [M2, master]
    if corrected:  # a correction later on: its first recorded time stands
        masters.append(registered("M1", "Acme Tools Inc.", n=42, postal_code="94105",
                                  registered_at=at + HOUR, recorded_at=at + HOUR))  # fmt: skip
    live_order = [M2, *inputs[:arrives_after], *masters[1:], *inputs[arrives_after:]]
    live = fed(*live_order).snapshot(LATER)
    replay = fed(*masters, *inputs).snapshot(LATER)
    for section in ("party_aliases", "match_proposals"):
        assert replay[section] == live[section]
    assert any(row["master_id"] == "M1" for row in live["party_aliases"])
