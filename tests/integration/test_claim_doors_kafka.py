"""Debit claims at the edges, on the real broker and PostgreSQL: uploads land on the claims
topic as the expected events, a claim with problems publishes nothing of itself and its
lines reach the dead letters with their bytes, another distributor's claim is refused (a file
or a JSON event), a JSON claim claiming nothing or less is refused by line, an 844 whose
envelope is broken is refused whole; the
lifecycle steps are recorded on the DebitClaim aggregate in PostgreSQL, and its 849 is what
edi849 writes for the decisions recorded."""

from __future__ import annotations

import base64
import io
import json
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.eventstore import open_audit_log
from schemas.claims import DebitClaimSubmitted
from schemas.codec import encode_event
from schemas.topics import topic_name
from streams.api.claims import ANSWER_SENDER, FUNCTIONAL_ID
from streams.ingest.parsers.csv_claim import parse_claims_csv
from streams.ingest.parsers.edi844 import parse_844
from streams.ingest.parsers.edi849 import write_849
from streams.ingest.parsers.x12_writer import Parties
from tests.integration.audit_db import fresh_database
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import stored_events
from tests.integration.test_decisions_relay import read_keyed
from tests.integration.test_ingest_kafka import ACME, ADMIN, NORTH, TOKENS
from tests.unit.claim_events import claim, decided_claim
from tests.unit.claim_events import line as claim_line
from tests.unit.parsers.conftest import SAMPLES

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ENV = {"CHANNELFLOW_TOKENS": json.dumps(TOKENS)}
CLAIM_844 = (SAMPLES / "844_claim.edi").read_bytes()
ERRORS_844 = (SAMPLES / "844_line_errors.edi").read_bytes()
#: the bad-lines sample without its DIST-002 claim (which ACME may not send)
BAD_CSV = b"".join(
    line for line in (SAMPLES / "claims_bad_lines.csv").read_bytes().splitlines(True)
    if b"DIST-002" not in line
)  # fmt: skip


def json_claim(distributor_id: str, claim_id: str, amount: str) -> dict[str, Any]:
    """A claim of one line as the JSON door takes it, claiming `amount` (as sent)."""
    document: dict[str, Any] = json.loads(
        encode_event(claim(claim_id, claim_line(1, "T1", 1), distributor_id=distributor_id))
    )
    document["lines"][0]["amount_claimed"] = amount
    return document


def dead_letters(worker: WorkerProcess) -> list[dict[str, Any]]:
    return list(worker.get("/api/dead-letters/lines?limit=1000", ACME)["rows"])


def test_claim_uploads_reach_the_claims_topic_and_the_dead_letters(settings, worker_factory):
    worker = worker_factory(env=ENV).start()
    # another distributor's claims: refused as a whole, nothing published
    status, answer = worker.post("/api/ingest/claims", CLAIM_844, NORTH)
    assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
    status, answer = worker.post("/api/ingest/claims", BAD_CSV, NORTH)
    assert status == 403, answer
    status, answer = worker.post("/api/ingest/events", [json_claim("DIST-002", "J1", "30")], ACME)
    assert (status, answer["error"]["code"]) == (403, "forbidden"), answer
    # an interchange cut short: nothing of it read
    status, answer = worker.post("/api/ingest/claims?filename=cut.edi", CLAIM_844[:80], ACME)
    assert (status, answer["error"]["code"]) == (422, "x12_structure"), answer
    # amounts not above zero: each line refused, to the dead letters
    nothing = [json_claim("DIST-001", "J2", "-30.00"), json_claim("DIST-001", "J3", "0")]
    status, amounts = worker.post("/api/ingest/events", nothing, ACME)
    assert status == 200, amounts
    assert [(line["answer"], line["reason"]) for line in amounts["lines"]] == [
        ("rejected", "schema_violation"), ("rejected", "schema_violation"),
    ]  # fmt: skip

    status, answer = worker.post("/api/ingest/claims?filename=claim.edi", CLAIM_844, ACME)
    assert (status, answer["summary"]["accepted"]) == (200, 1), answer
    status, errors = worker.post("/api/ingest/claims?filename=errors.edi", ERRORS_844, ACME)
    assert (status, errors["summary"]["accepted"]) == (200, 0), errors
    status, csv = worker.post("/api/ingest/claims?filename=bad.csv&lines=all", BAD_CSV, ACME)
    assert (status, csv["summary"]["accepted"]) == (200, 1), csv

    claims = read_keyed(settings, topic_name(settings.topic_prefix, "claims"), 2)
    assert [key for key, _ in claims] == ["DIST-001", "DIST-001"]
    events = [DebitClaimSubmitted.model_validate(document) for _, document in claims]
    now = datetime.now(UTC)
    expected = parse_844(io.BytesIO(CLAIM_844), received_at=now).claim
    [from_csv] = parse_claims_csv(io.BytesIO(BAD_CSV), received_at=now).claims
    assert expected is not None
    assert [(e.claim_id, e.lines) for e in events] == [
        ("DB-2026-0420", expected.lines),
        ("DB-2026-0434", from_csv.lines),
    ]
    # the same claims parsed again are the same events
    assert [e.event_id for e in events] == [expected.event_id, from_csv.event_id]

    # every rejected line is a dead letter with its bytes, named by its line or segment
    answered = errors["lines"] + csv["lines"] + amounts["lines"]
    rejected = [line for line in answered if line["answer"] == "rejected"]
    wait_until(lambda: len(dead_letters(worker)) >= len(rejected), 90, "the dead letters")
    letters = {letter["detail"].split(": ", 1)[0]: letter for letter in dead_letters(worker)}
    assert set(letters) == {line["ref"] for line in rejected}
    sent = BAD_CSV.decode().splitlines()
    for line in csv["lines"]:
        if line["answer"] == "rejected":
            letter = letters[line["ref"]]
            assert letter["reason"] == line["reason"]
            assert base64.b64decode(letter["original_b64"]).decode() == sent[line["line"] - 1]
    for line in errors["lines"]:
        original = base64.b64decode(letters[line["ref"]]["original_b64"]).decode()
        assert original and all(segment in ERRORS_844.decode() for segment in original.split("\n"))


