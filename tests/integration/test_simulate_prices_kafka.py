"""`simulate --prices` over the real broker: today's column is the live worker's violations,
the proposal's is the history judged again under other floors, in one process or in jobs,
and nothing is published."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.events import PriceChanged
from streams.config import Settings
from streams.runners.kafka_replay import history_ends
from tests.integration.conftest import REPO
from tests.integration.helpers import (
    matches_replay,
    order_independent_channel,
    publish_reference_first,
)

pytestmark = pytest.mark.kafka


def simulated(settings: Settings, prices: Path, *flags: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "simulate", "--prices", str(prices), "--json",
         "--kafka", settings.kafka_bootstrap, "--prefix", settings.topic_prefix, *flags],
        cwd=REPO, capture_output=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    document: dict[str, Any] = orjson.loads(result.stdout)
    return document


def test_todays_column_is_the_live_violations_and_nothing_is_published(
    settings, worker_factory, tmp_path
):
    events = order_independent_channel(seed=3, weeks=4)
    worker = worker_factory().start()
    publish_reference_first(settings, worker, events)
    live = matches_replay(settings, worker)
    violations = Counter(row["distributor_id"] for row in live["violations"])
    assert violations

    doubled = [
        {"sku": p.sku, "distributor_cost": str(p.distributor_cost), "currency": p.currency,
         "floor_price": str(p.floor_price * 2), "effective_from": p.effective_from.isoformat()}
        for p in events
        if isinstance(p, PriceChanged) and p.distributor_id is None
    ]  # fmt: skip
    prices = tmp_path / "prices.json"
    prices.write_bytes(orjson.dumps(doubled))
    before = asyncio.run(history_ends(settings))
    documents = [simulated(settings, prices, "--jobs", jobs) for jobs in ("1", "2")]
    assert asyncio.run(history_ends(settings)) == before  # no raw topic got a message
    assert documents[0] == documents[1]
    rows = documents[0]["rows"]
    today = {r["distributor_id"]: r["violations"]["today"] for r in rows}
    assert {d: n for d, n in today.items() if n} == violations
    assert all(r["violations"]["proposed"] > r["violations"]["today"] for r in rows)
    assert all(side["difference"] == "0.00" for r in rows for side in r["rebate"].values())
