"""`replay --jobs N` from a file: the same snapshot byte for byte as one process, and the
same audit facts (streams/replay_jobs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from domain.rebate_statement import RebateStatement
from infra.eventstore import AuditLog
from schemas.codec import bundle_bytes, encode_event
from streams.audit.verify import audit_differences
from streams.cli.main import build_parser
from streams.cli.support import Replay, as_of, replay_of
from streams.kafka.io import kafka_partition_of
from tests.parallel_channel import awkward_history, late_sale

REPO = Path(__file__).resolve().parents[3]


def replay(path: Path, jobs: int, *flags: str) -> Replay:
    args = build_parser().parse_args(["replay", "--events", str(path), "--jobs", str(jobs), *flags])
    return replay_of(args, as_of(args.as_of))


def job_of(distributor: str) -> int:
    return kafka_partition_of(distributor, 2)


def same_facts(mine: AuditLog, theirs: AuditLog) -> int:
    """How many facts both stores hold alike (each checked both ways)."""
    verified, differences = audit_differences(mine, theirs)
    assert differences == []
    assert audit_differences(theirs, mine) == (verified, [])
    return verified


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Replay]:
    path = tmp_path_factory.mktemp("replay") / "awkward.jsonl"
    path.write_bytes(b"\n".join(awkward_history()) + b"\n")
    return path, replay(path, 1)


def test_the_awkward_history_has_what_the_jobs_must_agree_on(awkward):
    _, one = awkward
    snapshot = one.snapshot
    reasons = {row["reason"] for row in snapshot["dead_letters"]}
    assert {"invalid_json", "schema_violation", "invalid_program", "invalid_bundle",
            "overlapping_agreement"} <= reasons  # fmt: skip
    agreements = {(r["distributor_id"], r["version_id"]) for r in snapshot["agreements"]}
    assert agreements == {(d, v) for d in ("D0", "D01", "D01-B", "D02") for v in ("AG-1", "M1")}
    assert snapshot["inventory_aging"]
    assert {"D0", "D01", "D01-B"} <= {row["distributor_id"] for row in snapshot["quality"]}
    assert snapshot["violations"] and snapshot["price_protection"]
    closed = {(r["program_id"], r["period"], r["distributor_id"]) for r in snapshot["rebates"]
              if r["status"] == "closed"}  # fmt: skip
    assert {("VPA-2026-ST", "2026-Q3", "D0"), ("VPA-2026-SI", "2026-Q3", "D01")} <= closed
    audit = one.audit()
    aggregates = [audit.repository.get(i) for i in audit.aggregate_ids()]
    assert any(isinstance(a, RebateStatement) and a.adjustments for a in aggregates)


@pytest.mark.parametrize("jobs", [2, 3])
def test_jobs_give_one_process_snapshot_byte_for_byte_and_its_audit_facts(awkward, jobs):
    path, one = awkward
    many = replay(path, jobs)
    assert orjson.dumps(many.snapshot) == orjson.dumps(one.snapshot)
    assert same_facts(many.audit(), one.audit()) > 100


def test_an_as_of_replay_in_jobs_equals_one_process(awkward):
    path, _ = awkward
    flags = ("--as-of", "2026-08-20")
    one, two = replay(path, 1, *flags), replay(path, 2, *flags)
    assert orjson.dumps(two.snapshot) == orjson.dumps(one.snapshot)
    assert same_facts(two.audit(), one.audit()) > 0


def test_a_generated_channel_replays_alike_through_the_command_line(tmp_path):
    path = tmp_path / "channel.jsonl"
    run = [sys.executable, "-m", "streams.cli"]
    generated = subprocess.run([*run, "generate", "--out", str(path), "--weeks", "3"], cwd=REPO)
    assert generated.returncode == 0
    outputs = [
        subprocess.run(
            [*run, "replay", "--events", str(path), "--jobs", jobs],
            cwd=REPO,
            capture_output=True,
            timeout=300,
        )
        for jobs in ("1", "2")
    ]
    assert [o.returncode for o in outputs] == [0, 0], outputs[1].stderr.decode()
    assert len(outputs[0].stdout) > 10_000
    assert outputs[1].stdout == outputs[0].stdout
    assert outputs[1].stderr.splitlines()[-1] == outputs[0].stderr.splitlines()[-1]


def test_a_line_bundling_distributors_of_two_jobs_is_replayed_in_one_process(tmp_path, capsys):
    other = next(d for d in ("D02", "D03", "D04") if job_of(d) != job_of("D01"))
    mixed = bundle_bytes(
        [encode_event(late_sale("D01", 7, 1)), encode_event(late_sale(other, 8, 1))]
    )
    lines = awkward_history(weeks=2)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([*lines, mixed]) + b"\n")
    two = replay(path, 2)
    assert "replaying in one process" in capsys.readouterr().err
    assert orjson.dumps(two.snapshot) == orjson.dumps(replay(path, 1).snapshot)


def test_jobs_must_be_a_positive_number(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay", "--events", "x.jsonl", "--jobs", "0"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert b"expected a whole number of at least 1" in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_replay_closes_periods_after_the_workers_grace(awkward, monkeypatch, jobs):
    path, _ = awkward
    monkeypatch.setenv("CHANNELFLOW_REBATE_GRACE_DAYS", "3650")  # nothing closes by itself
    rows = replay(path, jobs).snapshot["rebates"]
    status = {(r["program_id"], r["period"], r["distributor_id"]): r["status"] for r in rows}
    assert status[("VPA-2026-SI", "2026-Q3", "D01")] != "closed"
