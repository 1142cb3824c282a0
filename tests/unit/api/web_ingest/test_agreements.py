"""Agreements and exchange rates through the HTTP door: admin submits them, a distributor
may not, and /api/agreements and /api/exchange-rates answer what was applied."""

from __future__ import annotations

import uuid
from typing import Any

from tests.unit.event_samples import SAMPLES


def event(event_type: str, **changes: Any) -> dict[str, Any]:
    """The sample of `event_type` with a fresh event id, recorded at its business time."""
    sample = {k: v for k, v in SAMPLES[event_type].items() if k != "recorded_at"}
    return {**sample, "event_id": str(uuid.uuid4()), **changes}


def test_admin_submits_an_agreement_and_its_amendment_and_reads_the_versions(api):
    signed = event("DistributorAgreementSigned")
    amended = event("DistributorAgreementAmended")
    answer = api.ok("/api/ingest/events", [signed, amended], token="admin")
    assert answer["summary"]["accepted"] == 2
    assert [m.topic for m in api.published] == ["agreements", "agreements"]
    assert {m.key for m in api.published} == {b"D01"}
    rows = api.get("/api/agreements?as_of=2026-08-20")["rows"]
    assert [(r["version_id"], r["effective_from"], r["in_effect"]) for r in rows] == [
        ("AG-D01-2026", "2026-07-01", False),
        ("M1", "2026-08-01", True),
    ]
    assert rows[1]["terms"]["discounts"] == [{"group_id": "G-NET", "discount": "0.07"}]
    assert rows[0]["terms"]["discounts"] == [{"group_id": "G-NET", "discount": "0.05"}]
    assert {r["last_day"] for r in rows} == {"2027-06-30"}


def test_a_distributor_may_not_submit_an_agreement_or_a_rate(api):
    for kind in ("DistributorAgreementSigned", "ExchangeRatePublished"):
        status, answer = api.post("/api/ingest/events", [event(kind)], token="d1")
        assert status == 403, answer
        assert kind in answer["error"]["message"]
    assert api.published == []


def test_rates_are_published_by_pair_and_listed(api):
    rates = [
        event("ExchangeRatePublished"),
        event("ExchangeRatePublished", from_currency="GBP", rate="1.2650"),
    ]
    assert api.ok("/api/ingest/events", rates, token="admin")["summary"]["accepted"] == 2
    assert [(m.topic, m.key) for m in api.published] == [
        ("rates", b"EUR>USD"),
        ("rates", b"GBP>USD"),
    ]
    rows = api.get("/api/exchange-rates?to_currency=USD")["rows"]
    assert [(r["from_currency"], r["rate"], r["effective_date"]) for r in rows] == [
        ("EUR", "1.0842", "2026-07-06"),
        ("GBP", "1.2650", "2026-07-06"),
    ]
    assert api.get("/api/exchange-rates?from_currency=GBP")["total"] == 1


def test_a_refused_amendment_is_answered_accepted_then_dead_lettered_by_the_projection(api):
    """The gateway's answer is a forecast; the projection refuses an unknown agreement."""
    orphan = event("DistributorAgreementAmended", agreement_id="AG-NONE")
    api.ok("/api/ingest/events", [orphan], token="admin")
    letters = {r["reason"]: r["count"] for r in api.get("/api/dead-letters")["rows"]}
    assert letters.get("unknown_agreement") == 1
    assert api.get("/api/agreements")["rows"] == []


def test_a_signing_with_invalid_terms_is_answered_rejected_with_every_problem(api):
    """As for a program: the answer names the problems, the worker dead-letters it."""
    broken = event(
        "DistributorAgreementSigned",
        discounts=[{"group_id": "G-NONE", "discount": "0.05"}],
        program_ids=["VPA-1", "VPA-1"],
    )
    answer = api.ok("/api/ingest/events", [broken], token="admin")
    (line,) = answer["lines"]
    assert (line["answer"], line["reason"]) == ("rejected", "invalid_agreement")
    assert "unknown product group 'G-NONE'" in line["detail"]
    assert "'VPA-1' appears twice" in line["detail"]
    letters = {r["reason"]: r["count"] for r in api.get("/api/dead-letters")["rows"]}
    assert letters.get("invalid_agreement") == 1
    assert api.get("/api/agreements")["rows"] == []
