"""End to end through the real broker: uploads over HTTP to a worker's ingest API, the
projections it computes from them, the dead letters, and the CLI (ingest, deadletters)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.codec import encode_event
from streams.auth import token_hash
from streams.config import Settings
from tests.integration.conftest import REPO, WorkerProcess, wait_until
from tests.unit.api.ingest_api import catalog, sale
from tests.unit.parsers.conftest import SAMPLES

pytestmark = pytest.mark.kafka

ADMIN, ACME, NORTH = "admin-token", "acme-token", "north-token"
TOKENS = [
    {"sha256": token_hash(ADMIN), "role": "admin", "actor": "vendor-ops"},
    {"sha256": token_hash(ACME), "role": "distributor", "actor": "acme",
     "distributor_id": "DIST-001"},
    {"sha256": token_hash(NORTH), "role": "distributor", "actor": "north",
     "distributor_id": "DIST-002"},
]  # fmt: skip


def cli(
    settings: Settings, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env.update(
        CHANNELFLOW_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        CHANNELFLOW_TOPIC_PREFIX=settings.topic_prefix,
    )
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=300,
    )


def row(worker: WorkerProcess, path: str, **key: str) -> dict[str, Any] | None:
    for found in worker.get(path, ADMIN)["rows"]:
        if all(found.get(name) == value for name, value in key.items()):
            return found
    return None


def sell_through(worker: WorkerProcess, distributor: str, sku: str) -> int | None:
    found = row(worker, "/api/inventory", distributor_id=distributor, sku=sku)
    return None if found is None else found["sell_through"]


def submit_catalog(worker: WorkerProcess) -> None:
    """The catalog, submitted by the vendor's admin as a JSON batch."""
    products = [orjson.loads(encode_event(product)) for product in catalog()]
    status, answer = worker.post("/api/ingest/events", orjson.dumps(products), ADMIN)
    assert status == 200 and answer["summary"]["accepted"] == 2, answer
    wait_until(
        lambda: (
            {r["sku"] for r in worker.get("/api/products", ADMIN)["rows"]}
            >= {"WIDGET-100", "GADGET-200"}
        ),
        60,
        "the catalog",
    )


def ingest_csv(worker: WorkerProcess) -> None:
    """Another distributor's report refused (403, nothing published); one with bad lines."""
    csv = (SAMPLES / "sales_dist002_w15.csv").read_bytes()
    status, answer = worker.post("/api/ingest/csv", csv, ACME)
    assert (status, answer["error"]["code"]) == (403, "forbidden")

    # a CSV with bad lines
    status, answer = worker.post("/api/ingest/csv?filename=w15.csv", csv, NORTH)
    assert status == 200, answer
    assert (answer["summary"]["accepted"], answer["summary"]["rejected"]) == (5, 3)
    expected = {"bad_date": 1, "bad_quantity": 1, "unknown_sku": 1}
    wait_until(
        lambda: (
            (q := row(worker, "/api/quality", distributor_id="DIST-002"))
            and (q["accepted"], q["rejected_by_reason"]) == (5, expected)
        ),
        60,
        "the CSV's lines in data quality",
    )
    assert sell_through(worker, "DIST-002", "WIDGET-100") == 26


def ingest_edi(worker: WorkerProcess) -> None:
    """An 867, then the report that replaces it; an 852 whose counts reach the inventory."""
    status, answer = worker.post("/api/ingest/edi", (SAMPLES / "867_weekly.edi").read_bytes(), ACME)
    assert status == 200 and answer["summary"]["accepted"] == 5, answer
    wait_until(lambda: sell_through(worker, "DIST-001", "WIDGET-100") == 32, 60, "the 867")
    status, answer = worker.post(
        "/api/ingest/edi", (SAMPLES / "867_replace.edi").read_bytes(), ACME
    )
    assert status == 200 and answer["summary"]["accepted"] == 3, answer
    wait_until(lambda: sell_through(worker, "DIST-001", "WIDGET-100") == 9, 60, "the replacement")
    assert sell_through(worker, "DIST-001", "GADGET-200") == 12

    # an 852: counts reach the inventory
    status, answer = worker.post("/api/ingest/edi", (SAMPLES / "852_weekly.edi").read_bytes(), ACME)
    assert status == 200, answer
    wait_until(
        lambda: (
            (r := row(worker, "/api/inventory", distributor_id="DIST-001", sku="WIDGET-100"))
            and r["last_count_on_hand"] == 120
        ),
        60,
        "the 852 count",
    )


def ingest_json(worker: WorkerProcess) -> None:
    """A JSON batch: one good line, one the schema refuses."""
    batch = [sale("API-1"), sale("API-2", quantity="two")]
    _, answer = worker.post("/api/ingest/events", orjson.dumps(batch), ACME)
    assert [line["answer"] for line in answer["lines"]] == ["accepted", "rejected"]
    wait_until(
        lambda: (
            (row(worker, "/api/quality", distributor_id="DIST-001") or {})
            .get("rejected_by_reason", {})
            .get("schema_violation")
            == 1
        ),
        60,
        "the rejected JSON line in data quality",
    )


