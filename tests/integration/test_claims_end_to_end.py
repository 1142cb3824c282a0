"""Ship and debit end to end on the real broker and PostgreSQL (docs/CLAIMS.md): the
authorizations and the POS sales on their topics, the distributor's X12 844 uploaded
through the claims door, decided by the worker and recorded on its `DebitClaim`
aggregate, answered by the 849 with the AAA codes and amounts worked out by hand below,
listed with its totals, approved and paid through the routes, sent again (a duplicate,
nothing changes); the worker's snapshot equals the replay's.

By hand, against `tests/samples/844_claim.edi` (DIST-001, claim DB-2026-0420):

- line 1, POS INV1001-1 (10 WIDGET-100 to RES-100), SPA-2026-0117 (8.90, cap 25), book
  11.40: AC, 10 units, (11.40 − 8.90) × 10 = 25.00;
- line 2, POS INV1003-1 (20 WIDGET-100 to RES-100), the same deal with 15 units of its cap
  left: CP, 15 units, 2.50 × 15 = 37.50;
- line 3, POS INV1002-1 (5 GADGET-200 to EC-0042), SPA-2026-0142 (118.50), book 139.00
  (claimed at 140.00): CC, 5 units, 20.50 × 5 = 102.50.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from schemas.claims import SpecialPriceAuthorized
from schemas.events import Envelope, PriceChanged, SaleReported
from streams.ingest.parsers.edi849 import read_849
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integration.helpers import catalog, matches_replay, publish, publish_reference_first
from tests.integration.test_claim_doors_kafka import get_849
from tests.integration.test_ingest_kafka import ACME, ADMIN, TOKENS
from tests.unit.parsers.conftest import SAMPLES

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

DISTRIBUTOR, CLAIM = "DIST-001", "DB-2026-0420"
WIDGET, GADGET = "WIDGET-100", "GADGET-200"
BOOK_FROM = datetime(2026, 1, 1, tzinfo=UTC)


def book(sku: str, cost: str) -> PriceChanged:
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=BOOK_FROM, source="erp", sku=sku,
        distributor_cost=Decimal(cost), floor_price=Decimal(cost), currency="USD",
        effective_from=BOOK_FROM, published_at=BOOK_FROM,
    )  # fmt: skip


def deals() -> list[SpecialPriceAuthorized]:
    terms: dict[str, Any] = {
        "occurred_at": datetime(2026, 2, 20, tzinfo=UTC), "source": "erp",
        "distributor_ids": [DISTRIBUTOR], "valid_from": date(2026, 3, 1),
        "valid_to": date(2026, 6, 30), "currency": "USD",
    }  # fmt: skip
    return [
        SpecialPriceAuthorized(
            event_id=uuid.uuid4(), authorization_id="SPA-2026-0117", skus=[WIDGET],
            reseller_id="RES-100", authorized_cost=Decimal("8.90"), quantity_cap=25, **terms,
        ),
        SpecialPriceAuthorized(
            event_id=uuid.uuid4(), authorization_id="SPA-2026-0142", skus=[GADGET],
            end_customer="EC-0042", authorized_cost=Decimal("118.50"), **terms,
        ),
    ]  # fmt: skip


def sale(
    transaction: str, sku: str, units: int, day: date, end_customer: str | None = None
) -> SaleReported:
    at = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id=DISTRIBUTOR,
        transaction_id=transaction, sku=sku, quantity=units, unit_price=Decimal("150.00"),
        currency="USD", sold_at=at, reseller_id="RES-100", end_customer=end_customer,
    )  # fmt: skip


SALES: list[Envelope] = [
    sale("INV1001-1", WIDGET, 10, date(2026, 3, 31)),
    sale("INV1003-1", WIDGET, 20, date(2026, 4, 3)),
    sale("INV1002-1", GADGET, 5, date(2026, 4, 2), end_customer="EC-0042"),
]
#: (line, AAA01, AAA03 codes, units accepted, amount accepted), worked out above
EXPECTED = [
    (1, "Y", ["AC"], 10, "25.00"),
    (2, "Y", ["CP"], 15, "37.50"),
    (3, "Y", ["CC"], 5, "102.50"),
]


def aaa_segments(answer: bytes) -> list[tuple[str, list[str]]]:
    """(AAA01, AAA03 codes) per LIN of an 849, in order."""
    lines: list[tuple[str, list[str]]] = []
    for segment in answer.decode().split("~"):
        fields = segment.strip().split("*")
        if fields[0] == "LIN":
            lines.append(("", []))
        elif fields[0] == "AAA":
            _, codes = lines[-1]
            lines[-1] = (fields[1], [*codes, fields[3]])
    return lines


def sold_units(worker: WorkerProcess) -> int:
    rows = worker.get("/api/snapshot")["sell_in_vs_through"]
    return sum(int(r["sell_through"]) for r in rows if r["distributor_id"] == DISTRIBUTOR)


def duplicates(worker: WorkerProcess) -> float:
    """Claims the worker took as duplicates (its /metrics)."""
    scraped = worker.metrics_text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in scraped.splitlines()
        if line.startswith("channelflow_events_consumed_total{")
        and 'event_type="DebitClaimSubmitted"' in line
        and 'verdict="duplicate"' in line
    )


def test_an_844_in_is_an_849_out_approved_paid_and_replayed(settings, worker_factory, database):
    worker = worker_factory(
        env={"CHANNELFLOW_TOKENS": json.dumps(TOKENS)}, eventstore_url=database
    ).start()
    worker.token = ADMIN  # every read without a token of its own
    publish_reference_first(
        settings, worker, [*catalog(WIDGET, GADGET), book(WIDGET, "11.40"), book(GADGET, "139.00")]
    )
    publish(settings, deals())
    wait_until(
        lambda: len(worker.get(f"/api/authorizations?distributor_id={DISTRIBUTOR}")["rows"]) == 2,
        60, "the deals known",
    )  # fmt: skip
    publish(settings, SALES)  # the POS lines first: the cap goes in the claim's line order
    wait_until(lambda: sold_units(worker) == 35, 60, "the POS lines applied")

    upload = (SAMPLES / "844_claim.edi").read_bytes()
    status, answer = worker.post("/api/ingest/claims?filename=844_claim.edi", upload, ACME)
    assert (status, answer["summary"]["accepted"]) == (200, 1), answer

    path = f"/api/claims/{DISTRIBUTOR}/{CLAIM}"

    def validated() -> Any:
        found = worker.get(path, ACME)
        return found["status"] == "validated" and found

    claim = wait_until(validated, 90, "the claim decided and recorded")
    assert (claim["total_claimed"], claim["total_accepted"]) == ("182.50", "165.00")

    # the list reads the worker's stored state, which a batch commits just after recording
    # its decisions in the event store (the claim above): it may trail by that commit
    [listed] = wait_until(
        lambda: worker.get("/api/claims?status=decided", ACME)["rows"], 30, "the claim listed"
    )
    assert (listed["claim_id"], listed["total_accepted"]) == (CLAIM, "165.00")
    assert listed["reasons"] == {"cap_partial": 1, "cost_corrected": 1}

    answer_849 = get_849(worker, path, ACME)
    assert [(flag, codes) for _, flag, codes, _, _ in EXPECTED] == aaa_segments(answer_849)
    [response] = read_849(io.BytesIO(answer_849))
    assert (response.claim_id, response.distributor_id) == (CLAIM, DISTRIBUTOR)
    assert [(r.line_no, r.quantity_accepted, r.amount_accepted) for r in response.lines] == [
        (n, units, Decimal(accepted)) for n, _, _, units, accepted in EXPECTED
    ]

    status, approved = worker.post(f"{path}/approve", {"reason": "checked against POS"}, ADMIN)
    assert (status, approved["status"]) == (200, "approved"), approved
    status, paid = worker.post(f"{path}/pay", {"reference": "ACH-778"}, ADMIN)
    assert (status, paid["status"], paid["settled"]) == (200, "paid", "165.00"), paid

    # the claim again in another envelope (another date): the door takes it, the worker
    # knows it as the same claim
    resent = upload.replace(b"BAA*00*DB-2026-0420*20260420", b"BAA*00*DB-2026-0420*20260425")
    status, again = worker.post("/api/ingest/claims?filename=again.edi", resent, ACME)
    assert (status, again["summary"]["accepted"]) == (200, 1), again
    wait_until(lambda: duplicates(worker) == 1, 60, "the resend counted a duplicate")
    assert worker.get(path, ACME)["event_id"] == paid["event_id"]

    snapshot = matches_replay(settings, worker)  # every decision as the replay gives it
    rows = [r for r in snapshot["claims"] if r["claim_id"] == CLAIM]
    assert [(r["line_no"], r["status"], r["amount_accepted"]) for r in rows] == [
        (1, "accepted", "25.00"), (2, "adjusted", "37.50"), (3, "adjusted", "102.50"),
    ]  # fmt: skip
