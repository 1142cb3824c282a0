"""Which agreement version governs a day or a period: amendments, retroactive ones after a
close, terminations, duplicates and the terms refused, computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.agreements import covers_whole_period, discount_for, group_of
from projections.agreement_timeline import (
    AgreementProblem,
    AgreementTimeline,
    amend,
    sign,
    terminate,
)
from projections.positions import Position
from tests.unit.agreement_events import SIGNED, amended, at, signed, terminated

Q2 = (date(2026, 4, 1), date(2026, 6, 30))
Q2_CLOSED = at(date(2026, 7, 15))
COMMIT_1500 = [{"period": "quarter", "basis": "sell_in", "measure": "units", "minimum": 1500}]
COMMIT_2000 = [{"period": "quarter", "basis": "sell_in", "measure": "units", "minimum": 2000}]


def minimum(timeline: AgreementTimeline, first: date, last: date, closed: object) -> Decimal:
    version = timeline.governing(first, last, closed)  # type: ignore[arg-type]
    assert version is not None
    return version.terms.commitments[0].minimum


def mid_quarter() -> AgreementTimeline:
    """Signed for 2026 (1,000 units a quarter); M1 from May 15: 1,500 and max age 60."""
    timeline = sign(None, signed(), SIGNED, None)
    change = amended(
        "M1", date(2026, 5, 15), commitments=COMMIT_1500, inventory={"max_age_days": 60}
    )
    return amend(timeline, change, at(date(2026, 5, 15)), None)


def test_an_amendment_governs_from_its_effective_date() -> None:
    timeline = mid_quarter()
    assert timeline.on(date(2025, 12, 31)) is None
    before, on_day = timeline.on(date(2026, 5, 14)), timeline.on(date(2026, 5, 15))
    assert before is not None and before.version_id == "AG-1"
    assert before.terms.inventory.max_age_days == 90
    assert on_day is not None and on_day.version_id == "M1"
    assert on_day.terms.inventory.max_age_days == 60
    # the sections the amendment does not give are the signed ones
    assert on_day.terms.discounts == before.terms.discounts
    assert on_day.terms.reporting == before.terms.reporting


def test_amended_mid_quarter_the_version_on_the_last_day_governs_the_quarter() -> None:
    timeline = mid_quarter()
    assert minimum(timeline, *Q2, Q2_CLOSED) == 1500
    assert minimum(timeline, date(2026, 1, 1), date(2026, 3, 31), at(date(2026, 4, 15))) == 1000
    assert covers_whole_period(timeline.versions, timeline.ends, *Q2, Q2_CLOSED)


def test_a_retroactive_amendment_never_rewrites_a_closed_period() -> None:
    """M2, effective June 1 but recorded July 20, after Q2 closed on July 15."""
    timeline = amend(
        mid_quarter(),
        amended("M2", date(2026, 6, 1), n=2, commitments=COMMIT_2000),
        at(date(2026, 7, 20)),
        None,
    )
    assert minimum(timeline, *Q2, Q2_CLOSED) == 1500  # as known at the close
    assert minimum(timeline, *Q2, None) == 2000  # still open: everything known
    assert minimum(timeline, date(2026, 7, 1), date(2026, 9, 30), None) == 2000
    version = timeline.on(date(2026, 6, 10))
    assert version is not None and version.version_id == "M2"
    assert timeline.on(date(2026, 6, 10), known_at=Q2_CLOSED) == timeline.on(date(2026, 5, 20))


def test_an_amendment_amends_the_version_in_effect_on_its_date() -> None:
    """M3, from March 1 but recorded after M1: March 1 .. May 14 has its discount; M1 (from
    May 15) was written on the signed terms and keeps the signed discount."""
    discount = [{"group_id": "G-NET", "discount": "0.08"}]
    timeline = amend(
        mid_quarter(),
        amended("M3", date(2026, 3, 1), n=3, discounts=discount),
        at(date(2026, 5, 20)),
        None,
    )
    march, june = timeline.on(date(2026, 3, 1)), timeline.on(date(2026, 6, 1))
    assert march is not None and discount_for(march.terms, "X") == Decimal("0.08")
    assert june is not None and discount_for(june.terms, "Y") == Decimal("0.05")
    assert discount_for(june.terms, "Z") is None and group_of(june.terms, "X") == "G-NET"


def test_a_termination_ends_the_agreement_after_its_last_day() -> None:
    timeline = terminate(mid_quarter(), terminated(date(2026, 9, 30)), at(date(2026, 8, 1)), None)
    assert timeline.on(date(2026, 9, 30)) is not None
    assert timeline.on(date(2026, 10, 1)) is None
    assert timeline.governing(date(2026, 10, 1), date(2026, 12, 31), None) is None


def test_a_termination_recorded_after_a_close_leaves_the_closed_period_alone() -> None:
    """Terminated with last day Aug 31, recorded Oct 20; Q3 closed on Oct 15."""
    q3, closed = (date(2026, 7, 1), date(2026, 9, 30)), at(date(2026, 10, 15))
    timeline = terminate(mid_quarter(), terminated(date(2026, 8, 31)), at(date(2026, 10, 20)), None)
    assert minimum(timeline, *q3, closed) == 1500
    assert timeline.governing(*q3, None) is None
    assert not covers_whole_period(timeline.versions, timeline.ends, *q3, None)


def test_a_new_agreement_after_the_last_one_ends() -> None:
    timeline = terminate(mid_quarter(), terminated(date(2026, 9, 30)), at(date(2026, 8, 1)), None)
    with pytest.raises(AgreementProblem) as overlapping:
        sign(timeline, signed("AG-2", n=2, term_start=date(2026, 9, 1)), at(date(2026, 8, 2)), None)
    assert overlapping.value.reason == "overlapping_agreement"
    timeline = sign(
        timeline,
        signed("AG-2", n=2, term_start=date(2026, 10, 1), currency="EUR"),
        at(date(2026, 8, 2)),
        None,
    )
    october = timeline.on(date(2026, 10, 1))
    assert october is not None and october.agreement_id == "AG-2" and october.currency == "EUR"
    assert not covers_whole_period(
        timeline.versions, timeline.ends, date(2026, 7, 1), date(2026, 12, 31), None
    )


def test_duplicates_and_redeliveries_change_nothing() -> None:
    timeline = mid_quarter()
    again = signed(n=9)  # the same content in a new envelope
    assert sign(timeline, again, at(date(2026, 6, 1)), None) is timeline
    change = amended(
        "M1", date(2026, 5, 15), n=9, commitments=COMMIT_1500, inventory={"max_age_days": 60}
    )
    assert amend(timeline, change, at(date(2026, 6, 1)), None) is timeline
    placed = sign(None, signed(), SIGNED, Position("agreements:0", 7))
    replayed = amend(
        placed,
        amended("M1", date(2026, 5, 15), commitments=COMMIT_1500),
        SIGNED,
        Position("agreements:0", 7),
    )
    assert replayed is placed


@pytest.mark.parametrize(
    ("apply", "reason"),
    [
        (
            lambda t: sign(t, signed(term_end=date(2027, 6, 30)), SIGNED, None),
            "conflicting_duplicate",
        ),
        (
            lambda t: amend(
                t, amended("M1", date(2026, 5, 15), commitments=COMMIT_2000), SIGNED, None
            ),
            "conflicting_duplicate",
        ),
        (
            lambda t: amend(
                t, amended("M9", date(2026, 5, 1), agreement_id="AG-9", inventory={}), SIGNED, None
            ),
            "unknown_agreement",
        ),
        (
            lambda t: terminate(t, terminated(date(2026, 5, 1), agreement_id="AG-9"), SIGNED, None),
            "unknown_agreement",
        ),
        (
            lambda t: amend(t, amended("M9", date(2025, 12, 1), inventory={}), SIGNED, None),
            "invalid_agreement",
        ),
        (
            lambda t: amend(t, amended("M9", date(2027, 1, 1), inventory={}), SIGNED, None),
            "invalid_agreement",
        ),
        (
            lambda t: amend(
                t, amended("M9", date(2026, 6, 1), term_end=date(2025, 12, 1)), SIGNED, None
            ),
            "invalid_agreement",
        ),
    ],
)
def test_events_that_cannot_apply_are_named(apply: object, reason: str) -> None:
    with pytest.raises(AgreementProblem) as problem:
        apply(mid_quarter())  # type: ignore[operator]
    assert problem.value.reason == reason


def test_invalid_terms_name_every_problem() -> None:
    bad = signed(
        product_groups=[{"group_id": "G1", "skus": ["X"]}, {"group_id": "G2", "skus": ["X", "Y"]}],
        discounts=[{"group_id": "G9", "discount": "0.1"}],
        inventory={
            "stocking_targets": [{"group_id": "G8", "max_weeks_of_supply": "4"}],
            "rotation_min_age_days": 120,
            "rotation_max_age_days": 90,
        },
        program_ids=["P", "P"],
    )
    with pytest.raises(AgreementProblem) as problem:
        sign(None, bad, SIGNED, None)
    message = str(problem.value)
    assert problem.value.reason == "invalid_agreement"
    for part in (
        "program_ids: 'P' appears twice",
        "sku 'X' is in several groups",
        "discounts: unknown product group 'G9'",
        "stocking_targets: unknown product group 'G8'",
        "rotation_min_age_days 120 is above rotation_max_age_days 90",
    ):
        assert part in message


def test_an_event_of_another_distributor_is_refused() -> None:
    with pytest.raises(ValueError, match="applied to the timeline"):
        sign(AgreementTimeline("D2"), signed(), SIGNED, None)


def test_round_trips_through_json() -> None:
    timeline = terminate(
        mid_quarter(), terminated(date(2026, 9, 30)), at(date(2026, 8, 1)), Position("a:0", 3)
    )
    assert AgreementTimeline.from_json(timeline.to_json()) == timeline
