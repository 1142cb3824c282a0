"""Debit claims through Kafka and a worker on PostgreSQL (docs/CLAIMS.md, "Claims, wired
in"): a claim's lines accepted, adjusted (cap partial) and rejected (wrong reseller,
unknown authorization, already claimed, no debit due, wrong sku, return line, expired,
currency mismatch, wrong distributor), a line pending its POS line accepted when it
arrives after a restart (the waiting line comes back from the changelog), a conflicting resend
dead-lettered; the `DebitClaim` aggregate recorded, and the replay equal to live. A second
worker, with a wait of seconds, gives the other reasons: no POS line within the wait, sku
mismatch, not yet valid, wrong end customer, no book cost, cap exhausted, and the
adjustments quantity reduced and amount corrected."""

from __future__ import annotations

import time
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
from tests.integration.helpers import (
    catalog,
    letter_counts,
    matches_replay,
    publish,
    publish_reference_first,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SKU = "SKU-SAD"
#: in the deals, never priced: no book cost
UNPRICED = "SKU-SAD-NB"
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
    distributor: str,
    transaction: str,
    units: int,
    reseller: str = "R9",
    days: int = 0,
    sku: str = SKU,
) -> SaleReported:
    at = T0 + timedelta(days=days, hours=1)
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=at, source="kafka", distributor_id=distributor,
        transaction_id=transaction, reseller_id=reseller, sku=sku, quantity=units,
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


def settled(rows: dict[tuple[str, int], dict[str, Any]], *waiting_on_pos: tuple[str, int]) -> bool:
    """Every line decided for good, except those whose POS line is never sent. The claims
    and POS topics are read side by side, so a claim may reach its partition before the
    sales published ahead of it and wait for them (`pending_pos`) until they arrive."""
    return all(
        row["status"] != "waiting" and (row["status"] != "pending_pos" or key in waiting_on_pos)
        for key, row in rows.items()
    )


def settled_lines(worker: Any, distributor: str) -> dict[tuple[str, int], dict[str, Any]]:
    """The distributor's claim lines once there are some and every one is decided for good."""
    found = lines_of(worker, distributor)
    return found if found and settled(found) else {}


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
        return len(found) == 12 and settled(found, ("C1", 5)) and found

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
    # the claims and POS topics are read side by side: the sale applied says nothing of
    # the conflicting claim sent with it
    letters = wait_until(
        lambda: "conflicting_duplicate" in (found := letter_counts(second)) and found,
        60,
        "the conflicting claim dead-lettered",
    )
    assert letters["conflicting_duplicate"] == 1

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


#: the wait for a POS line in the second test: seconds of recorded (broker append) time
WAIT_SECONDS = 3.0


def test_the_other_reasons_and_a_wait_run_out_on_the_real_servers(settings, worker_factory):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    main, small, ended = (f"SPA-{uuid.uuid4().hex[:8]}-{n}" for n in range(3))
    days = WAIT_SECONDS / 86400
    waiting = settings.model_copy(update={"claim_pending_days": days})
    worker = worker_factory(env={"CHANNELFLOW_CLAIM_PENDING_DAYS": repr(days)}).start()
    publish_reference_first(settings, worker, [*catalog(SKU, UNPRICED), book()])
    both = deal(main, distributor, "70.00").model_copy(update={"skus": [SKU, UNPRICED]})
    capped = deal(small, distributor, "70.00").model_copy(update={"quantity_cap": 5})
    for_end = deal(ended, distributor, "70.00").model_copy(update={"end_customer": "EC-1"})
    publish(settings, [both, capped, for_end])
    known = f"/api/authorizations?distributor_id={distributor}"
    wait_until(lambda: len(worker.get(known)["rows"]) == 3, 60, "the deals known")
    publish(
        settings,
        [sale(distributor, "T1", 10), sale(distributor, "T2", 10), sale(distributor, "T3", 5),
         sale(distributor, "T4", 3), sale(distributor, "T5", 4, days=-5),
         sale(distributor, "T6", 2, sku=UNPRICED), sale(distributor, "T7", 6)],
    )  # fmt: skip
    miscounted = line(2, "T2", 4, main).model_copy(update={"amount_claimed": Decimal("125.00")})
    claimed = claim(
        distributor, "C1", line(1, "T1", 12, main), miscounted, line(3, "T3", 5, small),
        line(4, "T4", 3, small), line(5, "T7", 1, main, sku=UNPRICED),
        line(6, "T5", 4, main), line(7, "T6", 2, main, sku=UNPRICED), line(8, "T7", 2, ended),
        line(9, "T-NEVER", 1, main),
    )  # fmt: skip
    publish(settings, [claimed])

    def decided() -> Any:
        found = lines_of(worker, distributor)
        return len(found) == 9 and settled(found, ("C1", 9)) and found

    rows = wait_until(decided, 90, "every line decided")
    assert rows[("C1", 9)]["status"] == "pending_pos"
    time.sleep(WAIT_SECONDS + 1)  # the wait runs out at the distributor's next input
    publish(settings, [sale(distributor, "T8", 1)])
    wait_until(lambda: lines_of(worker, distributor)[("C1", 9)]["status"] == "rejected", 60,
               "the wait run out")  # fmt: skip
    rows = lines_of(worker, distributor)
    outcomes = {key: (row["status"], row.get("reasons")) for key, row in rows.items()}
    assert outcomes == {
        ("C1", 1): ("adjusted", ["quantity_reduced"]),
        ("C1", 2): ("adjusted", ["amount_corrected"]),
        ("C1", 3): ("accepted", []),
        ("C1", 4): ("rejected", ["cap_exhausted"]),
        ("C1", 5): ("rejected", ["sku_mismatch"]),
        ("C1", 6): ("rejected", ["not_yet_valid"]),
        ("C1", 7): ("rejected", ["no_book_cost"]),
        ("C1", 8): ("rejected", ["wrong_end_customer"]),
        ("C1", 9): ("rejected", ["no_pos_line"]),
    }
    figures = {n: rows[("C1", n)]["quantity_accepted"] for n in (1, 2, 3)}
    assert figures == {1: 10, 2: 4, 3: 5}
    assert rows[("C1", 2)]["amount_accepted"] == "120.00"

    matches_replay(waiting, worker)  # the replay with the same wait expires the same line
