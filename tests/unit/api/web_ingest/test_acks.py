"""The EDI and claims doors answer an X12 interchange with its acknowledgement when asked
(?ack=997 or Accept: application/edi-x12), after publishing as they always do."""

from __future__ import annotations

import io

import orjson

from streams.ingest.parsers.x12 import Segment, tokenize
from tests.unit.api.ingest_api import WEEKLY
from tests.unit.parsers.conftest import SAMPLES
from tests.unit.parsers.edi_builder import interchange
from tests.unit.parsers.test_x12_ack import HEADER, LINE

X12 = "application/edi-x12"
LINE_ERRORS = (SAMPLES / "867_line_errors.edi").read_bytes()
CLAIM_844 = (SAMPLES / "844_claim.edi").read_bytes()
ERRORS_844 = (SAMPLES / "844_line_errors.edi").read_bytes()
CLAIMS_CSV = (SAMPLES / "claims_good.csv").read_bytes()


def read_ack(body: bytes) -> list[Segment]:
    return list(tokenize(io.BytesIO(body)))  # checks its envelope too


def notes(segments: list[Segment]) -> list[str]:
    return [seg.text for seg in segments if seg.tag in ("TA1", "AK1", "AK2", "AK5", "AK9")]


def test_the_ack_replaces_the_json_answer_and_the_lines_are_published_as_ever(api):
    status, media, body = api.raw("/api/ingest/edi", LINE_ERRORS, ack="997")
    assert (status, media) == (200, X12)
    ack = read_ack(body)
    assert notes(ack) == ["AK1*PT*101~", "AK2*867*0001~", "AK5*E*5~", "AK9*E*1*1*1~"]
    assert "AK3*QTY*14**8~" in [seg.text for seg in ack]
    assert "AK3*UIT*18**3~" in [seg.text for seg in ack]  # the missing segment, named
    published = {e.transaction_id for e in api.events("SaleReported")}
    assert published and "INV2001-2" not in published  # QTY*39*TEN: not published

    # the same upload answered in JSON (the default) publishes nothing new: duplicates
    answer = api.ok("/api/ingest/edi", LINE_ERRORS)
    assert answer["summary"]["accepted"] == 0 and answer["summary"]["duplicate"] == len(published)


def test_accept_asks_for_it_too_and_isa14_adds_a_ta1(api):
    body = WEEKLY.replace(b"*000000101*0*P*", b"*000000101*1*P*")
    status, media, answer = api.raw("/api/ingest/edi", body, {"Accept": X12})
    assert (status, media) == (200, X12)
    ack = read_ack(answer)
    assert notes(ack)[:2] == ["TA1*000000101*260406*0830*A*000~", "AK1*PT*101~"]
    assert notes(ack)[-2:] == ["AK5*A~", "AK9*A*1*1*1~"]


def test_business_rejections_are_left_to_the_json_answer(api):
    """An unknown product is the gateway's verdict, not a syntax error: the 997 accepts
    the set, the JSON answer rejects the line."""
    body = WEEKLY.replace(b"LIN*2*VP*GADGET-200", b"LIN*2*VP*NO-SUCH-SKU")
    assert body != WEEKLY
    _, _, answer = api.raw("/api/ingest/edi", body, ack="997")
    assert notes(read_ack(answer))[-2:] == ["AK5*A~", "AK9*A*1*1*1~"]
    answer = api.ok("/api/ingest/edi", body)  # sent again, answered in JSON
    assert answer["summary"]["rejected_by_reason"] == {"unknown_sku": 1}


def test_a_structural_error_is_acknowledged_as_a_rejection_and_nothing_is_published(api):
    body = WEEKLY.replace(b"GE*1*101", b"GE*2*101")
    assert body != WEEKLY
    status, media, answer = api.raw("/api/ingest/edi", body, ack="997")
    assert (status, media) == (422, X12)
    assert notes(read_ack(answer))[-1] == "AK9*R*1*1*0*5~"
    assert api.published == []


def test_no_readable_isa_is_answered_in_json(api):
    status, media, answer = api.raw("/api/ingest/edi", b"ISA*00*short~", ack="997")
    assert (status, media) == (422, "application/json")
    assert orjson.loads(answer)["error"]["code"] == "x12_structure"


def test_a_transaction_set_of_a_kind_not_read_is_rejected_as_not_supported(api):
    invoice = interchange(["BIG*20260406*1"], functional_id="IN", set_id="810")
    status, media, answer = api.raw("/api/ingest/edi", invoice, ack="997")
    assert (status, media) == (422, X12)
    assert notes(read_ack(answer)) == ["AK1*IN*101~", "AK2*810*0001~", "AK5*R*1~", "AK9*R*1*1*0~"]
    assert api.published == []


