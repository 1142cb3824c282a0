"""HTTP ingest of reports: CSV and X12 867 / 852 uploads, their answers per line, their
replacements and what is refused whole."""

from __future__ import annotations

import base64

import pytest
from aiohttp import FormData

from schemas.events import LineRejected, ReportSubmitted
from tests.unit.api.ingest_api import (
    WEEKLY,
    csv_text,
    inventory,
    quality,
    row,
)
from tests.unit.parsers.conftest import SAMPLES
from tests.unit.parsers.edi_builder import interchange

# --- CSV -----------------------------------------------------------------------------


def test_csv_report_answers_per_line_and_is_published_header_first(api):
    body = (SAMPLES / "sales_dist002_w15.csv").read_bytes()
    answer = api.ok("/api/ingest/csv", body, "d2", filename="w15.csv")
    assert answer["reports"] == [
        {
            "report_id": "DIST-002-2026W15",
            "replaces": None,
            "distributor_id": "DIST-002",
            "period_start": "2026-04-06",
            "period_end": "2026-04-11",
            "line_count": 8,
            "published": True,
        }
    ]
    summary = answer["summary"]
    assert (summary["lines"], summary["accepted"], summary["rejected"]) == (8, 5, 3)
    assert summary["rejected_by_reason"] == {"bad_date": 1, "bad_quantity": 1, "unknown_sku": 1}
    problems = {line["line"]: (line["reason"], line.get("field")) for line in answer["lines"]}
    assert problems == {
        6: ("bad_quantity", "quantity"),
        7: ("unknown_sku", "sku"),
        8: ("bad_date", "sold_at"),
    }
    assert row(answer, 6)["ref"] == "w15.csv:6"
    header, *lines = api.events()
    assert isinstance(header, ReportSubmitted) and header.line_count == 8
    assert {type(e).__name__ for e in lines} == {"SaleReported", "LineRejected"}
    # 12 + 4 + 12 (one case, by UPC) - 2 = 26 units of WIDGET-100; 2 cases of GADGET-200
    assert inventory(api, "DIST-002", "WIDGET-100")["sell_through"] == 26
    assert inventory(api, "DIST-002", "GADGET-200")["sell_through"] == 12
    counted = quality(api, "DIST-002")
    assert counted["accepted"] == 5
    assert counted["rejected_by_reason"] == {"bad_date": 1, "bad_quantity": 1, "unknown_sku": 1}
    dead = {letter.reason: letter for letter in api.channel.dead_letters}
    assert dead["bad_quantity"].original.startswith(
        b'DIST-002,INV7004-1,RES-320,WIDGET-100,,,"1,200"'
    )


def test_lines_all_lists_every_line_and_a_resend_is_answered_duplicate(api):
    body = (SAMPLES / "sales_dist002_w15.csv").read_bytes()
    api.ok("/api/ingest/csv", body, "d2")
    again = api.ok("/api/ingest/csv", body, "d2", lines="all")
    assert len(again["lines"]) == 8
    assert again["summary"]["duplicate"] == 5
    assert quality(api, "DIST-002")["accepted"] == 5  # nothing counted twice


