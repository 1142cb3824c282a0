"""`channelflow simulate` over a file: today's column is the replay's accruals; bad
program files are one-line usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from schemas.codec import encode_event
from streams.generator import generate_channel

REPO = Path(__file__).resolve().parents[3]
PROPOSAL = {
    "program_id": "VPA-2026-ST", "distributor_ids": "all", "basis": "sell_through",
    "measure": "revenue", "period": "quarter", "tier_mode": "retroactive", "currency": "USD",
    "tiers": [{"threshold": "0", "rate": "0.01"}, {"threshold": "100000", "rate": "0.03"}],
}  # fmt: skip


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args], cwd=REPO, capture_output=True, timeout=300
    )


def test_today_is_the_replayed_accrual_and_the_proposal_is_priced_beside_it(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(encode_event(e) + b"\n" for e in generate_channel(seed=4)))
    program = tmp_path / "proposal.json"
    program.write_bytes(orjson.dumps(PROPOSAL))
    replayed = orjson.loads(run("replay", "--events", str(events)).stdout)
    live = {
        (r["distributor_id"], r["period"]): r["rebate"]
        for r in replayed["rebates"]
        if r["program_id"] == "VPA-2026-ST"
    }
    for jobs in ("1", "2"):
        result = run("simulate", "--program", str(program), "--events", str(events), "--json",
                     "--jobs", jobs)  # fmt: skip
        assert result.returncode == 0, result.stderr.decode()
        document = orjson.loads(result.stdout)
        rows = document["rows"]
        assert {(r["distributor_id"], r["period"]): r["today"]["rebate"] for r in rows} == live
        for row in rows:
            volume = row["proposed"]["volume"]
            rate = "0.03" if float(volume) >= 100000 else "0.01"
            assert row["proposed"]["tier_rate"] == rate
    table = run("simulate", "--program", str(program), "--events", str(events)).stdout.decode()
    assert table.splitlines()[0].split()[:2] == ["distributor", "period"]
    assert "total" in table


def test_a_bad_program_file_is_a_usage_error(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"")
    program = tmp_path / "proposal.json"
    program.write_bytes(orjson.dumps({**PROPOSAL, "tiers": [{"threshold": "0", "rate": "2"}]}))
    result = run("simulate", "--program", str(program), "--events", str(events))
    assert result.returncode == 2
    assert b"rate" in result.stderr and b"Traceback" not in result.stderr
    missing = run("simulate", "--program", str(tmp_path / "nope.json"), "--events", str(events))
    assert missing.returncode == 2


def test_a_period_that_is_no_period_key_is_a_usage_error(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"")
    program = tmp_path / "proposal.json"
    program.write_bytes(orjson.dumps(PROPOSAL))
    result = run(
        "simulate", "--program", str(program), "--events", str(events), "--period", "2026Q3"
    )
    assert result.returncode == 2
    assert b"2026Q3" in result.stderr and b"Traceback" not in result.stderr
