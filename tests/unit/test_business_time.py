"""Business-date plausibility: what already happened is not after its recording, and no
date lies outside the floor and the horizon."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.business_time import DATE_OUT_OF_RANGE, FUTURE_DATE, TimeRules, date_problem
from schemas.events import (
    Envelope,
    InventoryCounted,
    PriceChanged,
    RebatePeriodClosed,
    ReportSubmitted,
    ResellerOnboarded,
    SaleReported,
    ShipmentRecorded,
)
from streams.config import Settings

RECORDED = datetime(2026, 12, 5, 10, tzinfo=UTC)
RULES = TimeRules()
TICK = timedelta(microseconds=1)
LATEST = RECORDED + RULES.tolerance
PAST = datetime(2026, 11, 30, tzinfo=UTC)


def envelope(**fields: Any) -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "occurred_at": PAST, "source": "api", **fields}


def sale(sold_at: datetime = PAST, **fields: Any) -> SaleReported:
    return SaleReported(
        **envelope(**fields),
        distributor_id="D1",
        transaction_id="T1",
        reseller_id="R1",
        sku="S1",
        quantity=1,
        unit_price=Decimal("1.00"),
        currency="USD",
        sold_at=sold_at,
    )


def report(start: date, end: date) -> ReportSubmitted:
    return ReportSubmitted(
        **envelope(),
        distributor_id="D1",
        report_id="R-1",
        period_start=start,
        period_end=end,
        line_count=0,
        submitted_at=PAST,
    )


def price(effective_from: datetime) -> PriceChanged:
    return PriceChanged(
        **envelope(),
        sku="S1",
        distributor_cost=Decimal(1),
        floor_price=Decimal(2),
        currency="USD",
        effective_from=effective_from,
    )


def test_the_example_of_the_rule() -> None:
    assert date_problem(sale(datetime(2062, 8, 18, tzinfo=UTC)), RECORDED) == (
        FUTURE_DATE,
        "sold_at: 2062-08-18T00:00:00Z is after the time it was recorded "
        "(2026-12-05T10:00:00Z) plus 1 day",
    )
    assert date_problem(sale(datetime(9999, 12, 31, tzinfo=UTC)), RECORDED) == (
        DATE_OUT_OF_RANGE,
        "sold_at: 9999-12-31T00:00:00Z is not before 2100-01-01T00:00:00Z, where the times "
        "accepted end",
    )


def test_future_boundary_is_recorded_at_plus_the_tolerance() -> None:
    assert date_problem(sale(LATEST), RECORDED) is None
    reason, detail = date_problem(sale(LATEST + TICK), RECORDED) or ("", "")
    assert reason == FUTURE_DATE and detail.startswith("sold_at: 2026-12-06T10:00:00.000001Z")
    assert date_problem(sale(LATEST + TICK), RECORDED, TimeRules(tolerance=timedelta(2))) is None


def test_floor_and_horizon_boundaries() -> None:
    floor, horizon = RULES.floor, RULES.horizon
    assert date_problem(sale(floor, occurred_at=floor), RECORDED) is None
    assert date_problem(sale(floor - TICK), RECORDED) == (
        DATE_OUT_OF_RANGE,
        "sold_at: 1999-12-31T23:59:59.999999Z is before 2000-01-01T00:00:00Z, the earliest "
        "time accepted",
    )
    late = horizon + timedelta(days=400)  # recorded late enough for the horizon to matter
    assert date_problem(sale(horizon - TICK), late) is None
    reason, detail = date_problem(sale(horizon), late) or ("", "")
    assert reason == DATE_OUT_OF_RANGE and detail.startswith("sold_at: 2100-01-01T00:00:00Z")
    assert date_problem(price(horizon - TICK), RECORDED) is None
    assert date_problem(price(horizon), RECORDED) == (
        DATE_OUT_OF_RANGE,
        "effective_from: 2100-01-01T00:00:00Z is not before 2100-01-01T00:00:00Z, where the "
        "times accepted end",
    )


def test_out_of_range_is_said_before_future() -> None:
    found = date_problem(
        sale(datetime(2062, 1, 1, tzinfo=UTC), occurred_at=datetime(1990, 1, 1, tzinfo=UTC)),
        RECORDED,
    )
    assert found is not None and found[0] == DATE_OUT_OF_RANGE
    assert found[1].startswith("occurred_at: 1990-01-01T00:00:00Z")


def test_a_price_may_govern_later_and_recorded_at_is_never_judged() -> None:
    assert date_problem(price(datetime(2031, 1, 1, tzinfo=UTC)), RECORDED) is None
    assert date_problem(sale(recorded_at=datetime(2099, 1, 1, tzinfo=UTC)), RECORDED) is None
    assert date_problem(sale(recorded_at=datetime(1990, 1, 1, tzinfo=UTC)), RECORDED) is None


def test_a_report_may_end_later_but_not_start_later() -> None:
    day = LATEST.date()  # 2026-12-06: its first instant is before LATEST
    assert date_problem(report(day, date(2026, 12, 31)), RECORDED) is None
    assert date_problem(report(day + timedelta(days=1), day + timedelta(days=7)), RECORDED) == (
        FUTURE_DATE,
        "period_start: 2026-12-07 is after the time it was recorded (2026-12-05T10:00:00Z) "
        "plus 1 day",
    )
    assert date_problem(report(day, date(2100, 1, 1)), RECORDED) == (
        DATE_OUT_OF_RANGE,
        "period_end: 2100-01-01 is not before 2100-01-01T00:00:00Z, where the times accepted end",
    )


FUTURE = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (sale(occurred_at=FUTURE), "occurred_at"),
        (
            ShipmentRecorded(
                **envelope(),
                shipment_id="SH1",
                distributor_id="D1",
                sku="S1",
                quantity=1,
                unit_price=Decimal(1),
                currency="USD",
                shipped_at=FUTURE,
            ),
            "shipped_at",
        ),
        (
            InventoryCounted(
                **envelope(), distributor_id="D1", sku="S1", on_hand=1, counted_at=FUTURE
            ),
            "counted_at",
        ),
        (
            ResellerOnboarded(
                **envelope(), distributor_id="D1", reseller_id="R1", name="R", onboarded_at=FUTURE
            ),
            "onboarded_at",
        ),
        (
            report(PAST.date(), PAST.date()).model_copy(update={"submitted_at": FUTURE}),
            "submitted_at",
        ),
        (
            RebatePeriodClosed(
                **envelope(), program_id="P", period="2026-Q4", closed_at=FUTURE, closed_by="f"
            ),
            "closed_at",
        ),
    ],
)
def test_every_time_of_something_that_happened_is_judged(event: Envelope, field: str) -> None:
    found = date_problem(event, RECORDED)
    assert found is not None and found[0] == FUTURE_DATE
    assert found[1].startswith(f"{field}: 2027-01-01T00:00:00Z is after")


def test_the_tolerance_is_said_in_days_or_hours() -> None:
    late = sale(datetime(2027, 1, 1, tzinfo=UTC))
    for tolerance, said in [
        (timedelta(hours=2), "(2026-12-05T10:00:00Z) plus 2 hours"),
        (timedelta(hours=1), "(2026-12-05T10:00:00Z) plus 1 hour"),
        (timedelta(days=3), "(2026-12-05T10:00:00Z) plus 3 days"),
        (timedelta(minutes=90), "(2026-12-05T10:00:00Z) plus 1:30:00"),
        (timedelta(0), "(2026-12-05T10:00:00Z)"),
    ]:
        found = date_problem(late, RECORDED, TimeRules(tolerance=tolerance))
        assert found is not None and found[1].endswith(said)


#: any instant between the floor and the horizon, and instants near the future boundary
WITHIN = st.integers(0, (RULES.horizon - RULES.floor) // TICK - 1).map(
    lambda us: RULES.floor + us * TICK
) | st.integers(-(10**7), 10**7).map(lambda us: LATEST + us * TICK)


@given(WITHIN)
def test_within_the_range_only_the_future_is_refused(when: datetime) -> None:
    found = date_problem(sale(when, occurred_at=when), RECORDED)
    assert (found is None) == (when <= LATEST)
    assert found is None or found[0] == FUTURE_DATE


def test_settings_give_the_rules() -> None:
    assert Settings().time_rules() == TimeRules()
    env = {"CHANNELFLOW_FUTURE_TOLERANCE_HOURS": "2.5", "CHANNELFLOW_DATE_FLOOR": "2010-06-01"}
    rules = Settings.from_env(env).time_rules()
    assert rules.tolerance == timedelta(hours=2.5)
    assert rules.floor == datetime(2010, 6, 1, tzinfo=UTC)
    for wrong in (
        {"CHANNELFLOW_DATE_FLOOR": "June 2010"},
        {"CHANNELFLOW_DATE_FLOOR": "2100-01-01"},
        {"CHANNELFLOW_FUTURE_TOLERANCE_HOURS": "-1"},
    ):
        with pytest.raises(SystemExit, match=next(iter(wrong))):
            Settings.from_env(wrong).time_rules()
