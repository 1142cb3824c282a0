"""Debit claims through the HTTP doors (JSON events, a CSV claim file, an X12 844): each
claim one event on the claims topic keyed by distributor, a claim with any problem refused
whole (every one of its lines answered and dead-lettered with its bytes), the file's other
claims standing, another distributor's claim refused."""

from __future__ import annotations

import base64

import orjson

from schemas.claims import DebitClaimSubmitted
from schemas.codec import encode_event
from schemas.events import LineRejected
from tests.unit.api.ingest_api import Api, row
from tests.unit.parsers.conftest import SAMPLES

GOOD_CSV = (SAMPLES / "claims_good.csv").read_bytes()
BAD_CSV = (SAMPLES / "claims_bad_lines.csv").read_bytes()
CLAIM_844 = (SAMPLES / "844_claim.edi").read_bytes()
ERRORS_844 = (SAMPLES / "844_line_errors.edi").read_bytes()


def claims(api: Api) -> list[DebitClaimSubmitted]:
    return api.events("DebitClaimSubmitted")


def rejections(api: Api) -> list[LineRejected]:
    return api.events("LineRejected")


def test_a_csv_claim_file_publishes_each_claim_on_the_claims_topic(api):
    answer = api.ok("/api/ingest/claims", GOOD_CSV, filename="april.csv")
    assert answer["format"] == "claim-csv"
    assert answer["summary"]["accepted"] == 2 and answer["summary"]["rejected"] == 0
    assert {(m.topic, m.key) for m in api.published} == {("claims", b"DIST-001")}
    assert [(c.claim_id, len(c.lines), c.source) for c in claims(api)] == [
        ("DB-2026-0420", 3, "csv"),
        ("DB-2026-0427", 1, "csv"),
    ]
    assert claims(api)[0].source_ref == "april.csv:2"


def test_the_same_file_again_is_the_same_event():
    first, second = Api(), Api()
    try:
        first.ok("/api/ingest/claims", GOOD_CSV)
        second.ok("/api/ingest/claims", GOOD_CSV)
        assert [c.event_id for c in claims(first)] == [c.event_id for c in claims(second)]
    finally:
        first.close()
        second.close()


def test_a_csv_with_bad_lines_refuses_their_claims_whole_and_dead_letters_every_line(api):
    body = b"\n".join(line for line in BAD_CSV.splitlines() if b"DIST-002" not in line) + b"\n"
    answer = api.ok("/api/ingest/claims", body, filename="bad.csv", lines="all")
    assert [c.claim_id for c in claims(api)] == ["DB-2026-0434"]
    problems = [(r["line"], r["reason"], r.get("field")) for r in answer["lines"]
                if r["answer"] == "rejected"]  # fmt: skip
    assert problems == [
        (2, "claim_refused", None),  # line 1 of DB-2026-0430, fine itself
        (3, "bad_quantity", "quantity"),
        (4, "bad_amount", "amount_claimed"),
        (5, "bad_price", "cost_paid"),
        (6, "claim_refused", None),  # DB-2026-0433's line 1 again: its first was wrong
    ]
    assert "refused whole" in row(answer, 3)["detail"]
    lines = body.decode().splitlines()
    sent = {r.source_ref: base64.b64decode(r.original_b64).decode() for r in rejections(api)}
    assert sent == {f"bad.csv:{n}": lines[n - 1] for n in (2, 3, 4, 5, 6)}
    dead = sorted(d.reason for d in api.channel.dead_letters)
    assert dead == ["bad_amount", "bad_price", "bad_quantity", "claim_refused", "claim_refused"]


def test_a_distributor_may_not_submit_another_distributors_claim(api):
    status, answer = api.post("/api/ingest/claims", BAD_CSV, "d1")
    assert status == 403, answer
    assert "distributor_mismatch" in answer["error"]["message"] or "DIST-002" in str(answer)
    assert api.published == []
    foreign = CLAIM_844.replace(b"*91*DIST-001", b"*91*DIST-002")
    status, answer = api.post("/api/ingest/claims", foreign, "d1")
    assert status == 403 and api.published == []


def test_an_admin_uploads_anyones_claims(api):
    answer = api.ok("/api/ingest/claims", BAD_CSV, token="admin")
    assert sorted(c.claim_id for c in claims(api)) == ["DB-2026-0432", "DB-2026-0434"]
    assert answer["summary"]["accepted"] == 2


def test_an_844_claim_is_one_event(api):
    answer = api.ok("/api/ingest/claims", CLAIM_844, filename="claim.edi")
    assert answer["format"] == "844"
    [claim] = claims(api)
    assert (claim.claim_id, claim.distributor_id, claim.source) == (
        "DB-2026-0420",
        "DIST-001",
        "edi844",
    )
    assert [(m.topic, m.key) for m in api.published] == [("claims", b"DIST-001")]
    again = api.ok("/api/ingest/edi", CLAIM_844, filename="claim.edi")  # the EDI door too
    assert again["format"] == "844" and claims(api)[1].event_id == claim.event_id


def test_a_malformed_844_names_each_segment_and_publishes_nothing_of_it(api):
    answer = api.ok("/api/ingest/claims", ERRORS_844, filename="errors.edi", lines="all")
    assert claims(api) == []
    rejected = [r for r in answer["lines"] if r["answer"] == "rejected"]
    assert rejected and all("segment" in r["ref"] for r in rejected)
    reasons = {r["reason"] for r in rejected}
    assert {"missing_transaction", "bad_quantity", "bad_amount"} <= reasons
    sent = ERRORS_844.decode()
    assert len(rejections(api)) == len(rejected)
    for rejection in rejections(api):  # the segments as sent, one a line
        original = base64.b64decode(rejection.original_b64).decode()
        assert original and all(segment in sent for segment in original.split("\n"))


def test_a_json_claim_is_accepted_for_its_own_distributor_only(api):
    api.ok("/api/ingest/claims", GOOD_CSV, token="admin")
    sent = orjson.loads(encode_event(claims(api)[0]))
    api.published.clear()
    answer = api.ok("/api/ingest/events", [sent], token="d1")
    assert answer["summary"]["accepted"] == 1
    assert [(m.topic, m.key) for m in api.published] == [("claims", b"DIST-001")]
    status, _ = api.post("/api/ingest/events", [sent], "d2")
    assert status == 403


def test_anything_but_844_in_x12_is_refused_on_the_claims_door(api):
    status, answer = api.post("/api/ingest/claims", (SAMPLES / "867_weekly.edi").read_bytes())
    assert status == 422 and answer["error"]["code"] == "unsupported_transaction_set"


def test_an_admins_rejected_lines_are_the_distributors_they_name(api):
    api.ok("/api/ingest/claims", BAD_CSV, token="admin")
    whose = {r.source_ref: r.distributor_id for r in rejections(api)}
    assert set(whose.values()) == {"DIST-001"}  # never "unattributed"
    assert all("claim 'DB-2026-04" in r.detail for r in rejections(api))


def test_a_distributors_unreadable_line_stays_its_own(api):
    header = GOOD_CSV.splitlines()[0]
    answer = api.ok("/api/ingest/claims", header + b"\nDB-9,DIST-002,1\n", token="d1")
    assert [(r["reason"], r.get("field")) for r in answer["lines"]] == [
        ("wrong_column_count", None)
    ]
    assert [r.distributor_id for r in rejections(api)] == ["DIST-001"]