def test_a_report_resent_under_a_new_id_without_replaces_is_told_to_send_replaces(api):
    """A corrected report sent as a new report (a new id, no `replaces`): each line whose
    transaction id a line of the earlier report holds is a conflict, and the answer and the
    dead letter name that report and say how to correct it; sent as told, it replaces it."""
    api.ok(
        "/api/ingest/csv", csv_text("C-1,RES-1,WIDGET-100,10,12.50,USD,2026-04-07"), report_id="W15"
    )
    corrected = csv_text("C-1,RES-1,WIDGET-100,7,12.50,USD,2026-04-07")
    answer = api.ok("/api/ingest/csv", corrected, report_id="W15-B")
    (line,) = answer["lines"]
    assert (line["answer"], line["reason"]) == ("conflict", "conflicting_duplicate")
    told = (
        "transaction_id 'C-1' was accepted before in report 'W15' with other content: to "
        "correct report 'W15', send the corrected report under a new report id with "
        "replaces=W15 (an 867: BPT01 05, BPT09 W15); a new sale needs a transaction_id of "
        "its own"
    )
    assert line["detail"] == told
    (letter,) = [d for d in api.channel.dead_letters if d.reason == "conflicting_duplicate"]
    assert letter.detail == f"upload.csv:2: {told}"
    answer = api.ok("/api/ingest/csv", corrected, report_id="W15-C", replaces="W15")
    assert answer["summary"]["accepted"] == 1
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 7
    # an 867 resent under another report number, as an original (BPT01 00), is told the same
    api.ok("/api/ingest/edi", WEEKLY)
    again = api.ok("/api/ingest/edi", WEEKLY.replace(b"BPT*00*RPT-2026-W14*", b"BPT*00*RPT-W14-B*"))
    assert {line["answer"] for line in again["lines"]} == {"conflict"}
    assert "report 'RPT-2026-W14'" in again["lines"][0]["detail"]
    assert "BPT09 RPT-2026-W14" in again["lines"][0]["detail"]


def test_csv_replacement_reverses_the_replaced_report(api):
    api.ok(
        "/api/ingest/csv", csv_text("C-1,RES-1,WIDGET-100,10,12.50,USD,2026-04-07"), report_id="W15"
    )
    corrected = csv_text("C-1,RES-1,WIDGET-100,7,12.50,USD,2026-04-07")
    answer = api.ok("/api/ingest/csv", corrected, report_id="W15-B", replaces="W15")
    assert answer["summary"]["accepted"] == 1
    assert answer["reports"][0]["replaces"] == "W15"
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 7


def test_multipart_upload_and_options_checked(api):
    form = FormData()
    form.add_field(
        "file",
        csv_text("C-1,RES-1,WIDGET-100,1,1.00,USD,2026-04-07"),
        filename="week.csv",
        content_type="text/csv",
    )
    answer = api.ok("/api/ingest/csv", form, lines="all")
    assert answer["file"] == "week.csv" and answer["lines"][0]["ref"] == "week.csv:2"
    status, error = api.post("/api/ingest/csv", csv_text(), replaces="X")
    assert (status, error["error"]["code"]) == (400, "bad_request")
    assert api.post("/api/ingest/csv", csv_text(), period_start="2026-04-06")[0] == 400


def test_a_bad_report_period_names_its_parameter(api):
    """Both given, one not a date: the answer says which, not that the two go together."""
    for options, said in (
        ({"period_start": "2026-13-01", "period_end": "2026-04-11"},
         "period_start '2026-13-01' is not a date like 2026-04-06"),
        ({"period_start": "2026-04-06", "period_end": "11.04.2026"},
         "period_end '11.04.2026' is not a date like 2026-04-06"),
        ({"period_end": "2026-04-11"}, "period_start is missing: period_start and period_end"),
    ):  # fmt: skip
        status, error = api.post("/api/ingest/csv", csv_text(), **options)
        assert (status, error["error"]["message"][: len(said)]) == (400, said)
    assert api.events() == []


def test_a_report_without_a_sale_date_or_a_period_credits_no_period(api):
    """A header-only export, or one whose every date is unreadable: no ReportSubmitted
    dated the day of receipt (it would count as that week's report, on time)."""
    empty = api.ok("/api/ingest/csv", csv_text(), filename="empty.csv")
    assert empty["reports"][0]["published"] is False
    assert empty["reports"][0]["period_start"] is None
    assert empty["reports"][0]["report_errors"] == [
        {
            "reason": "missing_period",
            "message": "report csv-e035a2ed546a28e2afc8 rejected as a whole: no line has a sale "
            "date to take its period from; give period_start and period_end",
        }
    ]
    undated = csv_text("U-1,RES-1,WIDGET-100,1,12.50,USD,07/04/2026")
    answer = api.ok("/api/ingest/csv", undated)
    assert answer["summary"]["rejected_by_reason"] == {"bad_date": 1}
    assert [e.event_type for e in api.events()] == ["LineRejected"]
    given = api.ok(
        "/api/ingest/csv", csv_text(), period_start="2026-04-06", period_end="2026-04-12"
    )
    assert given["reports"][0]["published"] is True  # a nil report for the period it names


