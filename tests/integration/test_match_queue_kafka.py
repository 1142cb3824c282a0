"""The match queue through Kafka and a worker on PostgreSQL: a reseller onboarded with a
name in the review band becomes a proposal; the channel manager confirms it over HTTP (a
`ResellerAliasMapped` published to the identity topic), the reseller is then counted under
its master in top resellers and growth; another is mapped by the matcher on onboarding. The
queue survives a restart, and so does a reseller the matcher left waiting: a master registered
after it maps it at its distributor's next input. The replay of the raw topics equals live."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from schemas.events import Envelope, ResellerOnboarded
from streams.auth import token_hash
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import (
    matches_replay,
    publish,
    publish_reference_first,
    token_workers,
)
from tests.integration.test_identity_kafka import renamed
from tests.unit.party_events import registered
from tests.unit.test_identity_wiring import MASTERS, NETWORK, day, sale

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

MANAGER = "cm-token"


def onboarded(n: int, distributor: str, reseller: str, name: str, postal: str) -> Envelope:
    at: datetime = day("2026-07-01")
    return ResellerOnboarded(
        event_id=uuid.UUID(int=800 + n, version=4), occurred_at=at, source="api",
        distributor_id=distributor, reseller_id=reseller, name=name, onboarded_at=at,
        country="US", postal_code=postal,
    )  # fmt: skip


#: D2's X11, onboarded in June matching no master: it waits, until M9 is registered
WAITING = ResellerOnboarded(
    event_id=uuid.UUID(int=811, version=4), occurred_at=day("2026-06-20"), source="api",
    distributor_id="D2", reseller_id="X11", name="Quux Lighting", onboarded_at=day("2026-06-20"),
    country="US", postal_code="10001",
)  # fmt: skip
LATE_MASTER = registered("M9", "Quux Lighting Inc.", n=9, postal_code="10001",
                         recorded_at=day("2026-07-10"))  # fmt: skip


#: D1's R7 ("Acme Tols" in the next postal area: 88.03, review) and D2's X10 (M1's name
#: with a ZIP+4: 100, mapped by the matcher), each with a sale
ARRIVALS: list[Envelope] = [
    onboarded(1, "D1", "R7", "Acme Tols", "94107"),
    sale(71, "D1", "R7", "2026-07-05", 2, "15.00"),
    onboarded(2, "D2", "X10", "ACME TOOLS LLC", "94105-1804"),
    sale(72, "D2", "X10", "2026-07-06", 1, "5.00"),
    WAITING,
]


def queue(worker: WorkerProcess, status: str = "open") -> list[dict[str, Any]]:
    return worker.get(f"/api/resellers/proposals?status={status}")["rows"]


def top(worker: WorkerProcess) -> list[tuple[str, str, str, list[str]]]:
    rows = worker.get("/api/resellers/top")["rows"]
    return [(r["distributor_id"], r["reseller_id"], r["revenue"], r["aliases"]) for r in rows]


def test_a_proposal_confirmed_over_http_maps_the_reseller_and_replays_equal(
    settings, worker_factory, pg_dsn
):
    tag = uuid.uuid4().hex[:6]
    d1, d2 = f"DA-{tag}", f"DB-{tag}"
    tokens = [{"sha256": token_hash(MANAGER), "role": "channel_manager", "actor": "cm-lee"}]

    started = token_workers(worker_factory, pg_dsn, tokens, MANAGER)

    worker = started()
    names = {"D1": d1, "D2": d2}
    publish_reference_first(settings, worker, [*MASTERS, *renamed(NETWORK, names)])
    wait_until(lambda: len(top(worker)) == 4, 60, "the four resellers' sales")
    publish(settings, renamed(ARRIVALS, names))

    [proposal] = wait_until(lambda: queue(worker) or None, 60, "R7's proposal in the queue")
    assert (proposal["distributor_id"], proposal["alias_id"]) == (d1, "R7")
    assert [(c["master_id"], c["score"]) for c in proposal["candidates"]] == [("M1", "88.03")]
    by_matcher = wait_until(
        lambda: [r for r in worker.get(f"/api/resellers/aliases?distributor_id={d2}")["rows"]
                 if r["master_id"] == "M1"] or None, 60, "X10 mapped by the matcher",
    )  # fmt: skip
    [step] = by_matcher[0]["history"]
    assert (step["changed_by"], step["automatic"], step["score"]) == ("matcher", True, "100.00")

    worker.kill()  # the queue comes back from the changelog
    worker = started()
    wait_until(lambda: queue(worker) == [proposal], 60, "the queue after the restart")
    # the queue comes from the changelog, the masters from the reference topics
    wait_until(lambda: worker.get("/health")["reference"]["loaded"], 60, "the masters read")

    status, answer = worker.post(
        f"/api/resellers/proposals/{d1}/R7/confirm", {"reason": "same owner"}, MANAGER
    )
    assert status == 202 and answer["master_id"] == "M1", answer
    wait_until(lambda: queue(worker) == [], 60, "the proposal closed")
    [closed] = queue(worker, "confirmed")
    assert (closed["closed_by"], closed["master_id"]) == ("cm-lee", "M1")
    # M1 buys through both distributors: R7 (30.00) and X10 (5.00)
    m1 = ("*", "M1", "35.00", sorted([f"{d1}|R7", f"{d2}|X10"]))
    ranking = wait_until(lambda: m1 in (t := top(worker)) and t, 60, "M1 in top resellers")
    assert [row[1] for row in ranking] == ["R1", "X9", "M1", "R2", "R1B"]
    growth = {r["month"]: r["onboarded"] for r in worker.get("/api/resellers/growth")["rows"]}
    assert growth["2026-07"] == 1  # R7 and X10 are one new reseller, M1

    # re-matching: M9 arrives after X11 was onboarded (and after the restart); D2's next
    # input, recorded after M9, maps X11 to it
    publish_reference_first(settings, worker, [LATE_MASTER])
    publish(settings, renamed([sale(73, "D2", "X10", "2026-07-12", 1, "5.00")], names))
    rematched = wait_until(
        lambda: [r for r in worker.get(f"/api/resellers/aliases?distributor_id={d2}")["rows"]
                 if r["master_id"] == "M9"] or None, 60, "X11 mapped to M9 when it arrived",
    )  # fmt: skip
    [step] = rematched[0]["history"]
    assert (rematched[0]["alias_id"], step["changed_by"], step["automatic"]) == (
        "X11", "matcher", True,
    )  # fmt: skip
    live = matches_replay(settings, worker)
    assert [row["status"] for row in live["match_proposals"]] == ["confirmed"]