def get_849(worker: WorkerProcess, path: str, token: str) -> bytes:
    request = urllib.request.Request(
        f"{worker.url}{path}/849", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("application/edi-x12")
        body: bytes = response.read()
        return body


def test_claim_steps_are_recorded_on_the_aggregate_in_postgres(pg_dsn, worker_factory):
    claim_id = f"DB-{uuid.uuid4().hex[:8]}"
    path = f"/api/claims/DIST-001/{claim_id}"
    with fresh_database(pg_dsn) as store:
        audit = open_audit_log(store)
        submitted = decided_claim("DIST-001", claim_id)  # as the worker would record it
        audit.save(submitted)
        worker = worker_factory(env=ENV, eventstore_url=store).start()

        read = worker.get(path, ACME)
        assert (read["status"], read["total_accepted"]) == ("validated", "3000.00")
        assert worker.post(f"{path}/approve", {"reason": "ok"}, NORTH)[0] == 403
        parties = Parties(
            ANSWER_SENDER, "DIST-001", FUNCTIONAL_ID, submitted.version, submitted.modified_on
        )
        decisions = list(submitted.decisions.values())
        assert get_849(worker, path, ACME) == write_849(claim_id, "DIST-001", decisions, parties)

        status, answer = worker.post(f"{path}/approve", {"reason": "ok"}, ACME)
        assert status == 403, answer
        status, answer = worker.post(f"{path}/approve", {"reason": "checked"}, ADMIN)
        assert (status, answer["status"]) == (200, "approved"), answer
        status, answer = worker.post(f"{path}/dispute", {"reason": "T3", "lines": [3]}, ACME)
        assert (status, answer["status"]) == (200, "disputed"), answer
        body = {"reason": "POS fixed", "outcome": "upheld", "granted": "300.00"}
        assert worker.post(f"{path}/resolve", body, ADMIN)[0] == 200
        status, answer = worker.post(f"{path}/pay", {"reference": "ACH-1"}, ADMIN)
        assert (status, answer["error"]["code"]) == (409, "conflict")  # validated: approve

        recorded = open_audit_log(store).debit_claim("DIST-001", claim_id)
        steps = [(s.action, s.actor_id, s.actor_distributor_id) for s in recorded.steps]
        assert steps == [
            ("approve", "vendor-ops", None),
            ("dispute", "acme", "DIST-001"),
            ("resolve", "vendor-ops", None),
        ]
        assert recorded.total_accepted == 3300
        assert stored_events(store, recorded.id) == 1 + 3 + 3  # submitted, decided, steps
        assert worker.get(path, ADMIN)["steps"][1]["lines"] == [3]