def test_a_form_with_two_files_is_refused_and_nothing_published(api):
    """The second file was left unread while the first was answered 200."""
    form = FormData()
    for week, transaction in (("w14.csv", "C-14"), ("w15.csv", "C-15")):
        text = csv_text(f"{transaction},RES-1,WIDGET-100,1,1.00,USD,2026-04-07")
        form.add_field("file", text, filename=week, content_type="text/csv")
    form.add_field("comment", "two weeks at once")  # a field that is no file is left alone
    status, error = api.post("/api/ingest/csv", form)
    assert (status, error["error"]["code"]) == (400, "bad_request")
    assert "more than one file part" in error["error"]["message"]
    assert api.events() == []


def test_a_bad_csv_header_is_refused_whole(api):
    status, answer = api.post("/api/ingest/csv", b"distributor_id,qty,sku\nDIST-001,1,S\n")
    assert status == 422
    error = answer["error"]
    assert error["code"] == "bad_csv_header" and "qty" in error["unknown"]
    assert "quantity" in error["missing"]
    assert api.published == []


# --- X12 -----------------------------------------------------------------------------


def test_867_then_its_replacement(api):
    weekly = api.ok("/api/ingest/edi", (SAMPLES / "867_weekly.edi").read_bytes())
    assert weekly["format"] == "867" and weekly["summary"]["accepted"] == 5
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 32  # 10+5+20-3
    replace = api.ok("/api/ingest/edi", (SAMPLES / "867_replace.edi").read_bytes(), lines="all")
    report = replace["reports"][0]
    assert (report["purpose"], report["replaces"]) == ("replace", "RPT-2026-W14")
    assert [line["answer"] for line in replace["lines"]] == ["accepted"] * 3
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 9  # 10-1
    assert inventory(api, "DIST-001", "GADGET-200")["sell_through"] == 12
    # each report's header went out before its lines
    kinds = [m.event_type for m in api.published]
    assert kinds == ["ReportSubmitted", *["SaleReported"] * 5] * 1 + [
        "ReportSubmitted",
        *["SaleReported"] * 3,
    ]


def test_867_quantity_sold_is_read_and_other_quantities_are_listed_as_ignored(api):
    answer = api.ok("/api/ingest/edi", (SAMPLES / "867_qty32.edi").read_bytes())
    assert answer["summary"]["accepted"] == 3 and answer["summary"]["rejected"] == 0
    assert inventory(api, "DIST-001", "WIDGET-100")["sell_through"] == 2  # 4 sold, 2 back
    report = answer["reports"][0]
    assert report["ignored_count"] == 1
    assert report["ignored"] == [
        {"segment": 14, "line": 1, "code": "QTY*17", "description": "quantity on hand",
         "quantity": "120"},
    ]  # fmt: skip


def test_867_line_errors_name_segment_and_element(api):
    answer = api.ok("/api/ingest/edi", (SAMPLES / "867_line_errors.edi").read_bytes())
    rejected = [line for line in answer["lines"] if line["answer"] == "rejected"]
    quantity = next(line for line in rejected if line["reason"] == "bad_quantity")
    assert quantity["field"] == "QTY02" and "segment" in quantity["ref"]
    ptd = next(line for line in rejected if line["reason"] == "unsupported_ptd_type")
    assert ptd["field"] == "PTD01" and "return to vendor" in ptd["detail"]
    letters = [e for e in api.events() if isinstance(e, LineRejected)]
    assert len(letters) == answer["summary"]["rejected"] - answer["summary"][
        "rejected_by_reason"
    ].get("unknown_sku", 0) - answer["summary"]["rejected_by_reason"].get("unknown_unit", 0)
    assert all(base64.b64decode(e.original_b64).startswith(b"PTD*") for e in letters)


