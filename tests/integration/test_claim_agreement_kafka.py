"""A claim line whose book cost an agreement's group discount priced, through Kafka and a
worker on PostgreSQL (docs/CLAIMS.md, "The agreement behind a book cost"): its decision
recorded on the `DebitClaim` aggregate names the agreement version, the worker's lineage
lists it after the price entry, and the auditor's replay of the raw topics gives the same
lineage and the same snapshot."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from domain.claim_lifecycle import DebitClaim
from domain.claim_rules import claim_aggregate_id
from infra.eventstore import open_audit_log
from streams.audit.lineage import lineage
from streams.auth import token_hash
from tests.integration.conftest import wait_until
from tests.integration.helpers import (
    catalog,
    matches_replay,
    publish,
    publish_reference_first,
    replayed_channel,
    token_workers,
)
from tests.integration.test_claims_kafka import (
    SKU,
    book,
    claim,
    deal,
    line,
    sale,
    settled_lines,
)
from tests.unit.agreement_events import signed

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ADMIN = "admin-token"


def test_the_agreement_that_discounted_the_book_cost_is_in_the_lineage_live_and_replayed(
    settings, worker_factory, pg_dsn
):
    distributor = f"D-{uuid.uuid4().hex[:8]}"
    authorization = f"SPA-{uuid.uuid4().hex[:8]}"
    tokens = [{"sha256": token_hash(ADMIN), "role": "admin", "actor": "vendor-ops"}]
    # the audit trail is the auditor's and the admin's
    worker = token_workers(worker_factory, pg_dsn, tokens, ADMIN)()
    priced = book()
    publish_reference_first(settings, worker, [*catalog(SKU), priced])
    agreement = signed(
        event_id=uuid.uuid4(),
        distributor_id=distributor,
        product_groups=[{"group_id": "G-NET", "skus": [SKU]}],
    )  # G-NET 5 %: the list's 100.00 is 95.00 to this distributor
    terms = deal(authorization, distributor, "70.00")
    publish(settings, [agreement, terms])
    wait_until(lambda: worker.get(f"/api/agreements?distributor_id={distributor}")["rows"], 60,
               "the agreement")  # fmt: skip
    wait_until(lambda: worker.get(f"/api/authorizations?distributor_id={distributor}")["rows"],
               60, "the deal")  # fmt: skip
    sold = sale(distributor, "T1", 60)
    claimed = claim(distributor, "C1", line(1, "T1", 60, authorization))
    publish(settings, [sold])
    publish(settings, [claimed])
    rows = wait_until(lambda: settled_lines(worker, distributor), 90, "C1 decided")
    row = rows[("C1", 1)]
    assert (row["status"], row["reasons"]) == ("adjusted", ["cost_corrected"])
    assert (row["book_cost"], row["amount_accepted"]) == ("95.00", "1500.00")

    audit = open_audit_log(pg_dsn)

    def recorded() -> DebitClaim:
        got: DebitClaim = audit.repository.get(claim_aggregate_id(distributor, "C1"))
        return got

    wait_until(lambda: recorded().pending_lines == (), 60, "C1's decision recorded")
    assert recorded().decisions[1].agreement_event_id == agreement.event_id
    assert recorded().decisions[1].book_cost == Decimal("95.00")

    ref = f"{distributor}/C1"
    live = worker.get(f"/api/audit/debit-claim/{ref}/lineage")
    roles = [(s["role"], s["event_id"]) for s in live["sources"]]
    assert roles == [
        ("claim", str(claimed.event_id)),
        ("authorization", str(terms.event_id)),
        ("pos_line", str(sold.event_id)),
        ("price", str(priced.event_id)),
        ("agreement", str(agreement.event_id)),
    ]

    matches_replay(settings, worker)  # the claims section included
    replay = replayed_channel(settings)
    replayed = lineage(replay.audit, replay.stores, "debit-claim", ref)
    assert [(s["role"], s["event_id"]) for s in replayed["sources"]] == roles
