"""Rebate programs: their terms, what makes a definition invalid, and their periods.

A `RebateProgramDefined` event becomes `ProgramTerms` (what the rebate math in
`domain.rebates` reads) once `validate_program` finds nothing wrong with it. Periods are
keyed "2026-Q3" (a quarter) or "2026" (a year), in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final, Literal, get_args

from domain.calendar_periods import period_key
from schemas.events import RebateProgramDefined

Basis = Literal["sell_in", "sell_through"]
Measure = Literal["units", "revenue"]
PeriodKind = Literal["quarter", "year"]
TierMode = Literal["retroactive", "incremental"]

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_PERIOD_KEY: Final = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")


class InvalidProgram(ValueError):
    """A program's terms cannot be applied; the message lists every problem."""

    def __init__(self, program_id: str, problems: Sequence[str]) -> None:
        self.program_id = program_id
        self.problems = list(problems)
        super().__init__(f"invalid rebate program {program_id!r}: " + "; ".join(self.problems))


# --- terms ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierTerm:
    """One tier: from `threshold` (in the program's measure) on, `rate` (a fraction) applies."""

    threshold: Decimal
    rate: Decimal


@dataclass(frozen=True, slots=True)
class ProgramTerms:
    """The valid terms of a rebate program; construction checks them (`InvalidProgram`).

    `distributor_ids` and `skus` are sorted tuples, or "all".
    """

    program_id: str
    distributor_ids: tuple[str, ...] | Literal["all"]
    basis: Basis
    measure: Measure
    period: PeriodKind
    tiers: tuple[TierTerm, ...]
    tier_mode: TierMode
    currency: str
    minimum_commitment: Decimal | None = None
    growth_baseline: Decimal | None = None
    skus: tuple[str, ...] | Literal["all"] = "all"

    def __post_init__(self) -> None:
        problems = _problems_of(self)
        if problems:
            raise InvalidProgram(self.program_id, problems)

    def applies_to(self, distributor_id: str, sku: str) -> bool:
        """Whether a line of this distributor and SKU is covered by the program."""
        return (self.distributor_ids == "all" or distributor_id in self.distributor_ids) and (
            self.skus == "all" or sku in self.skus
        )

    def period_of(self, moment: datetime) -> str:
        """The key of the program period holding business time `moment`."""
        return period_of(moment, self.period)


def validate_program(event: RebateProgramDefined) -> list[str]:
    """Every problem with a program's terms, each naming its field; empty when valid.

    Thresholds strictly ascending, the first ≥ 0; every rate in [0, 1] (rates may go up
    or down between tiers: a real agreement can have any); minimum_commitment ≥ 0;
    growth_baseline ≥ 0 and only with the revenue measure (the baseline is revenue);
    distributor_ids and skus either "all" or a non-empty list without duplicates.
    """
    return _problems_of(event)


def terms_of(event: RebateProgramDefined) -> ProgramTerms:
    """The terms of a program event; `InvalidProgram` (all problems joined) when invalid."""
    problems = validate_program(event)
    if problems:
        raise InvalidProgram(event.program_id, problems)
    return ProgramTerms(
        program_id=event.program_id,
        distributor_ids=_sorted_ids(event.distributor_ids),
        basis=event.basis,
        measure=event.measure,
        period=event.period,
        tiers=tuple(TierTerm(tier.threshold, tier.rate) for tier in event.tiers),
        tier_mode=event.tier_mode,
        currency=event.currency,
        minimum_commitment=event.minimum_commitment,
        growth_baseline=event.growth_baseline,
        skus=_sorted_ids(event.skus),
    )


def _sorted_ids(ids: Sequence[str] | Literal["all"]) -> tuple[str, ...] | Literal["all"]:
    return "all" if ids == "all" else tuple(sorted(ids))


def _problems_of(terms: ProgramTerms | RebateProgramDefined) -> list[str]:
    """The problems of terms as constructed or as defined by an event (same fields)."""
    return _problems(
        basis=terms.basis,
        measure=terms.measure,
        period=terms.period,
        tier_mode=terms.tier_mode,
        tiers=[(tier.threshold, tier.rate) for tier in terms.tiers],
        minimum_commitment=terms.minimum_commitment,
        growth_baseline=terms.growth_baseline,
        distributor_ids=terms.distributor_ids,
        skus=terms.skus,
    )


