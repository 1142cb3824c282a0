"""As known at a moment, on the real broker: a live worker's snapshot taken at a moment is
what `replay --known-at` that moment derives after more events arrived, and `simulate`'s
"today's terms" column is the live accruals (now, and as known then)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.events import PriceChanged
from streams.cli.main import build_parser
from streams.cli.support import replay_of
from streams.config import Settings
from tests.integration.conftest import REPO, WorkerProcess, wait_until
from tests.integration.helpers import (
    matches_replay,
    order_independent_channel,
    publish,
    publish_reference_first,
    replayed_snapshot,
)

pytestmark = pytest.mark.kafka

PROGRAM = "VPA-2026-ST"
PROPOSAL = {
    "program_id": PROGRAM, "distributor_ids": "all", "basis": "sell_through",
    "measure": "revenue", "period": "quarter", "tier_mode": "retroactive", "currency": "USD",
    "tiers": [{"threshold": "0", "rate": "0.01"}, {"threshold": "100000", "rate": "0.03"}],
}  # fmt: skip


def kafka_flags(settings: Settings) -> list[str]:
    return ["--kafka", settings.kafka_bootstrap, "--prefix", settings.topic_prefix]


def known_at_replay(settings: Settings, known: datetime, jobs: int) -> dict[str, Any]:
    args = build_parser().parse_args(
        ["replay", "--from-kafka", *kafka_flags(settings), "--jobs", str(jobs),
         "--known-at", known.isoformat()]
    )  # fmt: skip
    return replay_of(args, None).snapshot


def settled(settings: Settings, worker: WorkerProcess) -> tuple[dict[str, Any], datetime]:
    """The live snapshot once it equals the replay of everything appended, and a moment
    after it at which it still held: a replay begun after that moment holds every record
    the broker appended by then, so if it still equals the live snapshot, nothing recorded
    by then changes it (a period close the worker published in between makes it try
    again)."""
    while True:
        live = matches_replay(settings, worker)
        known = datetime.now(UTC)
        if replayed_snapshot(settings) == live:
            return live, known


def simulated(settings: Settings, program: Path, *flags: str) -> dict[tuple[str, str], str]:
    """simulate's "today's terms" column: (distributor, period) -> rebate."""
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", "--program", str(program), "--json",
         *kafka_flags(settings), *flags],
        cwd=REPO, capture_output=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    rows = orjson.loads(result.stdout)["rows"]
    return {(r["distributor_id"], r["period"]): r["today"]["rebate"] for r in rows if r["today"]}


def accruals(snapshot: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["distributor_id"], r["period"]): r["rebate"]
        for r in snapshot["rebates"]
        if r["program_id"] == PROGRAM
    }


def test_known_at_replay_and_simulation_match_the_live_worker(settings, worker_factory, tmp_path):
    events = order_independent_channel(seed=11, weeks=6)
    half = len(events) // 2
    worker = worker_factory().start()
    publish_reference_first(settings, worker, events[:half])
    then, known = settled(settings, worker)

    # prices before the sales they govern (docs/DESIGN.md, "Order of arrival"); waiting for
    # the worker to show them is no longer needed (the reference watermark,
    # test_reference_watermark_kafka.py), but harmless
    late_prices = [e for e in events[half:] if isinstance(e, PriceChanged)]
    known_prices = len(worker.get("/api/prices")["rows"])
    publish(settings, late_prices)
    wait_until(
        lambda: len(worker.get("/api/prices")["rows"]) >= known_prices + len(late_prices),
        60,
        "the worker to know the later prices",
    )
    publish(settings, [e for e in events[half:] if not isinstance(e, PriceChanged)])
    now = matches_replay(settings, worker)
    assert now["inventory"] != then["inventory"]
    assert accruals(now) != accruals(then)

    for jobs in (1, 2):
        assert known_at_replay(settings, known, jobs) == then

    program = tmp_path / "proposal.json"
    program.write_bytes(orjson.dumps(PROPOSAL))
    live = {
        (r["distributor_id"], r["period"]): r["rebate"]
        for r in worker.get(f"/api/rebates?program_id={PROGRAM}")["rows"]
    }
    assert live and simulated(settings, program, "--jobs", "2") == live
    assert simulated(settings, program, "--known-at", known.isoformat()) == accruals(then)
