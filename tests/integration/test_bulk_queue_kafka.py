"""A bulk match's review row in the match queue, through Kafka and a worker on PostgreSQL:
`channelflow resellers match FILE` (an admin token) sends a row's automatic mapping and
another row's proposal (`ResellerMatchProposed`) through the worker's HTTP ingest; the
proposal is listed by `/api/resellers/proposals`, the channel manager confirms it over HTTP
and the reseller is mapped. The same file sent again changes nothing (no step, no dead
letter), and the replay of the raw topics equals live."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

import pytest

from streams.auth import token_hash
from streams.cli.main import main
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import (
    matches_replay,
    publish,
    publish_reference_first,
    token_workers,
)
from tests.unit.party_events import mapped
from tests.unit.test_identity_wiring import MASTERS

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ADMIN, MANAGER = "adm-token", "cm-token"
TOKENS = [
    {"sha256": token_hash(ADMIN), "role": "admin", "actor": "adm-kim"},
    {"sha256": token_hash(MANAGER), "role": "channel_manager", "actor": "cm-lee"},
]


def resellers_file(path: Path, distributor: str) -> Path:
    """X1: M1's name with a ZIP+4 (100, automatic); X2: "Acme Tols" in the next postal area
    (88.03, review)."""
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([
            ["distributor_id", "reseller_id", "name", "country", "postal_code"],
            [distributor, "X1", "ACME TOOLS LLC", "US", "94105-1804"],
            [distributor, "X2", "Acme Tols", "US", "94107"],
        ])  # fmt: skip
    return path


def aliases(worker: WorkerProcess, distributor: str) -> dict[str, Any]:
    rows = worker.get(f"/api/resellers/aliases?distributor_id={distributor}")["rows"]
    return {row["alias_id"]: row for row in rows}


def queue(worker: WorkerProcess, distributor: str, status: str) -> list[dict[str, Any]]:
    path = f"/api/resellers/proposals?distributor_id={distributor}&status={status}"
    return worker.get(path)["rows"]


def match(worker: WorkerProcess, source: Path, out: Path) -> int:
    return main(["resellers", "match", str(source), "--out", str(out), "--url", worker.url,
                 "--token", ADMIN])  # fmt: skip


def test_a_review_row_of_a_bulk_match_is_confirmed_from_the_queue_and_replays_equal(
    settings, worker_factory, pg_dsn, tmp_path: Path
):
    distributor = f"DQ-{uuid.uuid4().hex[:6]}"
    worker = token_workers(worker_factory, pg_dsn, TOKENS, MANAGER)()
    publish_reference_first(settings, worker, MASTERS)
    wait_until(lambda: worker.get("/health")["reference"]["loaded"], 60, "the masters read")
    source, out = resellers_file(tmp_path / "resellers.csv", distributor), tmp_path / "out.csv"

    assert match(worker, source, out) == 0
    [proposal] = wait_until(
        lambda: queue(worker, distributor, "open") or None, 60, "X2's proposal in the queue"
    )
    assert proposal["alias_id"] == "X2"
    assert [(c["master_id"], c["score"]) for c in proposal["candidates"]] == [("M1", "88.03")]
    automatic = wait_until(lambda: aliases(worker, distributor).get("X1"), 60, "X1 mapped")
    assert (automatic["master_id"], automatic["history"][0]["changed_by"]) == ("M1", "matcher")

    status, answer = worker.post(
        f"/api/resellers/proposals/{distributor}/X2/confirm", {"reason": "same owner"}, MANAGER
    )
    assert status == 202 and answer["master_id"] == "M1", answer
    wait_until(lambda: queue(worker, distributor, "open") == [], 60, "the proposal closed")
    [closed] = queue(worker, distributor, "confirmed")
    assert (closed["closed_by"], closed["master_id"]) == ("cm-lee", "M1")
    confirmed = aliases(worker, distributor)["X2"]
    assert confirmed["master_id"] == "M1"
    assert [(s["changed_by"], s["automatic"]) for s in confirmed["history"]] == [("cm-lee", False)]

    # the same file again, then a marker behind it in the distributor's identity partition
    assert match(worker, source, out) == 0
    publish(settings, [mapped(distributor, "X3", "M2", event_id=uuid.uuid4())])
    wait_until(lambda: aliases(worker, distributor).get("X3"), 60, "the marker applied")
    after = aliases(worker, distributor)
    assert [len(after[alias]["history"]) for alias in ("X1", "X2")] == [1, 1]
    assert queue(worker, distributor, "confirmed") == [closed]
    assert worker.get("/api/dead-letters")["rows"] == []
    live = matches_replay(settings, worker)
    mine = [row for row in live["match_proposals"] if row["distributor_id"] == distributor]
    assert [(row["alias_id"], row["status"]) for row in mine] == [("X2", "confirmed")]