def dead_letters_listed(settings: Settings, worker: WorkerProcess) -> dict[str, Any]:
    """Every rejected line is in the dead-letter topic with its reason and original bytes, the
    same over HTTP for DIST-002's own token and for none of DIST-001's; the bad quantity's."""
    listed = cli(settings, "deadletters", "--json", "--distributor", "DIST-002")
    assert listed.returncode == 0, listed.stderr
    letters = [json.loads(line) for line in listed.stdout.splitlines()]
    by_reason = {letter["reason"]: letter for letter in letters}
    assert {"bad_quantity", "bad_date", "unknown_sku"} <= set(by_reason)
    bad = by_reason["bad_quantity"]
    assert base64.b64decode(bad["original_b64"]).startswith(b"DIST-002,INV7004-1")
    assert bad["original"].startswith("DIST-002,INV7004-1") and bad["key"] == "DIST-002"
    typo = cli(settings, "deadletters", "--distributor", "DIST-02")  # one 0 short
    said = typo.stderr.decode()
    assert typo.returncode == 0 and "0 dead letters" in said
    assert "no dead letter has distributor 'DIST-02'; those they have: " in said
    assert "DIST-002" in said

    # the same lines over HTTP: for DIST-002's own token, and for none of DIST-001's
    def where(row: dict[str, Any]) -> tuple[int, int]:
        return row["partition"], row["offset"]

    served = worker.get("/api/dead-letters/lines", NORTH)["rows"]
    assert sorted(served, key=where) == sorted(letters, key=where)
    theirs = worker.get("/api/dead-letters/lines", ACME)["rows"]
    assert {row["key"] for row in theirs} <= {"DIST-001"} and not {*map(where, theirs)} & {
        *map(where, letters)
    }
    assert "w15.csv:6" in bad["detail"]
    shown = cli(
        settings, "deadletters", "show", "--partition", str(bad["partition"]),
        "--offset", str(bad["offset"]),
    )  # fmt: skip
    assert shown.returncode == 0 and shown.stdout.startswith(b"DIST-002,INV7004-1")
    return bad


def resubmit_fix(
    settings: Settings, worker: WorkerProcess, bad: dict[str, Any], tmp_path: Path
) -> None:
    """A fix still invalid is refused; a valid one is published and counted."""
    at = ["--partition", str(bad["partition"]), "--offset", str(bad["offset"])]
    broken = orjson.dumps(sale("INV7004-1", distributor="DIST-002", quantity="1,200"))
    refused = cli(settings, "deadletters", "resubmit", *at, "--fixed", "-", stdin=broken)
    assert refused.returncode == 2 and b"still invalid" in refused.stderr
    fixed = tmp_path / "fixed.json"
    fixed.write_bytes(orjson.dumps(sale("INV7004-1", distributor="DIST-002", quantity=1200)))
    done = cli(settings, "deadletters", "resubmit", *at, "--fixed", str(fixed))
    assert done.returncode == 0, done.stderr
    wait_until(
        lambda: (row(worker, "/api/quality", distributor_id="DIST-002") or {}).get("accepted") == 6,
        60,
        "the fixed line accepted",
    )
    assert sell_through(worker, "DIST-002", "WIDGET-100") == 26 + 1200


def test_every_format_lands_in_the_projections(settings, worker_factory, tmp_path):
    worker = worker_factory(env={"CHANNELFLOW_TOKENS": json.dumps(TOKENS)}).start()
    submit_catalog(worker)
    ingest_csv(worker)
    ingest_edi(worker)
    ingest_json(worker)
    bad = dead_letters_listed(settings, worker)
    resubmit_fix(settings, worker, bad, tmp_path)


def test_cli_ingest_over_http_and_straight_to_kafka(settings, worker_factory, tmp_path):
    worker = worker_factory(env={"CHANNELFLOW_TOKENS": json.dumps(TOKENS)}).start()
    products = tmp_path / "catalog.json"
    products.write_bytes(
        orjson.dumps([orjson.loads(encode_event(product)) for product in catalog()])
    )
    direct = cli(settings, "ingest", str(products))  # JSON, straight to Kafka
    assert direct.returncode == 0, direct.stderr
    wait_until(lambda: len(worker.get("/api/products", ADMIN)["rows"]) == 2, 60, "the catalog")

    over_http = cli(
        settings, "ingest", str(SAMPLES / "sales_dist002_w15.csv"), "--url", worker.url,
        "--token", NORTH,
    )  # fmt: skip
    assert over_http.returncode == 1  # some lines were rejected
    table = over_http.stdout.decode()
    assert "rejected" in table and "bad_quantity" in table
    assert "sales_dist002_w15.csv:6" in table
    assert b"\r" not in over_http.stderr  # stderr is no terminal: no bar redrawn in a log

    csv = tmp_path / "dist001.csv"
    csv.write_text(
        "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at\n"
        "DIST-001,K-1,RES-1,WIDGET-100,4,12.50,USD,2026-04-08\n"
    )
    straight = cli(settings, "ingest", str(csv), "--report-id", "K-W15")
    assert straight.returncode == 0, straight.stderr
    assert b"\r" not in straight.stderr
    wait_until(lambda: sell_through(worker, "DIST-001", "WIDGET-100") == 4, 60, "the CSV")
    # DIST-002's report is on another partition, read side by side with DIST-001's
    wait_until(
        lambda: (
            {r["report_id"] for r in worker.get("/api/reports", ADMIN)["rows"]}
            >= {"DIST-002-2026W15", "K-W15"}
        ),
        60,
        "both reports",
    )

    refused = cli(settings, "ingest", str(SAMPLES / "867_weekly.edi"), "--url", worker.url)
    assert refused.returncode == 2 and b"401" in refused.stderr
