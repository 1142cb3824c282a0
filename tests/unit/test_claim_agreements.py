"""An agreement (or amendment) recorded after a price-protection claim that moves the
distributor to another list for the drop's day (docs/AGREEMENTS.md, "Named price lists"):
the recorded claim is withdrawn, naming the agreement version, as a claim is revised when
the stock at the drop changes; a replay, reading the agreement first, records none."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from infra.eventstore import AuditLog, open_audit_log
from projections.channel import apply_event
from projections.snapshot import protection_claims
from projections.stores import ChannelStores
from streams.audit.trail import history
from streams.audit.verify import audit_differences
from streams.runners.processing import record_facts
from tests.unit.agreement_events import amended, signed
from tests.unit.catalog import catalog_stores
from tests.unit.test_price_lists import JAN_1, JUL_10, listed, stocked, stores_with_gold


def recorded_claims(stores: ChannelStores, audit: AuditLog) -> dict[str, tuple[int, str]]:
    """Record what the recording round records (zero claims included) into `audit`; each
    claim recorded there: distributor -> (units, amount)."""
    now = datetime(2027, 6, 1, tzinfo=UTC)
    record_facts(audit, protection_claims(stores, now, withdrawn=True))
    found = {}
    for distributor in ("D1", "D2"):
        try:
            claim = audit.claim(distributor, "X", JUL_10)
        except AggregateNotFoundError:
            continue
        found[distributor] = (claim.units, str(claim.amount))
    return found


def withdrawal(audit: AuditLog) -> dict[str, Any]:
    """D1's claim's last event: what, why and its data."""
    last = history(audit, "claim", "D1/X/2026-07-10T00:00:00Z")["events"][-1]
    return {"what": last["what"], "why": last["why"], **last["data"]}


def test_an_agreement_recorded_after_a_claim_withdraws_it_naming_its_version() -> None:
    """No agreement yet: the standard drop 20.00 -> 19.00 owes D1 1.00 x 10 and D2 1.00 x 5.
    AG-1, recorded after the claims, binds D1 to LIST-2026 (18.00, unchanged) for 2026: the
    drop no longer governs D1, so its claim is withdrawn, AG-1 named; D2's stands. A replay
    reading AG-1 first records D1 nothing, and verify finds the two stores alike."""
    stores = catalog_stores("X")
    apply_event(stores, listed(1, "20.00", "25.00", JAN_1), None)
    apply_event(stores, listed(2, "18.00", "22.00", JAN_1, "LIST-2026"), None)
    stocked(stores)
    apply_event(stores, listed(5, "19.00", "24.00", JUL_10), None)
    audit = open_audit_log("sqlite:///:memory:")
    assert recorded_claims(stores, audit) == {"D1": (10, "10.00"), "D2": (5, "5.00")}
    signing = signed()
    apply_event(stores, signing, None)
    assert recorded_claims(stores, audit) == {"D1": (0, "0.00"), "D2": (5, "5.00")}
    assert withdrawal(audit) == {
        "what": "Withdrawn",
        "why": "an agreement recorded later moved the distributor to another price list for "
        "the drop's day: nothing is owed",
        "agreement_version": "AG-1",
        "agreement_event_id": str(signing.event_id),
    }
    assert recorded_claims(stores, audit) == {"D1": (0, "0.00"), "D2": (5, "5.00")}  # once
    assert len(history(audit, "claim", "D1/X/2026-07-10T00:00:00Z")["events"]) == 2
    replay = open_audit_log("sqlite:///:memory:")
    assert recorded_claims(stocked(stores_with_gold()), replay) == {}  # no drop applied yet
    replayed = stocked(stores_with_gold())
    apply_event(replayed, listed(5, "19.00", "24.00", JUL_10), None)
    assert recorded_claims(replayed, replay) == {"D2": (5, "5.00")}
    assert audit_differences(replay, audit) == (1, [])


def test_an_amendment_recorded_after_a_claim_withdraws_it_and_one_moving_back_revises_it() -> None:
    """AG-1 binds D1 to LIST-2026: its drop 18.00 -> 16.00 owes D1 (17.10 - 15.20) x 10 =
    19.00. M1 (effective July 1, recorded after) binds no list: D1 buys at the standard
    list, so the claim is withdrawn, AG-1/M1 named. M2 (effective July 5) binds LIST-2026
    again: the claim is revised back to 19.00."""
    stores = stocked(stores_with_gold())
    apply_event(stores, listed(5, "16.00", "20.00", JUL_10, "LIST-2026"), None)
    audit = open_audit_log("sqlite:///:memory:")
    assert recorded_claims(stores, audit) == {"D1": (10, "19.00")}
    moved = amended("M1", date(2026, 7, 1), price_lists=[])
    apply_event(stores, moved, None)
    assert recorded_claims(stores, audit) == {"D1": (0, "0.00")}
    assert withdrawal(audit)["agreement_version"] == "AG-1/M1"
    assert withdrawal(audit)["agreement_event_id"] == str(moved.event_id)
    apply_event(stores, amended("M2", date(2026, 7, 5), n=2, price_lists=["LIST-2026"]), None)
    assert recorded_claims(stores, audit) == {"D1": (10, "19.00")}
    assert withdrawal(audit)["what"] == "Revised"


def test_a_drop_that_governs_the_day_wins_over_one_at_the_same_instant_that_does_not() -> None:
    """AG-1 binds D1 to LIST-2026; on July 10 the standard list drops 20.00 -> 19.00 and
    LIST-2026 18.00 -> 17.00. D1 is owed the LIST-2026 drop, less AG-1's 5 % (17.10 -> 16.15:
    0.95 x 10), one claim: not also
    the standard drop's zero claim under the same id, which would undo it every round."""
    stores = catalog_stores("X")
    apply_event(stores, listed(1, "20.00", "25.00", JAN_1), None)
    apply_event(stores, listed(2, "18.00", "22.00", JAN_1, "LIST-2026"), None)
    apply_event(stores, signed(), None)
    stocked(stores)
    apply_event(stores, listed(5, "19.00", "24.00", JUL_10), None)
    apply_event(stores, listed(6, "17.00", "21.00", JUL_10, "LIST-2026"), None)
    now = datetime(2027, 6, 1, tzinfo=UTC)
    d1 = [c for c in protection_claims(stores, now, withdrawn=True) if c.distributor_id == "D1"]
    assert [(c.units, str(c.amount), c.off_list) for c in d1] == [(10, "9.50", False)]
    audit = open_audit_log("sqlite:///:memory:")
    assert recorded_claims(stores, audit)["D1"] == (10, "9.50")
    recorded_claims(stores, audit)  # a second round changes nothing
    assert len(history(audit, "claim", "D1/X/2026-07-10T00:00:00Z")["events"]) == 1
