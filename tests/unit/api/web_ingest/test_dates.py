"""HTTP ingest: a business date that cannot be (in the far future, out of range) is a
rejected line, in every format."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from schemas.events import LineRejected
from tests.unit.api.ingest_api import (
    WEEKLY,
    Api,
    csv_text,
    quality,
    sale,
)
from tests.unit.parsers.conftest import SAMPLES

# --- business-date plausibility ------------------------------------------------------

#: a sale date that lies in the future, and one no business date can be (as the sender wrote it)
IMPLAUSIBLE = [("future_date", "2062-08-18"), ("date_out_of_range", "9999-12-31")]


def implausible_lines(answer: dict[str, Any], reason: str) -> list[dict[str, Any]]:
    found = [line for line in answer["lines"] if line["answer"] == "rejected"]
    assert [line["reason"] for line in found] == [reason], answer["lines"]
    return found


def assert_dead_lettered(api: Api, reason: str, distributor: str = "DIST-001") -> LineRejected:
    """The line went out as a LineRejected (never as its event) and was dead-lettered."""
    letters = [e for e in api.events("LineRejected") if e.reason == reason]
    assert len(letters) == 1 and letters[0].distributor_id == distributor
    assert [letter.reason for letter in api.channel.dead_letters] == [reason]
    assert quality(api, distributor)["rejected_by_reason"] == {reason: 1}
    return letters[0]


@pytest.mark.parametrize(("reason", "day"), IMPLAUSIBLE)
def test_an_implausible_date_in_a_json_batch_is_rejected_naming_the_field(api, reason, day):
    far = sale("F-1", sold_at=f"{day}T00:00:00Z")
    answer = api.ok("/api/ingest/events", [sale("F-0"), far])
    (line,) = implausible_lines(answer, reason)
    assert (line["line"], line["field"]) == (2, "sold_at")
    assert line["detail"].startswith(f"sold_at: {day}T00:00:00Z is ")
    letter = assert_dead_lettered(api, reason)
    assert orjson.loads(base64.b64decode(letter.original_b64)) == far  # the bytes as sent
    assert [e.transaction_id for e in api.events("SaleReported")] == ["F-0"]


@pytest.mark.parametrize(("reason", "day"), IMPLAUSIBLE)
def test_an_implausible_date_in_a_csv_is_rejected_and_not_its_reports_period(api, reason, day):
    body = csv_text(
        "C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07", f"C-2,RES-1,WIDGET-100,1,12.50,USD,{day}"
    )
    answer = api.ok("/api/ingest/csv", body, filename="w.csv")
    (line,) = implausible_lines(answer, reason)
    assert (line["line"], line["ref"], line["field"]) == (3, "w.csv:3", "sold_at")
    assert (answer["reports"][0]["period_end"], answer["reports"][0]["published"]) == (
        "2026-04-07",
        True,
    )
    letter = assert_dead_lettered(api, reason)
    assert orjson.loads(base64.b64decode(letter.original_b64))["transaction_id"] == "C-2"
    assert [e.transaction_id for e in api.events("SaleReported")] == ["C-1"]


@pytest.mark.parametrize(("reason", "day"), IMPLAUSIBLE)
def test_an_implausible_date_in_an_867_is_rejected_with_its_segments(api, reason, day):
    body = WEEKLY.replace(b"DTM*003*20260404~", f"DTM*003*{day.replace('-', '')}~".encode())
    answer = api.ok("/api/ingest/edi", body)
    (line,) = implausible_lines(answer, reason)
    # the element the sale date was read from, in the line's PTD loop (DTM*003)
    assert line["field"] == "DTM02" and "segment 42" in line["ref"]
    assert line["detail"].startswith("sold_at: ")
    assert line["detail"].endswith("(read from DTM02 at segment 41)"), line["detail"]
    assert answer["summary"]["accepted"] == 4 and answer["reports"][0]["published"]
    letter = assert_dead_lettered(api, reason)
    assert base64.b64decode(letter.original_b64).startswith(b"PTD*BN~")


def test_an_implausible_count_date_in_an_852_is_rejected(api):
    body = (SAMPLES / "852_weekly.edi").read_bytes()
    body = body.replace(b"ZA*QA*9*CA*007*20260402~", b"ZA*QA*9*CA*007*20620818~")
    answer = api.ok("/api/ingest/edi", body, format="852")
    far = [line for line in answer["lines"] if line.get("reason") == "future_date"]
    assert [(line["field"], line["line"]) for line in far] == [("ZA05", 21)]
    assert not [e for e in api.events("InventoryCounted") if e.counted_at.year == 2062]


def test_a_report_whose_period_cannot_be_is_rejected_as_a_whole(api):
    body = WEEKLY.replace(b"DTM*090*20260330~", b"DTM*090*20620801~").replace(
        b"DTM*091*20260405~", b"DTM*091*20620807~"
    )
    answer = api.ok("/api/ingest/edi", body)
    assert answer["reports"][0]["published"] is False
    assert answer["summary"]["rejected_by_reason"] == {"future_date": 5}
    assert "period_start: 2062-08-01 is after" in answer["lines"][0]["detail"]
    assert {e.event_type for e in api.events()} == {"LineRejected"}
    csv = csv_text("C-1,RES-1,WIDGET-100,1,12.50,USD,2026-04-07")
    answer = api.ok("/api/ingest/csv", csv, period_start="1999-12-27", period_end="2000-01-02")
    assert answer["summary"]["rejected_by_reason"] == {"date_out_of_range": 1}
    assert answer["reports"][0]["published"] is False