def test_an_867_item_the_catalog_does_not_know_names_its_lin_element(api):
    body = (SAMPLES / "867_weekly.edi").read_bytes()
    body = body.replace(b"LIN*2*VP*GADGET-200", b"LIN*2*VP*GADGET-999")
    answer = api.ok("/api/ingest/edi", body)
    (line,) = [line for line in answer["lines"] if line["answer"] == "rejected"]
    assert (line["reason"], line["field"]) == ("unknown_sku", "LIN03")
    assert line["detail"].endswith("(read from LIN03 at segment 20)"), line["detail"]
    assert line["ref"].endswith("segment 20")


def test_an_852_count_is_blamed_on_the_element_it_was_read_from_as_an_867_line_is(api):
    """One rule at both X12 doors: a count the catalog does not know names its LIN
    element (the preferred id's: LIN05 where a VP follows a BP), a count dated out of range
    the element its time came from, with the segment, as an 867 line does."""
    body = (SAMPLES / "852_weekly.edi").read_bytes()
    body = body.replace(b"ZA*QA*9*CA*007*20260402~", b"ZA*QA*9*CA*007*19990402~")
    answer = api.ok("/api/ingest/edi", body, format="852")
    found = {
        line["line"]: (line["reason"], line["field"], line["detail"]) for line in answer["lines"]
    }
    reason, field, detail = found[23]  # LIN**BP*NW-CABLE-3M*VP*CABLE-300 (segment 22)
    assert (reason, field) == ("unknown_sku", "LIN05")
    assert detail.endswith("(read from LIN05 at segment 22)"), detail
    reason, field, detail = found[21]
    assert (reason, field) == ("date_out_of_range", "ZA05")
    assert detail.endswith("(read from ZA05 at segment 21)"), detail
    # the dead letter says what the worker judged, where the count was read
    (letter,) = [
        d for d in api.channel.dead_letters if d.reason == "unknown_sku" and b"CABLE" in d.original
    ]
    assert letter.detail.startswith("upload.852 852 INVRPT-2026-W14 segment 23: sku: 'CABLE-300'")


def test_an_unknown_item_is_answered_by_the_column_it_was_read_from(api):
    """A UPC or part number the catalog does not know names the column the sender filled,
    as its header spells it; an item read from `sku` names `sku` as ever."""
    body = (
        b"distributor_id,transaction_id,reseller_id,SKU,Vendor_Part, UPC ,quantity,unit_price,"
        b"currency,sold_at\n"
        b"DIST-001,T-1,RES-1,,,012345678905,1,1.00,USD,2026-04-01\n"  # known UPC
        b"DIST-001,T-2,RES-1,,,099999999999,1,1.00,USD,2026-04-01\n"
        b"DIST-001,T-3,RES-1,,NO-SUCH-PART,,1,1.00,USD,2026-04-01\n"
        b"DIST-001,T-4,RES-1,NO-SUCH-SKU,,099999999999,1,1.00,USD,2026-04-01\n"
    )
    answer = api.ok("/api/ingest/csv", body, filename="w.csv")
    found = {
        line["line"]: (line["reason"], line["field"], line["detail"]) for line in answer["lines"]
    }
    assert found == {
        3: ("unknown_sku", "UPC", "sku: '099999999999' is not a known SKU, UPC or part "
            "number (read from column UPC)"),
        4: ("unknown_sku", "Vendor_Part", "sku: 'NO-SUCH-PART' is not a known SKU, UPC or "
            "part number (read from column Vendor_Part)"),
        5: ("unknown_sku", "sku", "sku: 'NO-SUCH-SKU' is not a known SKU, UPC or part number"),
    }  # fmt: skip


def test_a_report_error_rejects_every_line_of_its_report(api):
    body = (SAMPLES / "867_weekly.edi").read_bytes().replace(b"CTT*5*40~", b"CTT*4*40~")
    body = body.replace(b"LIN*2*VP*GADGET-200", b"LIN*2*VP*NOPE-1")  # unknown: its own reason
    answer = api.ok("/api/ingest/edi", body)
    assert answer["reports"][0]["report_errors"][0]["reason"] == "ctt_mismatch"
    assert answer["reports"][0]["published"] is False
    assert answer["summary"]["rejected_by_reason"] == {"ctt_mismatch": 4, "unknown_sku": 1}
    rejections = api.events()
    assert {e.event_type for e in rejections} == {"LineRejected"}  # no line, no header
    assert sorted(e.reason for e in rejections) == ["ctt_mismatch"] * 4 + ["unknown_sku"]
    assert quality(api, "DIST-001")["rejected_by_reason"] == {"ctt_mismatch": 4, "unknown_sku": 1}


