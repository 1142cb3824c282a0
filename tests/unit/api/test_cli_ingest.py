"""`channelflow ingest`: the format is told by the content; the answer becomes a table."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError

from infra.interchange_register import InterchangeKey, Receipt
from schemas.codec import encode_event
from streams.auth import TokenRegistry, token_hash
from streams.cli import ingest_http as cli_ingest
from streams.cli.ingest import detect_format, summary_table
from streams.cli.main import main
from streams.generator import generate_sales
from streams.ingest.interchanges import Registered
from streams.ingest.parsers.x12 import tokenize
from streams.kafka.messages import Message
from tests.live_app import LiveApp
from tests.unit.api.ingest_api import catalog, sale
from tests.unit.parsers.conftest import SAMPLES
from tests.unit.parsers.edi_builder import interchange


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("867_weekly.edi", "867"),
        ("852_weekly.edi", "852"),
        ("sales_good.csv", "csv"),
        ("sales_dist002_w15.csv", "csv"),
    ],
)
def test_format_is_detected_from_the_content(name: str, expected: str) -> None:
    assert detect_format(SAMPLES / name) == expected


def test_json_and_unsupported_x12(tmp_path: Path) -> None:
    events = tmp_path / "batch.txt"
    events.write_text('  [{"event_type": "SaleReported"}]')
    assert detect_format(events) == "events"
    invoice = tmp_path / "invoice.edi"
    invoice.write_bytes(interchange(["BIG*20260406*1"], set_id="810"))
    assert main(["ingest", str(invoice), "--url", "http://127.0.0.1:9"]) == 2  # refused first
    csv = SAMPLES / "sales_good.csv"
    assert main(["ingest", str(csv), "--url", "http://127.0.0.1:9"]) == 3  # nobody listens


def test_missing_file_and_bad_options_are_user_errors(tmp_path: Path, capsys) -> None:
    assert main(["ingest", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    csv = SAMPLES / "sales_good.csv"
    assert main(["ingest", str(csv), "--replaces", "R-1"]) == 2
    assert "--replaces needs --report-id" in capsys.readouterr().err
    assert main(["ingest", str(csv), "--report-id", "W\u200b14"]) == 2
    assert "--report-id: 'W\\u200b14': contains U+200B" in capsys.readouterr().err
    assert main(["deadletters", "show"]) == 2
    assert "needs --partition and --offset" in capsys.readouterr().err


def test_an_ack_file_is_for_an_x12_interchange_published_straight_to_kafka(capsys) -> None:
    edi, csv = str(SAMPLES / "867_weekly.edi"), str(SAMPLES / "sales_good.csv")
    for args in (
        [edi, "--ack-file", "a.997", "--url", "http://127.0.0.1:9"],
        [edi, "--ack-file", "a.997", "--check"],
        [csv, "--ack-file", "a.997"],
    ):
        assert main(["ingest", *args]) == 2
        assert "--ack-file acknowledges an X12 interchange" in capsys.readouterr().err


def test_an_isa15_neither_p_nor_t_is_refused_and_its_ta1_written(tmp_path: Path, capsys) -> None:
    """Refused as it is read for its format, before Kafka is asked anything: the
    acknowledgement file holds the TA1 R / 020 alone."""
    bad, target = tmp_path / "bad.edi", tmp_path / "bad.997"
    bad.write_bytes((SAMPLES / "867_weekly.edi").read_bytes().replace(b"*0*P*", b"*0*X*"))
    assert main(["ingest", str(bad), "--ack-file", str(target), "--url", "http://127.0.0.1:9"]) == 2
    assert not target.exists()  # over HTTP the server answers it
    assert main(["ingest", str(bad), "--ack-file", str(target)]) == 2
    assert "ISA15 usage indicator 'X' must be P (production) or T (test)" in capsys.readouterr().err
    ack = [seg.text for seg in tokenize(io.BytesIO(target.read_bytes()))]
    assert ack[1:] == ["TA1*000000101*260406*0830*R*020~", "IEA*0*" + ack[0].split("*")[13] + "~"]


def test_summary_table_lists_answers_reasons_and_problem_lines() -> None:
    answer = {
        "format": "csv",
        "file": "w15.csv",
        "reports": [{"report_id": "W15", "distributor_id": "D", "published": True}],
        "summary": {
            "lines": 3,
            "accepted": 1,
            "duplicate": 1,
            "conflict": 0,
            "rejected": 1,
            "rejected_by_reason": {"bad_quantity": 1},
            "published": 4,
        },
        "lines": [
            {"line": 3, "ref": "w15.csv:3", "answer": "duplicate", "detail": "sent before"},
            {
                "line": 4,
                "ref": "w15.csv:4",
                "answer": "rejected",
                "reason": "bad_quantity",
                "field": "quantity",
                "detail": "'x' is not a number",
            },
        ],
    }
    table = summary_table(answer)
    assert "report: report_id W15, distributor_id D (published)" in table
    assert "bad_quantity" in table and "w15.csv:4: rejected bad_quantity [quantity]" in table
    assert "4 messages published" in table
    assert "interchange" not in table


def test_summary_table_names_a_missing_segment_and_where_it_belongs() -> None:
    error = {
        "segment": 3,
        "element": None,
        "reason": "missing_bpt",
        "message": "the report has no BPT (beginning segment)",
        "missing": {"id": "BPT", "qualifier": "", "before": 4},
    }
    counts = dict.fromkeys(("lines", "accepted", "duplicate", "conflict", "rejected"), 0)
    answer = {
        "format": "867",
        "file": "w15.edi",
        "reports": [{"report_id": None, "published": False, "report_errors": [error]}],
        "summary": {**counts, "rejected_by_reason": {}, "published": 0},
        "lines": [],
    }
    assert (
        "report error at segment 3: the report has no BPT (beginning segment) (BPT belongs "
        "before segment 4)"
    ) in summary_table(answer)


def test_summary_table_says_an_interchange_was_received_before() -> None:
    first = Registered(
        InterchangeKey("ZZ", "ACMEDIST", "ZZ", "VENDORCO", "000000101"),
        "d2",
        Receipt(datetime(2026, 4, 6, 8, 30, tzinfo=UTC), "d1", "DIST-001", "accepted"),
    )
    summary = {"lines": 0, "rejected_by_reason": {}, "published": 0} | dict.fromkeys(
        ("accepted", "duplicate", "conflict", "rejected"), 0
    )
    answer = {"format": "867", "file": "w14.edi", "reports": [], "summary": summary, "lines": []}
    table = summary_table({**answer, "interchange": first.answer()})
    assert (
        "interchange 000000101 from ACMEDIST was first received at 2026-04-06T08:30:00Z: "
        "this control number was received before with other content" in table
    )


def test_summary_table_of_an_852_lists_what_it_ignored_and_claims_no_header() -> None:
    ignored = [
        {"segment": 12 + n, "sku": "W-1", "code": "QS", "description": "quantity sold",
         "quantity": str(n)}
        for n in range(12)
    ]  # fmt: skip
    answer = {
        "format": "852",
        "file": "inv.edi",
        "reports": [
            {
                "report_id": "INV-1",
                "counts": 1,
                "ignored": ignored,
                "ignored_count": 13,
                "published": False,
            }
        ],
        "summary": {
            "lines": 1,
            "accepted": 1,
            "duplicate": 0,
            "conflict": 0,
            "rejected": 0,
            "rejected_by_reason": {},
            "published": 1,
        },
        "lines": [],
    }
    table = summary_table(answer)
    assert "report: report_id INV-1\n" in table  # no "(not published)": an 852 has no header
    assert "ignored at segment 12: QS quantity sold (W-1, 0)" in table
    assert "ignored at segment 22" not in table
    assert "... and 3 more ignored" in table


def test_summary_table_wording_of_a_checked_report_and_a_duplicate() -> None:
    answer = {
        "format": "867",
        "file": "w.edi",
        "reports": [{"report_id": "R", "line_count": 1, "published": False}],
        "summary": {
            "lines": 1,
            "accepted": 0,
            "duplicate": 1,
            "conflict": 0,
            "rejected": 0,
            "rejected_by_reason": {},
            "published": 0,
        },
        "lines": [
            {
                "line": 1,
                "ref": "w.edi 867 R segment 9",
                "answer": "duplicate",
                "detail": "already accepted",
            }
        ],
        "check": {"catalog": "checked"},
    }
    table = summary_table(answer)
    assert "(would not be published)" in table
    assert "w.edi 867 R segment 9: duplicate: already accepted" in table


def test_an_upload_answered_503_is_sent_again_and_counted_once(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli_ingest, "RETRY_WAITS", (0.0, 0.0))
    app = LiveApp(TokenRegistry([{"sha256": token_hash("d1"), "role": "distributor",
                                  "actor": "d1", "distributor_id": "DIST-001"}]))  # fmt: skip
    app.channel.feed_events(catalog())
    applied = app.channel.submit
    tries: list[int] = []

    async def broker_away_once(messages: Sequence[Message]) -> None:
        tries.append(len(messages))
        if len(tries) == 1:
            raise KafkaTimeoutError()
        await applied(messages)

    app.channel.submit = broker_away_once  # type: ignore[method-assign]  # taken at start
    app.start()
    try:
        status = main(
            ["ingest", str(SAMPLES / "sales_good.csv"), "--url", app.url, "--token", "d1"]
        )
    finally:
        app.stop()
    err = capsys.readouterr().err
    assert status == 0, err
    assert "HTTP 503 unavailable" in err and "sending again in 0 s (1/2)" in err
    (quality,) = [
        row for row in app.channel.snapshot()["quality"] if row["distributor_id"] == "DIST-001"
    ]
    assert quality["accepted"] == 5 and quality["duplicates"] == 0


# --- ingest --check: the same answers offline, nothing published ----------------------

#: no broker listens here: a --check that tried Kafka would fail (exit 2)
NO_KAFKA = ["--kafka", "127.0.0.1:9"]
SALE = sale("J-0")


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """A JSON Lines file of events as `channelflow generate` writes: products, and a sale
    (which the catalog skips)."""
    path = tmp_path / "events.jsonl"
    events = [*catalog(), next(generate_sales(1))]
    path.write_bytes(b"".join(encode_event(event) + b"\n" for event in events))
    return path


def check(capsys: Any, *args: str) -> tuple[int, str]:
    """`channelflow ingest ... --check`: (exit status, what it printed)."""
    status = main(["ingest", *args, "--check", *NO_KAFKA])
    captured = capsys.readouterr()
    return status, captured.out


def test_check_answers_a_csv_as_a_submission_would(capsys, catalog_file) -> None:
    sample = str(SAMPLES / "sales_dist002_w15.csv")
    status, table = check(capsys, sample, "--catalog", str(catalog_file))
    assert status == 1  # a rejected line, as a submission
    assert "sales_dist002_w15.csv (csv): 8 lines" in table
    assert "period_end 2026-04-11 (would be published)" in table
    for reason in ("bad_date", "bad_quantity", "unknown_sku"):
        assert reason in table
    assert "sales_dist002_w15.csv:7: rejected unknown_sku" in table
    assert "checked offline (--check): nothing published" in table
    assert f"catalog: 2 products from {catalog_file}" in table
    assert "messages published" not in table


def test_without_a_catalog_the_catalog_is_not_checked_and_the_answer_says_so(capsys) -> None:
    status, table = check(capsys, str(SAMPLES / "sales_dist002_w15.csv"), "--json")
    answer = orjson.loads(table)
    assert status == 1
    assert answer["summary"]["rejected_by_reason"] == {"bad_date": 1, "bad_quantity": 1}
    assert answer["summary"]["published"] == 0
    assert answer["check"]["published"] is False
    assert answer["check"]["catalog"].startswith("not checked (no --catalog)")
    status, table = check(capsys, str(SAMPLES / "sales_good.csv"))
    assert status == 0 and "catalog: not checked" in table


def test_check_answers_x12_and_json_events(capsys, catalog_file, tmp_path: Path) -> None:
    status, table = check(capsys, str(SAMPLES / "867_weekly.edi"), "--catalog", str(catalog_file))
    assert status == 0 and "accepted" in table and "867_weekly.edi (867): 5 lines" in table
    status, table = check(capsys, str(SAMPLES / "852_weekly.edi"))
    assert status == 1 and "negative_on_hand" in table
    events = tmp_path / "batch.json"
    good = {**SALE, "transaction_id": "J-1"}
    future = {**SALE, "transaction_id": "J-2", "sold_at": "2062-08-18T00:00:00Z"}
    events.write_bytes(orjson.dumps([good, future, good]))
    status, out = check(capsys, str(events), "--json")
    answer = orjson.loads(out)
    assert status == 1
    assert [(line["line"], line["answer"], line.get("reason")) for line in answer["lines"]] == [
        (2, "rejected", "future_date"),
        (3, "duplicate", None),
    ]


def test_check_reads_json_lines_written_with_a_byte_order_mark(capsys, tmp_path: Path) -> None:
    events = tmp_path / "notepad.jsonl"
    lines = [orjson.dumps({**SALE, "transaction_id": f"B-{n}"}) for n in (1, 2)]
    events.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines))
    status, out = check(capsys, str(events), "--json")
    assert status == 0, out
    assert orjson.loads(out)["summary"]["accepted"] == 2


def test_an_empty_file_is_refused_as_empty_whatever_its_name(capsys, tmp_path: Path) -> None:
    """Not as a CSV report without its header: an empty .edi is no CSV."""
    for name, body in (("w15.edi", b""), ("w15.csv", b"\xef\xbb\xbf\r\n \n")):
        path = tmp_path / name
        path.write_bytes(body)
        assert main(["ingest", str(path), "--check", *NO_KAFKA]) == 2
        err = capsys.readouterr().err
        assert f"{path} is empty (or holds only blanks): nothing was published" in err
        assert "header" not in err


def test_check_refuses_what_a_submission_refuses(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("distributor_id,qty\nD,1\n")
    status = main(["ingest", str(bad), "--check", *NO_KAFKA])
    assert status == 2 and "unknown columns: 'qty'" in capsys.readouterr().err
    sample = str(SAMPLES / "sales_good.csv")
    assert main(["ingest", sample, "--check", "--url", "http://127.0.0.1:9"]) == 2
    assert "--check runs offline" in capsys.readouterr().err
    assert main(["ingest", sample, "--catalog", str(bad)]) == 2
    assert "--catalog is for --check" in capsys.readouterr().err
    status = main(["ingest", sample, "--check", "--catalog", str(bad), *NO_KAFKA])
    assert status == 2 and f"{bad}:1: not an event" in capsys.readouterr().err
