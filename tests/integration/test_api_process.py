"""`channelflow api` beside a worker, on the real broker: the same answers as the worker's
own API, read from its databases as secondary instances; ingest through it reaches the
worker; it keeps answering while the worker is down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from schemas.codec import encode_event
from streams.auth import token_hash
from tests.integration.conftest import REPO, ApiProcess, WorkerProcess, wait_until
from tests.integration.helpers import (
    matches_replay,
    order_independent_channel,
    publish_reference_first,
)
from tests.unit.api.ingest_api import catalog, sale

pytestmark = pytest.mark.kafka

ADMIN, ACME = "admin-token", "acme-token"
#: how old an answer of the API process may be when served (its default is 5 s)
STALE_SECONDS = 2.0
TOKENS = json.dumps(
    [
        {"sha256": token_hash(ADMIN), "role": "admin", "actor": "vendor-ops"},
        {
            "sha256": token_hash(ACME),
            "role": "distributor",
            "actor": "acme",
            "distributor_id": "DIST-001",
        },
    ]
)


def same_answer(worker: WorkerProcess, api: WorkerProcess, path: str) -> Callable[[], Any]:
    def check() -> Any:
        mine = api.get(path, ADMIN)
        return mine if mine == worker.get(path, ADMIN) else None

    return check


def test_the_api_process_answers_as_the_worker_does_and_outlives_it(settings, worker_factory):
    env = {"CHANNELFLOW_TOKENS": TOKENS}
    worker = worker_factory(env=env).start()
    worker.token = ADMIN
    shared = {"CHANNELFLOW_API_STALE_SECONDS": str(STALE_SECONDS), **env}
    api = ApiProcess(settings, worker.log_path.with_name("api.log"), shared).start()
    try:
        events = order_independent_channel(seed=3)
        publish_reference_first(settings, worker, events)
        live = matches_replay(settings, worker)
        assert live["inventory"] and live["violations"] and live["rebates"]
        for path in (
            "/api/snapshot",
            "/api/inventory/summary",
            "/api/violations?limit=5",
            "/api/rebates",
            "/api/compliance",
        ):
            wait_until(same_answer(worker, api, path), 30, f"the API process's {path}")
        assert api.get("/health")["partitions"]["missing"] == []

        # ingest through the API process: published, applied by the worker, seen by both
        products = [orjson.loads(encode_event(p)) for p in catalog()]
        status, answer = api.post("/api/ingest/events", orjson.dumps(products), ADMIN)
        assert status == 200 and answer["summary"]["accepted"] == 2, answer
        wait_until(
            lambda: {"WIDGET-100"} <= {r["sku"] for r in api.get("/api/products", ADMIN)["rows"]},
            30,
            "the catalog in the API process",
        )
        status, answer = api.post("/api/ingest/events", orjson.dumps([sale("T-API-1")]), ACME)
        assert status == 200 and answer["summary"]["accepted"] == 1, answer
        path = "/api/inventory?distributor_id=DIST-001"
        rows = wait_until(lambda: api.get(path, ACME)["rows"], 30, "the sale in the API process")
        assert [(r["sku"], r["sell_through"]) for r in rows] == [("WIDGET-100", 3)]

        # the worker killed: the API process still answers with what was stored, computed
        # anew (past the answers' stale limit) from the databases the worker left
        def with_the_sale() -> Any:
            summary = api.get("/api/inventory/summary", ADMIN)
            return any(r["distributor_id"] == "DIST-001" for r in summary["rows"]) and summary

        before = wait_until(with_the_sale, 30, "the sale in the summary")
        worker.kill()
        time.sleep(STALE_SECONDS + 0.5)
        assert api.get("/api/inventory/summary", ADMIN) == before
    finally:
        api.kill()


def test_without_the_topics_it_says_so_and_exits(settings):
    """No silent wait for reference data that cannot come: a usage error naming the fix."""
    env = {
        **os.environ,
        "CHANNELFLOW_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CHANNELFLOW_TOPIC_PREFIX": settings.topic_prefix,  # nothing created under it
        "CHANNELFLOW_API_PORT": str(settings.api_port),
        "CHANNELFLOW_EVENTSTORE_URL": settings.eventstore_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "api"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert b"has no partitions; run `channelflow topics`" in done.stderr
    assert b"Traceback" not in done.stderr
