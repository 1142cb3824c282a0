"""Debit claims through Kafka and a worker on PostgreSQL (docs/CLAIMS.md, "Claims, wired
in"): a claim's lines accepted, adjusted (cap partial) and rejected (wrong reseller,
unknown authorization, already claimed, no debit due, wrong sku, return line, expired,
currency mismatch, wrong distributor), a line pending its POS line accepted when it
arrives after a restart (the waiting line comes back from the changelog), a conflicting resend
dead-lettered; the `DebitClaim` aggregate recorded, and the replay equal to live."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.claim_lifecycle import DebitClaim
from domain.claim_rules import claim_aggregate_id
from infra.eventstore import open_audit_log
from schemas.claims import ClaimLine, DebitClaimSubmitted, SpecialPriceAuthorized
from schemas.events import PriceChanged, SaleReported
from tests.integration.conftest import wait_until
from tests.integration.helpers import catalog, matches_replay, publish, publish_reference_first

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SKU = "SKU-SAD"
T0 = datetime(2026, 8, 3, 9, tzinfo=UTC)


def book() -> PriceChanged:
    at = T0 - timedelta(days=30)
    return PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=SKU,
        distributor_cost=Decimal("100.00"), floor_price=Decimal("120.00"), currency="USD",
        effective_from=at, published_at=at,
    )  # fmt: skip


def deal(authorization_id: str, distributor: str, cost: str) -> SpecialPriceAuthorized:
    return SpecialPriceAuthorized(
        event_id=uuid.uuid4(), occurred_at=T0, source="erp", authorization_id=authorization_id,
        distributor_ids=[distributor], skus=[SKU], reseller_id="R9",
        authorized_cost=Decimal(cost), valid_from=date(2026, 8, 1),
        valid_to=date(2026, 8, 31), quantity_cap=100, currency="USD",
    )  # fmt: skip


def sale(
    distributor: str, transaction: str, units: int, reseller: str = "R9", days: int = 0
) -> SaleReported:
    at = T0 + timedelta(days=days, hours=1)
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id=distributor,
        transaction_id=transaction, reseller_id=reseller, sku=SKU, quantity=units,
        unit_price=Decimal("95.00"), currency="USD", sold_at=at,
    )  # fmt: skip


def line(
    n: int, transaction: str, units: int, authorization: str, sku: str = SKU, currency: str = "USD"
) -> ClaimLine:
    return ClaimLine(
        line_no=n, transaction_id=transaction, sku=sku, quantity=units,
        authorization_id=authorization, cost_paid=Decimal("100.00"),
        authorized_cost=Decimal("70.00"), amount_claimed=Decimal(30 * units), currency=currency,
    )  # fmt: skip


def claim(distributor: str, claim_id: str, *lines: ClaimLine) -> DebitClaimSubmitted:
    at = T0 + timedelta(days=2)
    return DebitClaimSubmitted(
        event_id=uuid.uuid4(), occurred_at=at, source="api", claim_id=claim_id,
        distributor_id=distributor, submitted_at=at, lines=list(lines),
    )  # fmt: skip


def lines_of(worker: Any, distributor: str) -> dict[tuple[str, int], dict[str, Any]]:
    rows = worker.get("/api/snapshot")["claims"]
    return {(r["claim_id"], r["line_no"]): r for r in rows if r["distributor_id"] == distributor}


def test_claims_decided_live_across_a_restart_and_replayed(settings, worker_factory, pg_dsn):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    capped, spare, even, elsewhere = (f"SPA-{uuid.uuid4().hex[:8]}-{n}" for n in range(4))
    first = worker_factory(eventstore_url=pg_dsn).start()
    publish_reference_first(settings, first, [*catalog(SKU), book()])
    # `even` authorizes the book cost itself: nothing is due under it
    deals = [deal(capped, distributor, "70.00"), deal(spare, distributor, "70.00")]
    others = [deal(even, distributor, "100.00"), deal(elsewhere, f"{distributor}-X", "70.00")]
    publish(settings, [*deals, *others])
    known = f"/api/authorizations?distributor_id={distributor}"
    wait_until(lambda: len(first.get(known)["rows"]) == 3, 60, "the deals known")
    publish(
        settings,
        [sale(distributor, "T1", 60), sale(distributor, "T2", 50),
         sale(distributor, "T3", 10, reseller="R5"), sale(distributor, "T4", -3),
         sale(distributor, "T5", 4, days=40)],
    )  # fmt: skip
    c1 = claim(
        distributor, "C1", line(1, "T1", 60, capped), line(2, "T2", 50, capped),
        line(3, "T3", 10, capped), line(4, "T1", 1, "SPA-NONE"), line(5, "T9", 5, spare),
    )  # fmt: skip
    c2 = claim(
        distributor, "C2", line(1, "T1", 5, capped), line(2, "T2", 1, even),
        line(3, "T1", 1, capped, sku="SKU-NOT-IN-DEAL"), line(4, "T4", 3, spare),
        line(5, "T5", 4, spare), line(6, "T2", 1, spare, currency="EUR"),
        line(7, "T2", 1, elsewhere),
    )  # fmt: skip
    publish(settings, [c1, c2])

    def decided() -> Any:
        found = lines_of(first, distributor)
        return len(found) == 12 and found

    rows = wait_until(decided, 90, "every line decided")
    outcomes = {key: (row["status"], row.get("reasons")) for key, row in rows.items()}
    assert outcomes == {
        ("C1", 1): ("accepted", []),
        ("C1", 2): ("adjusted", ["cap_partial"]),
        ("C1", 3): ("rejected", ["wrong_reseller"]),
        ("C1", 4): ("rejected", ["unknown_authorization"]),
        ("C1", 5): ("pending_pos", ["pending_pos"]),
        ("C2", 1): ("rejected", ["already_claimed"]),
        ("C2", 2): ("rejected", ["no_debit_due"]),
        ("C2", 3): ("rejected", ["wrong_sku"]),
        ("C2", 4): ("rejected", ["return_line"]),
        ("C2", 5): ("rejected", ["expired"]),
        ("C2", 6): ("rejected", ["currency_mismatch"]),
        ("C2", 7): ("rejected", ["wrong_distributor"]),
    }
    assert rows[("C1", 2)]["quantity_accepted"] == 40

    first.kill()  # the waiting line comes back from the changelog
    second = worker_factory(eventstore_url=pg_dsn).start()
    conflicting = claim(distributor, "C1", line(1, "T1", 59, capped))
    publish(settings, [conflicting, sale(distributor, "T9", 5)])
    pending = ("C1", 5)
    wait_until(lambda: lines_of(second, distributor)[pending]["status"] == "accepted", 90,
               "the pending line accepted")  # fmt: skip
    assert lines_of(second, distributor)[pending]["quantity_accepted"] == 5
    letters = {r["reason"]: r["count"] for r in second.get("/api/dead-letters")["rows"]}
    assert letters.get("conflicting_duplicate") == 1

    audit = open_audit_log(pg_dsn)

    def recorded() -> DebitClaim:
        got: DebitClaim = audit.repository.get(claim_aggregate_id(distributor, "C1"))
        return got

    wait_until(lambda: recorded().pending_lines == (), 60, "C1's decisions recorded")
    aggregate = recorded()
    assert aggregate.decisions[1].quantity_accepted == 60
    assert aggregate.decisions[5].status == "accepted"
    assert aggregate.decisions[1].authorization_event_id is not None

    matches_replay(settings, second)  # the claims section included
