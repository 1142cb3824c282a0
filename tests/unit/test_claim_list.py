"""The list of claims (`projections.claim_reads.claim_summary_rows`, GET /api/claims): one
row per claim, its lines counted by status, its totals and the reasons of its lines."""

from __future__ import annotations

from projections.claim_reads import claim_summary_rows
from tests.unit.claim_events import claim, line, sale
from tests.unit.test_claim_wiring import example


def test_the_worked_example_as_a_claim_row() -> None:
    feed = example()
    feed.claim(claim("C1", line(1, "T1", 60), line(2, "T2", 50), line(3, "T3", 10)))
    feed.claim(claim("C2", line(1, "T1", 5), line(2, "T9", 4)))
    c1, c2 = claim_summary_rows(feed.stores)
    assert {k: c1[k] for k in c1 if k not in ("claim_uuid", "recorded_at")} == {
        "distributor_id": "D1",
        "claim_id": "C1",
        "status": "decided",
        "lines": 3,
        "lines_by_status": {"accepted": 1, "adjusted": 1, "rejected": 1},
        "currency": "USD",
        "quantity_claimed": 120,
        "quantity_accepted": 100,
        "total_claimed": "3600.00",  # 30.00 × 120
        "total_accepted": "3000.00",  # 30.00 × (60 + 40)
        "reasons": {"cap_partial": 1, "wrong_reseller": 1},
    }
    assert (c2["status"], c2["lines_by_status"]) == ("pending", {"pending_pos": 1, "rejected": 1})
    assert (c2["total_accepted"], c2["reasons"]) == ("0.00", {"already_claimed": 1})

    feed.sell(sale("T9", 4))  # the pending line is decided: the cap is spent
    assert claim_summary_rows(feed.stores, "D1")[1]["status"] == "decided"
    assert claim_summary_rows(feed.stores, "D2") == []
