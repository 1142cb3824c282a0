"""`channelflow simulate` over a file: today's column is the replay's accruals (with
`--prices`: its violations); bad program and price files are one-line usage errors."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson

from schemas.codec import encode_event
from schemas.events import PriceChanged
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


def test_a_proposed_price_list_beside_todays_prices(tmp_path):
    channel = generate_channel(seed=4)
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(encode_event(e) + b"\n" for e in channel))
    listed = [e for e in channel if isinstance(e, PriceChanged) and e.distributor_id is None]
    raised = [
        {"sku": p.sku, "distributor_cost": str(p.distributor_cost), "currency": p.currency,
         "floor_price": str(p.floor_price * 2), "effective_from": p.effective_from.isoformat()}
        for p in listed
    ]  # fmt: skip
    prices = tmp_path / "prices.json"
    prices.write_bytes(orjson.dumps(raised))
    replayed = orjson.loads(run("replay", "--events", str(events)).stdout)
    live = Counter(row["distributor_id"] for row in replayed["violations"])
    documents = []
    for jobs in ("1", "2"):
        result = run("simulate", "--prices", str(prices), "--events", str(events), "--json",
                     "--jobs", jobs)  # fmt: skip
        assert result.returncode == 0, result.stderr.decode()
        documents.append(orjson.loads(result.stdout))
    assert documents[0] == documents[1]  # the same figures however many jobs
    rows = documents[0]["rows"]
    assert {
        r["distributor_id"]: r["violations"]["today"] for r in rows if r["violations"]["today"]
    } == live
    for row in rows:  # every floor doubled: more lines below it, the rebates as they were
        assert row["violations"]["proposed"] > row["violations"]["today"]
        assert all(side["difference"] == "0.00" for side in row["rebate"].values())
    table = run("simulate", "--prices", str(prices), "--events", str(events)).stdout.decode()
    assert table.splitlines()[0].split()[:4] == ["distributor", "violations", "proposed", "diff"]


def test_a_bad_price_file_names_the_entry_and_the_field(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"")
    prices = tmp_path / "prices.json"
    good = {"sku": "SKU-1", "distributor_cost": "1.00", "floor_price": "2.00", "currency": "USD",
            "effective_from": "2026-07-01T00:00:00Z"}  # fmt: skip
    prices.write_bytes(orjson.dumps([good, {**good, "sku": "SKU-2", "floor_price": "two"}]))
    result = run("simulate", "--prices", str(prices), "--events", str(events))
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert b"entry 2 (sku SKU-2): floor_price" in result.stderr
    alone = run("simulate", "--program", str(prices), "--instead", "--events", str(events))
    assert alone.returncode == 2 and b"--instead goes with --prices" in alone.stderr
    both = run("simulate", "--program", str(prices), "--prices", str(prices))
    assert both.returncode == 2
