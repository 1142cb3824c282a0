"""Reseller identity through Kafka and a worker on PostgreSQL: masters on their reference
topic, a merge on the identity topic, a restart, then a conflicting mapping and the unmerge
through the admin's HTTP ingest; reseller growth and top resellers over the API after each, a
distributor reading its own aliases, and the replay of the raw topics equal to live."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from schemas.codec import encode_event
from schemas.events import Envelope
from streams.auth import token_hash
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import (
    letter_counts,
    matches_replay,
    publish,
    publish_reference_first,
    token_workers,
)
from tests.unit.party_events import mapped
from tests.unit.test_identity_wiring import MASTERS, MERGE, NETWORK, UNMERGE

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ADMIN, OWN = "admin-token", "d1-token"


def renamed(events: list[Envelope], names: dict[str, str]) -> list[Envelope]:
    """The events with the distributors renamed (ids of this run) and fresh event ids."""
    return [
        event.model_copy(
            update={"event_id": uuid.uuid4()}
            | (
                {"distributor_id": names[d]}
                if (d := getattr(event, "distributor_id", None))
                else {}
            )
        )
        for event in events
    ]


def figures(worker: WorkerProcess) -> dict[str, Any]:
    top = worker.get("/api/resellers/top")["rows"]
    return {
        "top": [(r["distributor_id"], r["reseller_id"], r["revenue"], r["aliases"]) for r in top],
        "growth": worker.get("/api/resellers/growth")["rows"],
        "network": worker.get("/api/resellers?as_of=2026-07-31")["rows"],
    }


def onboarded(found: dict[str, Any]) -> int:
    """How many resellers the figures' network counts as onboarded, every distributor."""
    return sum(row["onboarded"] for row in found["network"])


def test_a_merge_and_its_unmerge_over_kafka_and_http_equal_the_replay(
    settings, worker_factory, pg_dsn
):
    tag = uuid.uuid4().hex[:6]
    d1, d2 = f"DA-{tag}", f"DB-{tag}"
    tokens = [
        {"sha256": token_hash(ADMIN), "role": "admin", "actor": "vendor-ops"},
        {"sha256": token_hash(OWN), "role": "distributor", "actor": "d1", "distributor_id": d1},
    ]

    started = token_workers(worker_factory, pg_dsn, tokens, ADMIN)

    worker = started()
    names = {"D1": d1, "D2": d2}
    # reference data before the mappings that name it
    publish_reference_first(settings, worker, [*MASTERS, *renamed(NETWORK, names)])
    # the onboardings (resellers topic) and the sales are read side by side: the figures
    # are whole once both distributors' onboardings count too
    before = wait_until(
        lambda: len((f := figures(worker))["top"]) == 4 and onboarded(f) == 2 and f,
        60,
        "the four resellers' sales and the two onboardings",
    )
    assert [(row[1], row[2]) for row in before["top"]] == [
        ("R1", "250.00"), ("X9", "230.00"), ("R2", "30.00"), ("R1B", "20.00"),
    ]  # fmt: skip

    publish(settings, renamed(MERGE, names))
    merged = wait_until(
        lambda: len((f := figures(worker))["top"]) == 2 and f, 60, "the merge in the ranking"
    )
    assert merged["top"] == [
        ("*", "M1", "500.00", sorted([f"{d1}|R1", f"{d1}|R1B", f"{d2}|X9"])),
        (d1, "R2", "30.00", [f"{d1}|R2"]),
    ]
    assert [(r["month"], r["onboarded"], r["first_sales"]) for r in merged["growth"]] == [
        ("2026-04", 1, 1), ("2026-07", 0, 1),
    ]  # fmt: skip
    matches_replay(settings, worker)

    worker.kill()  # the aliases come back from the changelog, the masters from their topic
    worker = started()
    wait_until(lambda: figures(worker) == merged, 60, "the merge after the restart")
    # the index of aliases by master comes back from the changelog with the aliases
    assert masters_listed(worker) == {
        "M1": sorted([f"{d1}|R1", f"{d1}|R1B", f"{d2}|X9"]),
        "M2": [],
    }

    # the admin's door: a mapping of R1 to another master (refused), then the unmerge
    steps = renamed([mapped("D1", "R1", "M2", n=104), *UNMERGE], names)
    body = b"[" + b",".join(map(encode_event, steps)) + b"]"
    status, answer = worker.post("/api/ingest/events", body, ADMIN)
    assert status == 200, answer
    after = wait_until(
        lambda: (f := figures(worker))["top"] == before["top"] and f, 60, "the unmerge"
    )
    assert after == before
    assert letter_counts(worker) == {"conflicting_mapping": 1}  # D1's, ahead of its unmaps
    own = worker.get("/api/resellers/aliases", OWN)["rows"]
    assert {row["distributor_id"] for row in own} == {d1}
    history = {row["alias_id"]: [s["action"] for s in row["history"]] for row in own}
    assert history == {"R1": ["mapped", "unmapped"], "R1B": ["mapped", "unmapped"]}
    live = matches_replay(settings, worker)
    assert [row["master_id"] for row in live["masters"]] == ["M1", "M2"]
    assert len(live["party_aliases"]) == 3
    assert masters_listed(worker) == {"M1": [], "M2": []}  # every alias unmapped again
    assert worker.get("/api/resellers/masters?master_id=M1&limit=1")["total"] == 1


def masters_listed(worker: WorkerProcess) -> dict[str, list[str]]:
    """Each master's aliases, as `/api/resellers/masters` lists them."""
    return {r["master_id"]: r["aliases"] for r in worker.get("/api/resellers/masters")["rows"]}