def _problems(
    *,
    basis: str,
    measure: str,
    period: str,
    tier_mode: str,
    tiers: Sequence[tuple[Decimal, Decimal]],
    minimum_commitment: Decimal | None,
    growth_baseline: Decimal | None,
    distributor_ids: Sequence[str] | str,
    skus: Sequence[str] | str,
) -> list[str]:
    problems: list[str] = []
    for name, value, allowed in (
        ("basis", basis, get_args(Basis)),
        ("measure", measure, get_args(Measure)),
        ("period", period, get_args(PeriodKind)),
        ("tier_mode", tier_mode, get_args(TierMode)),
    ):
        if value not in allowed:
            problems.append(f"{name}: must be one of {', '.join(allowed)}, got {value!r}")
    if not tiers:
        problems.append("tiers: at least one tier is required")
    for i, (threshold, rate) in enumerate(tiers):
        if not threshold.is_finite():
            problems.append(f"tiers[{i}].threshold: must be a finite amount, got {threshold}")
        elif i == 0 and threshold < 0:
            problems.append(f"tiers[0].threshold: must be >= 0, got {threshold}")
        elif i > 0 and tiers[i - 1][0].is_finite() and threshold <= tiers[i - 1][0]:
            problems.append(
                f"tiers[{i}].threshold: thresholds must be strictly ascending, got {threshold}"
                f" after tiers[{i - 1}].threshold {tiers[i - 1][0]}"
            )
        if not (rate.is_finite() and _ZERO <= rate <= _ONE):
            problems.append(
                f"tiers[{i}].rate: must be a fraction between 0 and 1 (0.035 = 3.5 %), got {rate}"
            )
    if minimum_commitment is not None and not (
        minimum_commitment.is_finite() and minimum_commitment >= 0
    ):
        problems.append(f"minimum_commitment: must be >= 0, got {minimum_commitment}")
    if growth_baseline is not None:
        if not (growth_baseline.is_finite() and growth_baseline >= 0):
            problems.append(f"growth_baseline: must be >= 0, got {growth_baseline}")
        if measure != "revenue":
            problems.append(
                f"growth_baseline: is revenue, so it needs measure 'revenue', got {measure!r}"
            )
    problems.extend(_id_list_problems("distributor_ids", distributor_ids))
    problems.extend(_id_list_problems("skus", skus))
    return problems


def _id_list_problems(name: str, ids: Sequence[str] | str) -> list[str]:
    if ids == "all":
        return []
    if isinstance(ids, str):
        return [f"{name}: must be 'all' or a list of ids, got {ids!r}"]
    if not ids:
        return [f'{name}: the list is empty (use "all" to cover every one)']
    seen: set[str] = set()
    duplicates: list[str] = []
    for item in ids:
        if item in seen and item not in duplicates:
            duplicates.append(item)
        seen.add(item)
    return [f"{name}: duplicate id {item!r}" for item in duplicates]


# --- periods ----------------------------------------------------------------------------------


def period_of(moment: datetime, period: PeriodKind) -> str:
    """Key of the calendar period (UTC) holding `moment`: "2026-Q3" or "2026"."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"period_of needs a timezone-aware time, got naive {moment.isoformat()}")
    if period not in get_args(PeriodKind):
        raise ValueError(f"unknown period {period!r} (quarter or year)")
    return period_key(moment.astimezone(UTC).date(), period)


def period_bounds(key: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a period key: "2026-Q4" → 2026-10-01 .. 2027-01-01."""
    match = _PERIOD_KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"not a period key: {key!r} (e.g. '2026-Q3' or '2026')")
    year = int(match.group(1))
    try:
        if match.group(2) is None:
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        quarter = int(match.group(2))
        start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
        end = (
            datetime(year + 1, 1, 1, tzinfo=UTC)
            if quarter == 4
            else datetime(year, 3 * quarter + 1, 1, tzinfo=UTC)
        )
    except ValueError as error:
        raise ValueError(f"period {key!r} is out of range: {error}") from None
    return start, end


def period_kind(key: str) -> PeriodKind:
    """Whether a period key names a quarter or a year."""
    period_bounds(key)  # validates
    return "quarter" if "-Q" in key else "year"


# --- inputs -----------------------------------------------------------------------------------