def test_without_a_register_the_answer_says_nothing_of_resends(api):
    """No PostgreSQL configured (the embedded runner): an interchange sent twice is answered
    as ever, its lines duplicates, and neither answer names an interchange."""
    first = api.ok("/api/ingest/edi", WEEKLY)
    again = api.ok("/api/ingest/edi", WEEKLY)
    assert "interchange" not in first and "interchange" not in again
    assert again["summary"]["duplicate"] == first["summary"]["accepted"] > 0
    _, _, ack = api.raw("/api/ingest/edi", WEEKLY.replace(b"*0*P*", b"*1*P*"), ack="997")
    assert notes(read_ack(ack))[0] == "TA1*000000101*260406*0830*A*000~"


def test_the_claims_door_acknowledges_an_844_each_claim_taken_or_refused_whole(api):
    status, media, body = api.raw("/api/ingest/claims", CLAIM_844, {"Accept": X12})
    assert (status, media) == (200, X12)
    assert notes(read_ack(body)) == ["AK1*CF*231~", "AK2*844*0001~", "AK5*A~", "AK9*A*1*1*1~"]

    # a claim with any problem is refused whole: its set is rejected, its segments named
    status, media, body = api.raw("/api/ingest/claims", ERRORS_844, ack="997")
    assert (status, media) == (200, X12)
    ack = read_ack(body)
    assert notes(ack) == ["AK1*CF*232~", "AK2*844*0001~", "AK5*R*5~", "AK9*R*1*1*0~"]
    assert "AK4*2**6*2.5~" in [seg.text for seg in ack]  # QTY*39*2.5: not a whole number


def test_a_csv_claim_file_is_answered_in_json_all_the_same(api):
    status, media, body = api.raw("/api/ingest/claims", CLAIMS_CSV, ack="997")
    assert (status, media) == (200, "application/json")
    assert orjson.loads(body)["format"] == "claim-csv"


def test_a_missing_heading_segment_is_named_in_the_ack_and_the_answer(api):
    """An 867 without its BPT: the 997 names the BPT where it would have stood (AK302 2,
    right after the ST), and the JSON answer says which segment is missing and where."""
    body = interchange([*HEADER[1:], *LINE, "UIT*EA*1.50", "CTT*1"])
    status, _, ack = api.raw("/api/ingest/edi", body, ack="997")
    assert status == 200
    assert [seg.text for seg in read_ack(ack) if seg.tag in ("AK3", "AK5")] == [
        "AK3*BPT*2**3~",
        "AK5*R*5~",
    ]
    (report,) = api.ok("/api/ingest/edi", body)["reports"]
    (error,) = report["report_errors"]
    assert (error["segment"], error["reason"]) == (3, "missing_bpt")  # noticed at the ST
    assert error["message"] == "the report has no BPT (beginning segment)"
    # before the segment after the ST
    assert error["missing"] == {"id": "BPT", "qualifier": "", "before": 4}


def test_a_set_repeating_a_control_number_is_rejected_23_and_its_lines_dead_lettered(api):
    """A translator that numbers two sets of one group alike: the second (here a report of
    its own, W15) is rejected as a whole, in the 997 (AK5 R 23) and in the JSON answer,
    and its lines are published as LineRejected, never as sales."""
    text = WEEKLY.decode()
    start, end = text.index("ST*867*0001~"), text.index("GE*1*101~")
    second = text[start:end].replace("RPT-2026-W14", "RPT-2026-W15").replace("INV1", "INV9")
    body = (text[:end] + second + text[end:].replace("GE*1*101", "GE*2*101")).encode()
    _, _, ack = api.raw("/api/ingest/edi", body, ack="997")
    assert notes(read_ack(ack))[1:] == [
        "AK2*867*0001~", "AK5*A~", "AK2*867*0001~", "AK5*R*23~", "AK9*P*2*2*1~"
    ]  # fmt: skip
    sales = {e.transaction_id for e in api.events("SaleReported")}
    assert sales and not any(t.startswith("INV9") for t in sales)
    letters = [e for e in api.events("LineRejected") if e.reason == "duplicate_control_number"]
    assert len(letters) == 5 and all(e.report_id == "RPT-2026-W15" for e in letters)

    answer = api.ok("/api/ingest/edi", body)  # the same again, answered in JSON
    (error,) = answer["reports"][1]["report_errors"]
    assert (error["element"], error["reason"]) == ("ST02", "duplicate_control_number")
    assert "'0001' was already used by the set at segment 3" in error["message"]
    assert answer["reports"][1]["published"] is False
