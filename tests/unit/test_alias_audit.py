"""Each mapping step of an alias recorded in its `PartyAlias` audit aggregate (docs/IDENTITY.md,
"Audit chain"): `audit history alias` shows who mapped what and why, a resend records
nothing twice, a refusal records nothing, and a replay of the same lines records the same
events, sealed in the hash chain."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import orjson

from domain.alias_mapping import PartyAlias, alias_aggregate_id
from streams.audit.lineage import lineage
from streams.audit.pack import export_pack
from streams.audit.trail import history
from streams.audit.verify import audit_differences
from streams.runners.embedded import EmbeddedChannel
from tests.unit.channel_cases import replayed_file
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
    replay = replayed_file(tmp_path, [e for run in runs for e in run])
    for reference in ("D1/R1", "D1/R1B", "D2/X9"):
        assert steps(replay, reference) == steps(live, reference)
    assert replay.audit.verify_chain().verified


# --- the audit pack and verify ------------------------------------------------------------

AUTOMATIC = mapped("D1", "R2", "M2", n=107, changed_by="matcher", automatic=True,
                   score=Decimal("95.53"), reason="name and postal code")  # fmt: skip
RUNS = (NETWORK, MASTERS, MERGE, UNMERGE[:1], [AUTOMATIC])


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_audit_pack_proves_every_mapping(tmp_path: Path) -> None:
    """Every step was taken on July 1: the Q3 pack holds the four aliases, each step with
    who, why and its seal on the chain whose head the manifest names."""
    live = fed(*RUNS)
    manifest = export_pack(live.audit, tmp_path, "2026-Q3", None, live.stores)
    assert manifest["chain_verified"] and manifest["counts"]["aliases"] == 4
    assert {row["alias_key"]: (row["master_id"], row["steps"]) for row in rows(
        tmp_path / "aliases.csv"
    )} == {
        "id|D1|R1": ("", "2"), "id|D1|R1B": ("M1", "1"), "id|D1|R2": ("M2", "1"),
        "id|D2|X9": ("M1", "1"),
    }  # fmt: skip
    steps = [
        (s["alias_key"], s["action"], s["master_id"], s["by"], s["automatic"], s["score"])
        for s in rows(tmp_path / "alias_steps.csv")
    ]
    assert steps == [
        ("id|D1|R1", "mapped", "M1", "ops-ana", "false", ""),
        ("id|D1|R1", "unmapped", "M1", "ops-ana", "", ""),
        ("id|D1|R1B", "mapped", "M1", "ops-ana", "false", ""),
        ("id|D1|R2", "mapped", "M2", "matcher", "true", "95.53"),
        ("id|D2|X9", "mapped", "M1", "ops-ana", "false", ""),
    ]
    pack = orjson.loads((tmp_path / "audit_pack.json").read_bytes())
    positions = {e["seal"]["position"] for entry in pack["aliases"] for e in entry["events"]}
    assert len(positions) == 4 + 5 and max(positions) <= manifest["head_position"]
    sources = [s for s in rows(tmp_path / "source_lines.csv") if s["kind"] == "alias"]
    assert [s["event_id"] for s in sources][:2] == [
        str(MERGE[0].event_id), str(UNMERGE[0].event_id),
    ]  # fmt: skip


def test_the_pack_holds_the_aliases_mapped_by_the_periods_end(tmp_path: Path) -> None:
    live = fed(*RUNS)
    assert export_pack(live.audit, tmp_path / "q2", "2026-Q2", None)["counts"]["aliases"] == 0
    export_pack(live.audit, tmp_path / "d2", "2026-Q3", "D2")
    assert [row["alias_key"] for row in rows(tmp_path / "d2" / "aliases.csv")] == ["id|D2|X9"]


def test_verify_audit_compares_the_alias_records(tmp_path: Path) -> None:
    """A replay derives each alias record: alike in the store, verified; a store that
    missed the unmapping of R1 differs on that record, named."""
    replay = replayed_file(tmp_path, [e for run in RUNS for e in run])
    verified, differences = audit_differences(replay.audit, fed(*RUNS).audit)
    assert differences == [] and verified >= 4
    missed = fed(NETWORK, MASTERS, MERGE, [AUTOMATIC])
    _, differences = audit_differences(replay.audit, missed.audit)
    where = f"PartyAlias {alias_aggregate_id('id|D1|R1')}"
    assert {d.where for d in differences} == {f"{where} master_id", f"{where} step_events"}
