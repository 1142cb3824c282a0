"""X12 acknowledgements on the real servers: an 867 through the HTTP door answered with
its 997 while its good lines reach the projections through Kafka, a refused interchange
answered with its rejection, and `channelflow ingest --ack-file` straight to Kafka; with
the register of interchanges in PostgreSQL, a resent interchange answered TA1 E / 025 by
either door and counted once, and the claims door's 997."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import pytest

from streams.ingest.parsers.x12 import Segment, tokenize
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.test_ingest_kafka import (
    ACME,
    TOKENS,
    cli,
    row,
    sell_through,
    submit_catalog,
)
from tests.unit.api.ingest_api import sale
from tests.unit.parsers.conftest import SAMPLES

pytestmark = pytest.mark.kafka

X12 = "application/edi-x12"


def post_x12(
    worker: WorkerProcess, body: bytes, query: str = "", door: str = "edi"
) -> tuple[int, str, bytes]:
    """POST an interchange asking for its acknowledgement: (status, content type, body)."""
    request = urllib.request.Request(
        f"{worker.url}/api/ingest/{door}{query}",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {ACME}", "Accept": X12},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


def notes(ack: bytes) -> list[str]:
    segments: list[Segment] = list(tokenize(io.BytesIO(ack)))  # its envelope checked
    return [seg.text for seg in segments if seg.tag in ("TA1", "AK2", "AK3", "AK4", "AK5", "AK9")]


def test_an_interchange_is_acknowledged_by_the_real_servers(settings, worker_factory, tmp_path):
    worker = worker_factory(env={"CHANNELFLOW_TOKENS": json.dumps(TOKENS)}).start()
    submit_catalog(worker)

    # an 867 with line errors, ISA14 = 1: a TA1 then the 997, the set accepted with errors
    body = (SAMPLES / "867_line_errors.edi").read_bytes()
    body = body.replace(b"*000000101*0*P*", b"*000000101*1*P*")
    status, media, ack = post_x12(worker, body)
    assert (status, media) == (200, X12), ack
    found = notes(ack)
    assert found[0] == "TA1*000000101*260406*0830*A*000~"
    assert found[1] == "AK2*867*0001~"
    assert "AK3*QTY*14**8~" in found and "AK4*2**6*TEN~" in found
    assert found[-2:] == ["AK5*E*5~", "AK9*E*1*1*1~"]
    # its good lines went through Kafka to the projections as ever
    wait_until(
        lambda: row(worker, "/api/reports", report_id="RPT-2026-W15") is not None,
        60,
        "the acknowledged report",
    )

    # IEA01 counting two groups for one: the interchange is rejected (422) by a TA1 alone
    weekly = (SAMPLES / "867_weekly.edi").read_bytes()
    status, media, ack = post_x12(worker, weekly.replace(b"IEA*1*", b"IEA*2*"), "?ack=997")
    assert (status, media) == (422, X12)
    assert notes(ack) == ["TA1*000000101*260406*0830*R*021~"]

    # straight to Kafka: the acknowledgement written to --ack-file
    target = tmp_path / "weekly.997"
    straight = cli(settings, "ingest", str(SAMPLES / "867_weekly.edi"), "--ack-file", str(target))
    assert straight.returncode == 0, straight.stderr
    assert notes(target.read_bytes())[-2:] == ["AK5*A~", "AK9*A*1*1*1~"]
    wait_until(
        lambda: row(worker, "/api/reports", report_id="RPT-2026-W14") is not None,
        60,
        "the report sent straight to Kafka",
    )

    # refused for its structure: exit status 2, the rejection written all the same
    broken = tmp_path / "broken.edi"
    broken.write_bytes(weekly.replace(b"\nSE*", b"\nSE*9"))  # SE01 says 944
    refused = cli(settings, "ingest", str(broken), "--ack-file", str(target))
    assert refused.returncode == 2 and b"nothing was published" in refused.stderr
    assert notes(target.read_bytes()) == ["AK2*867*0001~", "AK5*R*4~", "AK9*R*1*1*0~"]


def test_a_resent_interchange_is_acknowledged_025_and_counted_once(
    settings, worker_factory, database, monkeypatch, tmp_path
):
    env = {"CHANNELFLOW_TOKENS": json.dumps(TOKENS), "CHANNELFLOW_INTERCHANGES_URL": database}
    worker = worker_factory(env=env).start()
    submit_catalog(worker)

    # an 867 asking for a TA1 (ISA14 = 1): received, then sent again as it was
    weekly = (SAMPLES / "867_weekly.edi").read_bytes().replace(b"*0*P*", b"*1*P*")
    status, media, ack = post_x12(worker, weekly)
    assert (status, media) == (200, X12), ack
    assert notes(ack) == [
        "TA1*000000101*260406*0830*A*000~",
        "AK2*867*0001~",
        "AK5*A~",
        "AK9*A*1*1*1~",
    ]
    wait_until(lambda: sell_through(worker, "DIST-001", "WIDGET-100") == 32, 60, "the 867")
    status, media, ack = post_x12(worker, weekly)
    assert (status, media) == (200, X12), ack
    assert notes(ack) == [
        "TA1*000000101*260406*0830*E*025~",
        "AK2*867*0001~",
        "AK5*A~",
        "AK9*A*1*1*1~",
    ]

    # a third time, in JSON: the first receipt named, the lines duplicates
    status, answer = worker.post("/api/ingest/edi", weekly, ACME)
    assert status == 200, answer
    assert answer["summary"]["duplicate"] == 5 and answer["summary"]["accepted"] == 0
    resent = answer["interchange"]
    assert (resent["control_number"], resent["resent"], resent["same_content"]) == (
        "000000101",
        True,
        True,
    )
    assert resent["first_received_at"] < answer["received_at"]

    # a sale after them on the distributor's partition: once applied, so are the resends
    status, answer = worker.post(
        "/api/ingest/events",
        json.dumps([sale("MARK-1", sku="GADGET-200", quantity=1)]).encode(),
        ACME,
    )
    assert status == 200 and answer["summary"]["accepted"] == 1, answer
    wait_until(lambda: sell_through(worker, "DIST-001", "GADGET-200") == 13, 60, "the marker sale")
    assert sell_through(worker, "DIST-001", "WIDGET-100") == 32  # counted once

    # straight to Kafka with the same register: the file's bytes differ (ISA14 = 0), the
    # control number is the same: still 025, unasked for, and the answer says so
    monkeypatch.setenv("CHANNELFLOW_INTERCHANGES_URL", database)
    target = tmp_path / "weekly.997"
    path = str(SAMPLES / "867_weekly.edi")
    straight = cli(settings, "ingest", path, "--ack-file", str(target), "--json")
    assert straight.returncode == 0, straight.stderr
    assert notes(target.read_bytes())[0] == "TA1*000000101*260406*0830*E*025~"
    resent = json.loads(straight.stdout)["interchange"]
    assert resent["resent"] and not resent["same_content"]


def test_the_claims_door_acknowledges_an_844(settings, worker_factory, database):
    env = {"CHANNELFLOW_TOKENS": json.dumps(TOKENS), "CHANNELFLOW_INTERCHANGES_URL": database}
    worker = worker_factory(env=env).start()
    claim = (SAMPLES / "844_claim.edi").read_bytes()
    status, media, ack = post_x12(worker, claim, "?ack=997", door="claims")
    assert (status, media) == (200, X12), ack
    assert notes(ack) == ["AK2*844*0001~", "AK5*A~", "AK9*A*1*1*1~"]
    status, media, ack = post_x12(worker, claim, door="claims")  # Accept: edi-x12
    assert (status, media) == (200, X12), ack
    assert notes(ack)[0] == "TA1*000000231*260420*0915*E*025~"
