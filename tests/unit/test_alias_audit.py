"""Each mapping step of an alias recorded in its `PartyAlias` audit aggregate (docs/IDENTITY.md,
"Audit chain"): `audit history alias` shows who mapped what and why, a resend records
nothing twice, a refusal records nothing, and a replay of the same lines records the same
events, sealed in the hash chain."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from domain.alias_mapping import PartyAlias, alias_aggregate_id
from schemas.codec import encode_event
from streams.audit.lineage import lineage
from streams.audit.trail import history
from streams.runners.embedded import EmbeddedChannel, file_inputs
from tests.unit.party_events import mapped, unmapped
from tests.unit.test_identity_wiring import MASTERS, MERGE, NETWORK, UNMERGE, fed


def steps(channel: EmbeddedChannel, reference: str) -> list[tuple[str, str, str, str | None]]:
    events = history(channel.audit, "alias", reference)["events"]
    return [(e["what"], e["who"], e["why"], e["data"].get("master_id")) for e in events]


def test_audit_history_shows_who_mapped_what_and_why() -> None:
    automatic = mapped("D1", "R2", "M2", n=107, changed_by="matcher", automatic=True,
                       score=Decimal("95.53"), reason="name and postal code")  # fmt: skip
    channel = fed(NETWORK, MASTERS, MERGE, UNMERGE[:1], [automatic])
    assert steps(channel, "D1/R1") == [
        ("Opened", "channelflow", "the alias's first mapping step", None),
        ("Mapped", "ops-ana", "same tax id on the onboarding form", "M1"),
        ("Unmapped", "ops-ana", "two shops of one owner, not one reseller", "M1"),
    ]
    [*_, step] = history(channel.audit, "alias", "id|D1|R2")["events"]
    assert (step["who"], step["data"]["automatic"], step["data"]["score"]) == (
        "matcher", True, "95.53",
    )  # fmt: skip
    alias: object = channel.audit.repository.get(alias_aggregate_id("id|D1|R1"))
    assert isinstance(alias, PartyAlias) and alias.master_id is None
    document = lineage(channel.audit, channel.stores, "alias", "D1/R1")
    assert [s["event_id"] for s in document["sources"]] == [
        str(MERGE[0].event_id), str(UNMERGE[0].event_id),
    ]  # fmt: skip


def test_resends_and_refusals_record_nothing() -> None:
    channel = fed(NETWORK, MASTERS, MERGE, MERGE, [mapped("D1", "R1", "M2", n=104)])
    assert [what for what, *_ in steps(channel, "D1/R1")] == ["Opened", "Mapped"]
    channel.feed_events([unmapped("D1", "R2", "M1", n=205)])  # never mapped: refused
    assert [letter.reason for letter in channel.dead_letters] == [
        "conflicting_mapping", "alias_not_mapped",
    ]  # fmt: skip
    assert channel.audit.chain.recorded_among([alias_aggregate_id("id|D1|R2")]) == set()


def test_a_replay_records_the_same_events(tmp_path: Path) -> None:
    runs = (NETWORK, MASTERS, MERGE, UNMERGE[:1], [mapped("D1", "R1", "M2", n=106)])
    live = fed(*runs)
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"".join(encode_event(e) + b"\n" for run in runs for e in run))
    replay = EmbeddedChannel()
    replay.feed(file_inputs(path))
    for reference in ("D1/R1", "D1/R1B", "D2/X9"):
        assert steps(replay, reference) == steps(live, reference)
    assert replay.audit.verify_chain().verified
