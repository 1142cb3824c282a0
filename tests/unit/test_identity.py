"""content_fingerprint's direct path for movements gives the digest of the model_dump form."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identity import _ENVELOPE_ONLY, _canonical, content_fingerprint, uuid_text
from schemas.events import Envelope, InventoryCounted, SaleReported, ShipmentRecorded

T0 = datetime(2026, 7, 6, tzinfo=UTC)
IDS = st.sampled_from(["D1", "K-2", "SKU 3", "ü"])
OPTIONAL_IDS = st.none() | IDS
WHEN = st.integers(min_value=0, max_value=10**7).map(lambda s: T0 + timedelta(seconds=s))
PRICES = st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False)


def by_model_dump(event: Envelope) -> str:
    """The fingerprint as it was first defined: model_dump, sorted keys, blake2b."""
    body = event.model_dump(exclude=_ENVELOPE_ONLY, exclude_none=True)
    encoded = orjson.dumps(body, default=_canonical, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


@st.composite
def movements(draw: st.DrawFn) -> Envelope:
    common: dict[str, Any] = {
        "event_id": UUID(int=draw(st.integers(min_value=0, max_value=2**64)), version=4),
        "occurred_at": draw(WHEN),
        "recorded_at": draw(st.none() | WHEN),
        "source": draw(st.sampled_from(["api", "csv"])),
        "source_ref": draw(st.none() | st.just("weekly.csv:42")),
        "distributor_id": draw(IDS),
        "sku": draw(IDS),
        "unit": draw(OPTIONAL_IDS),
    }
    kind = draw(st.sampled_from(["sale", "shipment", "count"]))
    if kind == "count":
        return InventoryCounted(**common, on_hand=draw(st.integers(0, 99)), counted_at=draw(WHEN))
    money: dict[str, Any] = {
        "quantity": draw(st.integers(-5, 99)),
        "unit_price": draw(PRICES),
        "currency": draw(st.sampled_from(["USD", "EUR"])),
    }
    if kind == "shipment":
        return ShipmentRecorded(
            **common, **money, shipment_id=draw(IDS), shipped_at=draw(WHEN)
        )  # fmt: skip
    return SaleReported(
        **common,
        **money,
        transaction_id=draw(IDS),
        reseller_id=draw(IDS),
        end_customer=draw(OPTIONAL_IDS),
        report_id=draw(OPTIONAL_IDS),
        sold_at=draw(WHEN),
    )


@settings(max_examples=300)
@given(movements())
def test_movement_fingerprint_is_the_model_dump_digest(event: Envelope) -> None:
    assert content_fingerprint(event) == by_model_dump(event)
    # a copy with an update (as `normalize` makes) too
    copy = event.model_copy(update={"unit": None, "sku": "S9"})
    assert content_fingerprint(copy) == by_model_dump(copy)


def test_equal_amounts_hash_equally() -> None:
    sale = SaleReported(
        event_id=UUID(int=1, version=4),
        occurred_at=T0,
        source="api",
        distributor_id="D1",
        transaction_id="T1",
        reseller_id="R1",
        sku="S1",
        quantity=1,
        unit_price=Decimal("12.5"),
        currency="USD",
        sold_at=T0,
    )
    resent = sale.model_copy(update={"unit_price": Decimal("12.50"), "event_id": UUID(int=2)})
    assert content_fingerprint(sale) == content_fingerprint(resent)


def test_zero_keeps_its_sign_whichever_amount_came_first() -> None:
    """Amounts' texts are cached by value, and 0 == -0: zero is never taken from the cache."""
    for first, second in (("0", "-0.00"), ("-0.00", "0")):
        assert _canonical(Decimal(first)) == ("-0" if first.startswith("-") else "0")
        assert _canonical(Decimal(second)) == ("-0" if second.startswith("-") else "0")
    assert _canonical(Decimal("12.50")) == _canonical(Decimal("1.25E1")) == "12.5"


@given(st.uuids(allow_nil=True))
def test_uuid_text_is_str_of_the_uuid(value: UUID) -> None:
    assert uuid_text(value) == str(value)
