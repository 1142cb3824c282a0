"""Agreements and exchange rates through the channel projection's one door (`apply_message`):
applied to the timeline and the rate book, duplicates and redeliveries, and each refusal
dead-lettered with its reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson

from projections.channel import apply_message
from projections.dedup import Verdict
from projections.exchange_rates import RateBook
from projections.outcome import Outcome
from projections.positions import message_position
from projections.snapshot import dead_letter_rows
from projections.stores import ChannelStores
from schemas.codec import encode_event
from schemas.events import Envelope
from schemas.topics import KEY_FIELD
from tests.unit.agreement_events import amended, rate, signed, terminated

AGREEMENTS = "channelflow.agreements:0"
RATES = "channelflow.rates:0"
RECORDED = datetime(2026, 10, 1, 9, tzinfo=UTC)
AGE_60: dict[str, Any] = {"inventory": {"max_age_days": 60}}


def send(
    stores: ChannelStores,
    event: Envelope,
    offset: int,
    key: str | None = None,
    source: str = AGREEMENTS,
) -> Outcome:
    """One event as a raw message at `offset` of `source`, keyed by its routing field."""
    routing = key or getattr(event, KEY_FIELD[event.event_type])
    (outcome,) = apply_message(
        stores, encode_event(event), routing, message_position(source, offset), None, RECORDED
    )
    return outcome


def reasons(stores: ChannelStores) -> dict[str, int]:
    return {row["reason"]: row["count"] for row in dead_letter_rows(stores)}


def test_a_signing_and_an_amendment_make_the_timeline() -> None:
    stores = ChannelStores()
    assert send(stores, signed(), 0).verdict is Verdict.ACCEPTED
    raised = amended("M1", date(2026, 5, 15), **AGE_60)
    assert send(stores, raised, 1).verdict is Verdict.ACCEPTED
    timeline = stores.agreements.get("D1")
    assert timeline is not None
    assert [v.version_id for v in timeline.versions] == ["AG-1", "M1"]
    assert all(v.recorded_at == RECORDED for v in timeline.versions)  # the broker's time
    may_14, may_15 = timeline.on(date(2026, 5, 14)), timeline.on(date(2026, 5, 15))
    assert may_14 is not None and may_14.terms.inventory.max_age_days == 90
    assert may_15 is not None and may_15.terms.inventory.max_age_days == 60


def test_a_resent_signing_is_a_duplicate_and_a_redelivery_changes_nothing() -> None:
    stores = ChannelStores()
    send(stores, signed(), 0)
    before = stores.agreements.get("D1")
    assert send(stores, signed(), 0).verdict is Verdict.REDELIVERY
    assert send(stores, signed(n=2), 1).verdict is Verdict.DUPLICATE  # a new envelope
    timeline = stores.agreements.get("D1")
    assert timeline is not None and before is not None
    assert timeline.versions == before.versions
    assert reasons(stores) == {}


def test_each_refused_agreement_is_dead_lettered_with_its_reason() -> None:
    stores = ChannelStores()
    send(stores, signed(), 0)
    refused = [
        send(stores, signed("AG-2", n=2), 1),  # overlaps AG-1's 2026
        send(stores, amended("M1", date(2026, 3, 1), agreement_id="AG-9", **AGE_60), 2),
        send(stores, signed(n=3, currency="EUR"), 3),  # AG-1 again, other content
        send(stores, amended("M2", date(2025, 12, 1), **AGE_60), 4),  # before the term
        send(stores, terminated(date(2026, 6, 30), agreement_id="AG-9"), 5),
    ]
    assert [o.dead_letter_reason for o in refused] == [
        "overlapping_agreement",
        "unknown_agreement",
        "conflicting_duplicate",
        "invalid_agreement",
        "unknown_agreement",
    ]
    assert all(o.verdict is None and o.detail for o in refused)
    assert reasons(stores) == {
        "overlapping_agreement": 1,
        "unknown_agreement": 2,
        "conflicting_duplicate": 1,
        "invalid_agreement": 1,
    }
    timeline = stores.agreements.get("D1")
    assert timeline is not None and [v.version_id for v in timeline.versions] == ["AG-1"]


def test_a_termination_ends_the_agreement() -> None:
    stores = ChannelStores()
    send(stores, signed(), 0)
    assert send(stores, terminated(date(2026, 8, 31)), 1).verdict is Verdict.ACCEPTED
    timeline = stores.agreements.get("D1")
    assert timeline is not None
    assert timeline.on(date(2026, 8, 31)) is not None
    assert timeline.on(date(2026, 9, 1)) is None


def test_a_rate_goes_into_its_pair_month_and_converts_both_ways() -> None:
    stores = ChannelStores()
    published = rate("EUR", "USD", "1.0842", date(2026, 5, 4))
    assert send(stores, published, 0, source=RATES).verdict is Verdict.ACCEPTED
    assert send(stores, published, 0, source=RATES).verdict is Verdict.REDELIVERY
    again = rate("EUR", "USD", "1.0842", date(2026, 5, 4), n=2)  # same content, new envelope
    assert send(stores, again, 1, source=RATES).verdict is Verdict.DUPLICATE
    assert [key for key, _ in stores.rates.scan()] == ["EUR>USD|2026-05"]
    book = RateBook(dict(stores.rates.scan()))
    used = book("EUR", "USD", date(2026, 5, 20))
    assert used is not None
    assert (used.rate, used.event_id) == (Decimal("1.0842"), published.event_id)
    back = book("USD", "EUR", date(2026, 5, 20))
    assert back is not None and back.inverted


def test_a_rate_under_another_key_or_as_a_float_is_refused() -> None:
    stores = ChannelStores()
    published = rate("EUR", "USD", "1.0842", date(2026, 5, 4))
    wrong = send(stores, published, 0, key="USD>EUR", source=RATES)
    assert (wrong.verdict, wrong.dead_letter_reason) == (None, "wrong_message_key")
    data: dict[str, Any] = orjson.loads(encode_event(published))
    data["rate"] = 1.0842
    (floated,) = apply_message(
        stores, orjson.dumps(data), "EUR>USD", message_position(RATES, 1), None, RECORDED
    )
    assert floated.dead_letter_reason == "schema_violation"
    assert "not a float" in (floated.detail or "")
    assert len(list(stores.rates.scan())) == 0


def test_an_agreement_signed_after_it_was_recorded_is_a_future_date() -> None:
    stores = ChannelStores()
    late = signed(signed_at=datetime(2026, 10, 5, tzinfo=UTC))  # recorded October 1
    outcome = send(stores, late, 0)
    assert outcome.dead_letter_reason == "future_date"
    assert "signed_at" in (outcome.detail or "")
    assert stores.agreements.get("D1") is None