def test_a_report_error_rejects_every_count_of_an_852(api):
    """As in an 867: each count the report would have given is answered and dead-lettered
    with the report's reason and its ZA segment; lines in error keep their own."""
    body = (SAMPLES / "852_weekly.edi").read_bytes().replace(b"CTT*6~", b"CTT*5~")
    answer = api.ok("/api/ingest/edi", body, format="852", lines="all")
    assert answer["reports"][0]["report_errors"][0]["reason"] == "ctt_mismatch"
    summary = answer["summary"]
    assert (summary["lines"], summary["accepted"]) == (7, 0)
    assert summary["rejected_by_reason"] == {
        "ctt_mismatch": 5, "missing_item": 1, "negative_on_hand": 1
    }  # fmt: skip
    lines = [line["line"] for line in answer["lines"]]
    assert lines == sorted(lines)  # in file order
    rejections = api.events()
    assert {e.event_type for e in rejections} == {"LineRejected"}
    withheld = [e for e in rejections if e.reason == "ctt_mismatch"]
    assert len(withheld) == 5
    assert all(base64.b64decode(e.original_b64).startswith(b"ZA*") for e in withheld)
    assert quality(api, "DIST-001")["rejected"] == 7


def test_852_counts_reach_the_inventory(api):
    answer = api.ok("/api/ingest/edi", (SAMPLES / "852_weekly.edi").read_bytes(), format="852")
    report = answer["reports"][0]
    assert report["report_id"] == "INVRPT-2026-W14" and report["ignored_count"] >= 5
    counted = inventory(api, "DIST-001", "WIDGET-100")
    assert counted["last_count_on_hand"] == 120
    reasons = answer["summary"]["rejected_by_reason"]
    assert reasons["negative_on_hand"] == 1 and reasons["missing_item"] == 1


def test_an_852_is_answered_in_file_order(api):
    body = (SAMPLES / "852_weekly.edi").read_bytes().replace(b"ZA*OH*48*EA~", b"ZA*OH*4B*EA~")
    answer = api.ok("/api/ingest/edi", body, format="852", lines="all")
    segments = [line["line"] for line in answer["lines"]]
    assert segments == sorted(segments)
    assert ("bad_quantity", 15) in [(line.get("reason"), line["line"]) for line in answer["lines"]]
    sent_again = api.ok("/api/ingest/edi", body, format="852")  # duplicates and rejections
    segments = [line["line"] for line in sent_again["lines"]]
    assert segments == sorted(segments) and len(segments) == len(answer["lines"])


@pytest.mark.parametrize(
    ("body", "params", "code", "segment"),
    [
        ((SAMPLES / "867_weekly.edi").read_bytes()[:700], {}, "x12_structure", 28),
        (WEEKLY[:106] + WEEKLY[106:].replace(b"*", b"|"), {}, "x12_structure", 2),
        (b"hello", {}, "x12_structure", 1),
        # the ST of a kind not asked for, or not read
        ((SAMPLES / "867_weekly.edi").read_bytes(), {"format": "852"}, "wrong_format", 3),
        (interchange(["BIG*20260406*1"], set_id="810"), {}, "unsupported_transaction_set", 3),
    ],
)
def test_unreadable_interchanges_are_refused_whole(api, body, params, code, segment):
    status, answer = api.post("/api/ingest/edi", body, **params)
    assert (status, answer["error"]["code"]) == (422, code), answer
    assert answer["error"].get("segment") == segment
    assert api.published == []


def test_x12_options_are_the_reports_own(api):
    status, answer = api.post(
        "/api/ingest/edi", (SAMPLES / "867_weekly.edi").read_bytes(), replaces="X"
    )
    assert status == 400 and answer["error"]["unknown"] == ["replaces"]
    assert api.published == []
