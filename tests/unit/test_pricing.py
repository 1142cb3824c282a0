"""Pricing governance, pure: sale verdicts, the most specific floor, severity, violation facts
and their rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.identity import derived_id
from projections.price_rules import (
    SaleJudgement,
    Severity,
    ViolationDetected,
    detect_violation,
    judge_sale,
    violation_fact,
    violation_row,
    violation_rows,
)
from tests.unit.price_events import T0, US, D, history_of, price, uid
from tests.unit.pricing_cases import D01, LIST, sale

# --- judge_sale: each kind -----------------------------------------------------------------


def test_at_the_floor_is_compliant() -> None:
    verdict = judge_sale(LIST, sale("15.00"))
    assert verdict == SaleJudgement("compliant", Decimal("15.00"), None, "list", uid(1))
    assert not verdict.is_violation


def test_above_the_floor_is_compliant() -> None:
    assert judge_sale(LIST, sale("99.00")).kind == "compliant"


def test_below_the_floor_is_a_violation_with_its_severity() -> None:
    verdict = judge_sale(LIST, sale("14.99"))
    assert verdict.kind == "violation"
    assert verdict.is_violation
    assert verdict.floor_price == Decimal("15.00")
    assert verdict.severity is Severity.MINOR
    assert verdict.scope == "list"
    assert verdict.price_event_id == uid(1)


@pytest.mark.parametrize("quantity", [-5, -1, 0])
def test_returns_and_zero_lines_are_never_violations(quantity: int) -> None:
    verdict = judge_sale(LIST, sale("0.01", quantity=quantity))
    assert verdict == SaleJudgement("return")
    assert detect_violation(LIST, sale("0.01", quantity=quantity))[1] is None


def test_a_return_is_a_return_even_without_any_price() -> None:
    assert judge_sale(None, sale("1.00", quantity=-1)).kind == "return"


def test_no_history_is_unpriced() -> None:
    assert judge_sale(None, sale("0.01")) == SaleJudgement("unpriced")


def test_before_the_first_price_is_unpriced_never_guessed() -> None:
    verdict = judge_sale(LIST, sale("0.01", at=T0 - US))
    assert verdict == SaleJudgement("unpriced")


def test_exactly_at_effective_from_the_price_governs() -> None:
    assert judge_sale(LIST, sale("14.00", at=T0)).kind == "violation"


def test_a_floor_in_another_currency_cannot_judge_the_sale() -> None:
    eur = history_of(price(1, floor="15.00", currency="EUR"))
    assert judge_sale(eur, sale("1.00")).kind == "unpriced"


def test_a_sale_of_another_sku_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="SKU-2"):
        judge_sale(LIST, sale(sku="SKU-2"))


def test_prices_follow_effective_dates() -> None:
    history = history_of(price(1, floor="15.00"), price(2, floor="12.00", at=T0 + 2 * D))
    assert judge_sale(history, sale("13.00", at=T0 + 2 * D - US)).kind == "violation"
    assert judge_sale(history, sale("13.00", at=T0 + 2 * D)).kind == "compliant"


# --- specificity ---------------------------------------------------------------------------

SPECIFIC = history_of(
    price(1, floor="15.00"),
    price(2, floor="12.00", distributor_id="D01"),
    price(3, floor="10.00", distributor_id="D01", reseller_id="R01"),
)


def test_reseller_specific_floor_wins() -> None:
    verdict = judge_sale(SPECIFIC, sale("10.00", distributor_id="D01", reseller_id="R01"))
    assert (verdict.kind, verdict.scope, verdict.floor_price) == (
        "compliant",
        "reseller",
        Decimal("10.00"),
    )
    assert judge_sale(SPECIFIC, sale("9.99", reseller_id="R01")).scope == "reseller"


def test_distributor_specific_floor_for_its_other_resellers() -> None:
    verdict = judge_sale(SPECIFIC, sale("11.00", distributor_id="D01", reseller_id="R02"))
    assert (verdict.kind, verdict.scope, verdict.floor_price) == (
        "violation",
        "distributor",
        Decimal("12.00"),
    )
    assert verdict.price_event_id == uid(2)


def test_list_floor_for_other_distributors_even_for_the_same_reseller() -> None:
    verdict = judge_sale(SPECIFIC, sale("12.00", distributor_id="D02", reseller_id="R01"))
    assert (verdict.kind, verdict.scope, verdict.floor_price) == (
        "violation",
        "list",
        Decimal("15.00"),
    )


def test_a_special_price_not_yet_in_effect_does_not_govern() -> None:
    history = history_of(price(1, floor="15.00"), price(2, floor="9.00", at=T0 + 5 * D, **D01))
    assert judge_sale(history, sale("10.00", at=T0 + 4 * D)).scope == "list"
    assert judge_sale(history, sale("10.00", at=T0 + 5 * D)).kind == "compliant"


# --- severity boundaries (floor 100.00) ----------------------------------------------------


@pytest.mark.parametrize(
    ("unit_price", "severity"),
    [
        ("99.99", Severity.MINOR),
        ("95.01", Severity.MINOR),
        ("95.00", Severity.MAJOR),  # exactly 5 % under: major
        ("80.01", Severity.MAJOR),
        ("80.00", Severity.MAJOR),  # exactly 20 % under: major
        ("79.99", Severity.CRITICAL),
        ("0.00", Severity.CRITICAL),
    ],
)
def test_severity_boundaries(unit_price: str, severity: Severity) -> None:
    history = history_of(price(1, floor="100.00"))
    verdict = judge_sale(history, sale(unit_price))
    assert verdict.kind == "violation"
    assert verdict.severity is severity


# --- the violation fact --------------------------------------------------------------------


def test_violation_fact_carries_the_sale_and_the_floor() -> None:
    line = sale("11.00", quantity=3, transaction_id="TX-9", n=77)
    judgement, fact = detect_violation(LIST, line)
    assert judgement.kind == "violation"
    assert fact == ViolationDetected(
        violation_id=derived_id("violation", "D01", "TX-9"),
        distributor_id="D01",
        transaction_id="TX-9",
        reseller_id="R01",
        sku="SKU-1",
        sold_at=T0 + D,
        quantity=3,
        unit_price=Decimal("11.00"),
        floor_price=Decimal("15.00"),
        currency="USD",
        severity=Severity.CRITICAL,  # 4.00 under 15.00: 26.7 %
        event_id=uid(77),
        scope="list",
        price_event_id=uid(1),
    )


def test_the_violation_id_is_the_sale_key_whatever_the_envelope() -> None:
    first = detect_violation(LIST, sale("12.00", n=1))[1]
    resent = detect_violation(LIST, sale("12.00", n=2, source="csv"))[1]
    assert first is not None and resent is not None
    assert first.violation_id == resent.violation_id
    other = detect_violation(LIST, sale("12.00", transaction_id="T-2"))[1]
    assert other is not None and other.violation_id != first.violation_id
    elsewhere = detect_violation(LIST, sale("12.00", distributor_id="D02"))[1]
    assert elsewhere is not None and elsewhere.violation_id != first.violation_id


@pytest.mark.parametrize("verdict", ["compliant", "unpriced", "return"])
def test_no_fact_for_other_verdicts(verdict: str) -> None:
    judgement = SaleJudgement(verdict)  # type: ignore[arg-type]
    assert violation_fact(sale(), judgement) is None


def test_sold_at_is_kept_in_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    local = datetime(2026, 7, 2, 2, tzinfo=plus2)
    fact = detect_violation(LIST, sale("1.00", at=local))[1]
    assert fact is not None
    assert fact.sold_at == local and fact.sold_at.utcoffset() == timedelta(0)


# --- snapshot rows -------------------------------------------------------------------------


def test_violation_row_format() -> None:
    fact = detect_violation(LIST, sale("12.50", transaction_id="TX-1"))[1]
    assert fact is not None
    assert violation_row(fact, "detected") == {
        "violation_id": str(derived_id("violation", "D01", "TX-1")),
        "distributor_id": "D01",
        "transaction_id": "TX-1",
        "reseller_id": "R01",
        "sku": "SKU-1",
        "sold_at": "2026-07-02T00:00:00Z",
        "unit_price": "12.50",
        "floor_price": "15.00",
        "currency": "USD",
        "severity": "major",
        "status": "detected",
        "resolution": None,
    }
    resolved = violation_row(fact, "resolved", "credited")
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "credited")


def test_violation_rows_are_sorted_by_sale_key() -> None:
    facts = [
        detect_violation(LIST, sale("1.00", distributor_id=d, transaction_id=t))[1]
        for d, t in [("D02", "A"), ("D01", "B"), ("D01", "A")]
    ]
    rows = violation_rows(violation_row(f, "detected") for f in facts if f is not None)
    assert [(r["distributor_id"], r["transaction_id"]) for r in rows] == [
        ("D01", "A"),
        ("D01", "B"),
        ("D02", "A"),
    ]
