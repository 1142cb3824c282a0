"""A claim line's book cost as the embedded runner reads it (`projections.book_costs`):
the agreement version whose discount priced it is named in its decision and its lineage;
a cost remembered for a (distributor, sku, day) is read again once a price or an agreement
changes, and a day on which a price takes effect is read by the sale's time."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.claim_rules import BookCost, LineDecision, PosLine
from projections.authorizations import terms_of
from projections.claim_reads import debit_claim_rows
from projections.claim_refs import LineRef
from projections.claim_state import decision_from_json, decision_to_json
from projections.claims import Awaiting
from streams.audit.lineage import lineage
from streams.runners.embedded import EmbeddedChannel
from tests.unit.agreement_events import amended, signed
from tests.unit.catalog import catalog_stores, product
from tests.unit.claim_events import (
    RECORDED,
    SOLD,
    authorization,
    book_price,
    claim,
    line,
    sale,
)
from tests.unit.test_cap_round_trip import Worker

SEVEN: dict[str, Any] = {"discounts": [{"group_id": "G-NET", "discount": "0.07"}]}


def decided(channel: EmbeddedChannel, claim_id: str) -> dict[int, LineDecision]:
    record = channel.stores.claims.get(f"D1|{claim_id}")
    assert record is not None
    return record.decisions


def test_the_agreement_version_that_discounted_the_book_cost_is_named() -> None:
    """X listed at 100.00; AG-1 gives its group 5 %: the book cost is 95.00, priced by the
    signing; its amendment M1 (7 %, from April 1) prices the next claim's line of the same
    day at 93.00."""
    channel = EmbeddedChannel()
    deal, listed, agreement = authorization(), book_price(), signed()
    first, second = sale("T1", 60), sale("T2", 10)
    channel.feed_events([product("X"), listed, agreement, deal, first, second])
    claimed = claim("C1", line(1, "T1", 60, "1500.00", cost_paid=Decimal("95.00")))
    channel.feed_events([claimed])
    [one] = decided(channel, "C1").values()
    assert (one.status, one.book_cost) == ("accepted", Decimal("95.00"))
    assert one.agreement_event_id == agreement.event_id
    document = lineage(channel.audit, channel.stores, "debit-claim", "D1/C1")
    assert [(s["role"], s["event_id"]) for s in document["sources"]] == [
        ("claim", str(claimed.event_id)),
        ("authorization", str(deal.event_id)),
        ("pos_line", str(first.event_id)),
        ("price", str(listed.event_id)),
        ("agreement", str(agreement.event_id)),
    ]

    amendment = amended("M1", date(2026, 4, 1), **SEVEN)
    channel.feed_events([amendment])
    channel.feed_events([claim("C2", line(1, "T2", 10, "230.00", cost_paid=Decimal("93.00")))])
    [two] = decided(channel, "C2").values()
    assert (two.status, two.book_cost) == ("accepted", Decimal("93.00"))
    assert two.agreement_event_id == amendment.event_id
    rows = {row["claim_id"]: row for row in debit_claim_rows(channel.stores)}
    assert rows["C1"]["agreement_event_id"] == str(agreement.event_id)
    assert rows["C2"]["agreement_event_id"] == str(amendment.event_id)


def test_a_price_of_its_own_or_no_agreement_names_none() -> None:
    """D1's own price (no discount applies) and D2 (no agreement): no agreement version."""
    channel = EmbeddedChannel()
    own = book_price("90.00", event_id=UUID(int=77, version=4), distributor_id="D1")
    deal = authorization(distributor_ids=["D1", "D2"])
    sold = [sale("T1", 5), sale("T1", 5, distributor_id="D2")]
    channel.feed_events([product("X"), book_price(), own, signed(), deal, *sold])
    channel.feed_events([claim("C1", line(1, "T1", 5, "100.00", cost_paid=Decimal("90.00")))])
    d2 = claim("C1", line(1, "T1", 5), distributor_id="D2")
    channel.feed_events([d2])
    [mine] = decided(channel, "C1").values()
    assert (mine.book_cost, mine.agreement_event_id) == (Decimal("90.00"), None)
    record = channel.stores.claims.get("D2|C1")
    assert record is not None
    [theirs] = record.decisions.values()
    assert (theirs.book_cost, theirs.agreement_event_id) == (Decimal("100.00"), None)


def test_a_price_taking_effect_during_the_day_is_read_by_the_sales_time() -> None:
    """A list price of 90.00 from 12:00 on the sale day: the line sold at 09:00 is costed at
    100.00, the one sold at 15:00 at 90.00, in one claim and in either order."""
    noon = datetime.combine(SOLD.date(), datetime.min.time(), SOLD.tzinfo).replace(hour=12)
    later = book_price("90.00", event_id=UUID(int=78, version=4), effective_from=noon)
    morning = SOLD.replace(hour=9)
    sold = [sale("T1", 5, sold_at=morning), sale("T2", 5)]  # SOLD: 15:00
    for order in ((1, 2), (2, 1)):
        channel = EmbeddedChannel()
        channel.feed_events([product("X"), book_price(), later, authorization(), *sold])
        lines = {
            1: line(1, "T1", 5, "150.00"),
            2: line(2, "T2", 5, "100.00", cost_paid=Decimal("90.00")),
        }
        channel.feed_events([claim("C1", *(lines[n] for n in order))])
        costs = {n: d.book_cost for n, d in decided(channel, "C1").items()}
        assert costs == {1: Decimal("100.00"), 2: Decimal("90.00")}


def test_the_agreement_is_kept_with_a_waiting_line_and_a_decision_as_stored() -> None:
    """A line waiting for its grant keeps the book cost's agreement through the store; a
    decision without one is stored as before it was named, and read back as None."""
    pos = PosLine("D1", "T1", "X", 5, "R9", None, SOLD, "USD", UUID(int=5, version=4))
    book = BookCost(Decimal("95.00"), "USD", UUID(int=6, version=4), UUID(int=7, version=4))
    ref = LineRef("D1", "C1", RECORDED, line(1, "T1", 5))
    waiting = Awaiting(ref, 5, terms_of(authorization()), pos, book)
    assert Awaiting.from_json(waiting.to_json()) == waiting
    before = waiting.to_json()
    before["book"] = before["book"][:3]  # as stored before the agreement was named
    assert Awaiting.from_json(before).book.agreement_event_id is None
    decision = LineDecision("D1", "C1", 1, "T1", "X", "A1", "rejected", ("no_pos_line",),
                            5, 0, Decimal("150.00"), Decimal("0.00"), "USD")  # fmt: skip
    stored = decision_to_json(decision)
    assert "agreement_event_id" not in stored
    assert decision_from_json(stored) == decision


def test_a_line_waiting_for_its_grant_names_the_agreement_and_a_replay_agrees() -> None:
    """A1 names D1 and D2: D1's line waits for its grant on the `claim-caps` log with the
    book cost it was checked with (95.00, AG-1's 5 %); finished, it names the signing, and so
    does a replay of the recorded logs."""
    worker = Worker()
    agreement = signed()
    worker.send("agreements", agreement)
    worker.decide(claim("C1", line(1, "T1", 70, "1750.00", cost_paid=Decimal("95.00"))))
    replay = EmbeddedChannel()
    replay.stores = catalog_stores("X")
    replay.follow_cap_logs("")
    replay.apply(worker.inputs)
    for stores in (worker.stores, replay.stores):
        record = stores.claims.get("D1|C1")
        assert record is not None
        [decision] = record.decisions.values()
        assert (decision.status, decision.book_cost) == ("accepted", Decimal("95.00"))
        assert decision.agreement_event_id == agreement.event_id
