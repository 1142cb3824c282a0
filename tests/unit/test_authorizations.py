"""Special price authorizations: terms, amendments, expiry, the cap, and pricing under them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from projections.authorizations import (
    AuthorizationProblem,
    amend,
    authorize,
    covering,
    expire,
    release_units,
    take_units,
    terms_of,
)
from projections.positions import Position
from projections.price_rules import detect_violation, judge_sale
from schemas.claims import SpecialPriceAmended, SpecialPriceExpired
from tests.unit.claim_events import (
    PRICED,
    SOLD,
    Channel,
    authorization,
    book_price,
    claim,
    line,
    sale,
    uid,
)
from tests.unit.price_events import history_of, price

D = Decimal


def amendment(amendment_id: str = "M1", n: int = 1, **terms: Any) -> SpecialPriceAmended:
    return SpecialPriceAmended(
        event_id=uid(5000 + n),
        occurred_at=PRICED,
        source="erp",
        authorization_id="A1",
        amendment_id=amendment_id,
        **terms,
    )


def expiry(last: date, n: int = 1) -> SpecialPriceExpired:
    return SpecialPriceExpired(
        event_id=uid(6000 + n),
        occurred_at=PRICED,
        source="erp",
        authorization_id="A1",
        last_valid_date=last,
        reason="deal lost",
    )


def test_a_resent_authorization_is_a_duplicate_and_other_terms_a_conflict() -> None:
    state = authorize(None, authorization(), None)
    assert authorize(state, authorization(n=2), None) == state
    with pytest.raises(AuthorizationProblem) as caught:
        authorize(state, authorization(n=3, authorized_cost=D("60.00")), None)
    assert caught.value.reason == "conflicting_duplicate"


def test_an_input_already_applied_changes_nothing() -> None:
    at = Position("prices:0", 10)
    state = authorize(None, authorization(), at)
    assert amend(state, amendment(authorized_cost=D("60.00")), at) == state
    moved = amend(state, amendment(authorized_cost=D("60.00")), Position("prices:0", 11))
    assert moved.terms.authorized_cost == D("60.00") and moved.applied == {"prices:0": 11}


def test_an_amendment_replaces_the_terms_it_names_once() -> None:
    state = authorize(None, authorization(), None)
    amended = amend(state, amendment(quantity_cap=150, valid_to=date(2026, 7, 31)), None)
    assert amended.terms.quantity_cap == 150 and amended.terms.valid_to == date(2026, 7, 31)
    assert amended.terms.authorized_cost == D("70.00") and amended.terms.event_id == uid(5001)
    assert amend(amended, amendment(quantity_cap=1, n=2), None) == amended  # same amendment_id


def test_an_amendment_must_change_something_and_keep_dates_ordered() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        amendment()
    state = authorize(None, authorization(), None)
    with pytest.raises(AuthorizationProblem) as caught:
        amend(state, amendment(valid_to=date(2026, 3, 1)), None)
    assert caught.value.reason == "invalid_amendment"


def test_amending_or_expiring_an_unknown_authorization() -> None:
    for problem in (lambda: amend(None, amendment(quantity_cap=1), None),
                    lambda: expire(None, expiry(date(2026, 5, 1)), None)):  # fmt: skip
        with pytest.raises(AuthorizationProblem) as caught:
            problem()
        assert caught.value.reason == "unknown_authorization"


def test_expiry_ends_validity_and_an_amendment_cannot_extend_past_it() -> None:
    state = expire(authorize(None, authorization(), None), expiry(date(2026, 4, 30)), None)
    assert state.terms.valid_to == date(2026, 4, 30)
    assert amend(state, amendment(valid_to=date(2026, 9, 1)), None).terms.valid_to == date(
        2026, 4, 30
    )
    assert expire(state, expiry(date(2026, 5, 30), n=2), None).terms.valid_to == date(2026, 4, 30)


def test_expired_before_the_sale_rejects_the_claim_as_expired() -> None:
    channel = Channel().authorize(authorization()).price(book_price())
    channel.authorizations["A1"] = expire(
        channel.authorizations["A1"], expiry(date(2026, 4, 5)), None
    )
    channel.sell(sale("T1", 60))
    assert channel.claim(claim("C1", line(1, "T1", 60)))[0].reasons == ("expired",)


def test_the_cap_left_never_goes_below_zero() -> None:
    state = take_units(authorize(None, authorization(quantity_cap=100), None), 80)
    assert state.cap_left == 20
    lowered = amend(state, amendment(quantity_cap=50), None)
    assert lowered.cap_left == 0
    assert release_units(lowered, 100).units_taken == 0


def test_wire_contract_refuses_bad_terms() -> None:
    with pytest.raises(ValidationError, match="valid_to is before valid_from"):
        authorization(valid_from=date(2026, 5, 1), valid_to=date(2026, 4, 1))
    with pytest.raises(ValidationError):
        authorization(distributor_ids=[])
    with pytest.raises(ValidationError):
        authorization(authorized_cost="-1")


# --- pricing under an authorization ----------------------------------------------------


def deal(**changes: Any) -> Any:
    fields: dict[str, Any] = {"skus": ["SKU-1"], "distributor_ids": ["D01"], "reseller_id": "R01"}
    return terms_of(authorization(**{**fields, **changes}))


def pos(price_: str, quantity: int = 3, **changes: Any) -> Any:
    fields: dict[str, Any] = {"distributor_id": "D01", "reseller_id": "R01", "sku": "SKU-1"}
    return sale("TX-1", quantity, unit_price=D(price_), **{**fields, **changes})


def test_a_sale_within_an_authorization_is_judged_by_its_floor() -> None:
    history = history_of(price(1, floor="15.00", at=datetime(2026, 1, 1, tzinfo=UTC)))
    below_list = pos("12.00")
    assert judge_sale(history, below_list).kind == "violation"
    within = judge_sale(history, below_list, deal(floor_price=D("11.00")))
    assert (within.kind, within.scope, within.floor_price) == (
        "compliant",
        "authorization",
        D("11.00"),
    )
    assert within.price_event_id == uid(1001)
    below_deal = judge_sale(history, pos("10.00"), deal(floor_price=D("11.00")))
    assert (below_deal.kind, below_deal.severity) == ("violation", "major")
    _, fact = detect_violation(history, pos("10.00"), deal(floor_price=D("11.00")))
    assert fact is not None and fact.scope == "authorization" and fact.floor_price == D("11.00")


def test_an_authorization_without_a_floor_allows_any_price() -> None:
    history = history_of(price(1, floor="15.00", at=datetime(2026, 1, 1, tzinfo=UTC)))
    verdict = judge_sale(history, pos("1.00"), deal())
    assert (verdict.kind, verdict.floor_price, verdict.scope) == (
        "compliant",
        None,
        "authorization",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"reseller_id": "R02"},
        {"distributor_id": "D02"},
        {"sku": "SKU-2"},
        {"currency": "EUR"},
        {"sold_at": datetime(2026, 7, 1, tzinfo=UTC)},
    ],
)
def test_a_sale_outside_the_authorization_is_judged_as_before(changes: dict[str, Any]) -> None:
    priced = history_of(price(1, floor="15.00", at=datetime(2026, 1, 1, tzinfo=UTC)))
    history = priced if changes.get("sku") != "SKU-2" else None
    sale_ = pos("12.00", **changes)
    assert judge_sale(history, sale_, deal(floor_price=D("1.00"))) == judge_sale(history, sale_)


def test_returns_stay_returns_under_an_authorization() -> None:
    verdict = judge_sale(None, pos("1.00", quantity=-3), deal(floor_price=D("5.00")))
    assert verdict.kind == "return"


def test_covering_picks_the_most_permissive_whatever_the_order() -> None:
    a = deal(authorization_id="A", floor_price=D("11.00"))
    b = deal(authorization_id="B", floor_price=D("9.00"))
    c = deal(authorization_id="C", reseller_id="R02")
    args = ("D01", "SKU-1", "R01", None, SOLD, "USD")
    assert covering([a, b, c], *args) == b == covering([c, b, a], *args)
    no_floor = deal(authorization_id="Z")
    assert covering([a, no_floor], *args) == no_floor
    assert covering([c], *args) is None
