"""Special price authorizations through the HTTP door: admin submits them (keyed by
authorization on the authorizations topic), a distributor may not, and /api/authorizations
answers each deal per distributor with its terms as amended and expired, and
/api/authorizations/usage with its cap given out and days left."""

from __future__ import annotations

from tests.unit.api.web_ingest.test_agreements import event


def test_admin_authorizes_amends_and_expires_a_deal_and_reads_it(api):
    deal = event("SpecialPriceAuthorized", distributor_ids=["D01", "D02"])
    amended = event("SpecialPriceAmended")
    expired = event("SpecialPriceExpired")
    answer = api.ok("/api/ingest/events", [deal, amended, expired], token="admin")
    assert answer["summary"]["accepted"] == 3
    assert {(m.topic, m.key) for m in api.published} == {("authorizations", b"SPA-2026-0117")}
    rows = api.get("/api/authorizations?as_of=2026-08-20")["rows"]
    assert [(r["authorization_id"], r["distributor_id"]) for r in rows] == [
        ("SPA-2026-0117", "D01"),
        ("SPA-2026-0117", "D02"),
    ]
    row = rows[0]
    assert (row["quantity_cap"], row["amendments"], row["valid_to"]) == (
        800,
        ["SPA-2026-0117-A1"],
        "2026-08-31",
    )
    assert (row["floor_price"], row["expired_early"], row["in_effect"]) == ("95.00", True, True)
    assert api.get("/api/authorizations?as_of=2026-09-01")["rows"][0]["in_effect"] is False
    in_effect = api.get("/api/authorizations?as_of=2026-08-20&in_effect=true")["rows"]
    assert [r["distributor_id"] for r in in_effect] == ["D01", "D02"]
    assert api.get("/api/authorizations?as_of=2026-08-20&in_effect=false")["rows"] == []


def test_a_distributor_may_not_submit_an_authorization(api):
    status, answer = api.post("/api/ingest/events", [event("SpecialPriceAuthorized")], token="d1")
    assert status == 403, answer
    assert api.published == []


def test_the_usage_of_each_deal_per_distributor_and_near_its_expiry(api):
    deal = event("SpecialPriceAuthorized", distributor_ids=["D01", "D02"])
    api.ok("/api/ingest/events", [deal], token="admin")
    path = "/api/authorizations/usage"
    rows = api.get(f"{path}?as_of=2026-09-20")["rows"]
    assert [(r["distributor_id"], r["units_given"], r["days_left"], r["near"]) for r in rows] == [
        ("D01", 0, 10, ["expiry"]),
        ("D02", 0, 10, ["expiry"]),
    ]
    assert [r["near"] for r in api.get(f"{path}?as_of=2026-09-01")["rows"]] == [[], []]
