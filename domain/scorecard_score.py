"""A distributor's weighted score: each part a ratio from 0 to 1, weighted (docs/SCORECARD.md).

Pure Decimal arithmetic. A part whose figures are missing (no target set, no line sent,
no week due, no program) is left out and the weights of the others are scaled up, so a
distributor is neither rewarded nor punished for a figure nobody can compute. The score
is 100 × Σ weight × part ÷ Σ weight over the parts present, rounded half-up to one place;
None when no part is present.

Parts:
- `sell_through`: sell-through revenue ÷ the revenue target, at most 1;
- `inventory`: weeks of supply inside the healthy band → 1; below it weeks ÷ low end;
  above it high end ÷ weeks (none without weeks of supply);
- `timeliness`: (on time + `late_credit` × late) ÷ weeks due (on time, late, missing);
- `data_quality`: accepted ÷ every line sent (accepted, duplicate, conflict, rejected);
- `pricing`: 1 − (weighted violations per 1,000 accepted lines ÷ `violation_tolerance`),
  at least 0; a violation weighs its severity's `severity_weights`;
- `resellers`: active resellers ÷ the population target, at most 1;
- `rebates`: per program the tiers reached ÷ its tiers (none reached: 0), averaged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final

PARTS: Final = (
    "sell_through",
    "inventory",
    "timeliness",
    "data_quality",
    "pricing",
    "resellers",
    "rebates",
)
RATIO_PLACES: Final = Decimal("0.0001")
SCORE_PLACES: Final = Decimal("0.1")
_ONE: Final = Decimal(1)
_ZERO: Final = Decimal(0)


def _default_weights() -> dict[str, Decimal]:
    return {
        "sell_through": Decimal("0.25"),
        "inventory": Decimal("0.10"),
        "timeliness": Decimal("0.15"),
        "data_quality": Decimal("0.15"),
        "pricing": Decimal("0.15"),
        "resellers": Decimal("0.10"),
        "rebates": Decimal("0.10"),
    }


def _default_severities() -> dict[str, Decimal]:
    return {"minor": Decimal(1), "major": Decimal(3), "critical": Decimal(10)}


@dataclass(frozen=True)
class ScoreConfig:
    """The score's weights and constants; every default documented in docs/SCORECARD.md."""

    weights: Mapping[str, Decimal] = field(default_factory=_default_weights)
    severity_weights: Mapping[str, Decimal] = field(default_factory=_default_severities)
    #: weighted violations per 1,000 accepted lines that bring `pricing` to 0
    violation_tolerance: Decimal = Decimal(100)
    #: what a week reported late is worth against one on time
    late_credit: Decimal = Decimal("0.5")
    #: the healthy band of weeks of supply when the targets set none
    weeks_band: tuple[Decimal, Decimal] = (Decimal(4), Decimal(8))

    def __post_init__(self) -> None:
        if set(self.weights) != set(PARTS) or any(w < 0 for w in self.weights.values()):
            raise ValueError(f"weights name each of {', '.join(PARTS)} once, none negative")
        if sum(self.weights.values()) <= 0:
            raise ValueError("at least one weight is above zero")
        if any(w < 0 for w in self.severity_weights.values()):
            raise ValueError("no severity weight is negative")
        if self.violation_tolerance <= 0 or not _ZERO <= self.late_credit <= _ONE:
            raise ValueError("violation_tolerance > 0 and 0 <= late_credit <= 1")
        low, high = self.weeks_band
        if not _ZERO < low <= high:
            raise ValueError("the weeks band is 0 < low <= high")


DEFAULT_SCORE: Final = ScoreConfig()


def configured_score(
    weights: str = "",
    severity_weights: str = "",
    violation_tolerance: str = "",
    late_credit: str = "",
    weeks_band: str = "",
) -> ScoreConfig:
    """A `ScoreConfig` from settings written as text, each empty one left at its default:
    `weights` and `severity_weights` as `name=number` pairs separated by commas (the names
    given replace theirs, the others keep theirs), `weeks_band` as `low-high`. A mistake
    raises ValueError naming the item and why."""
    config = ScoreConfig()
    return ScoreConfig(
        weights={**config.weights, **_pairs(weights, PARTS)},
        severity_weights={
            **config.severity_weights,
            **_pairs(severity_weights, tuple(config.severity_weights)),
        },
        violation_tolerance=_number(violation_tolerance, config.violation_tolerance),
        late_credit=_number(late_credit, config.late_credit),
        weeks_band=_band(weeks_band) if weeks_band.strip() else config.weeks_band,
    )


def _pairs(text: str, names: Sequence[str]) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, value = (piece.strip() for piece in item.partition("="))
        if not equals or not name:
            raise ValueError(f"{item!r}: write name=number")
        if name not in names:
            raise ValueError(f"{name!r} is not one of {', '.join(names)}")
        found[name] = _finite(value, item)
    return found


def _number(text: str, default: Decimal) -> Decimal:
    return _finite(text, text) if text.strip() else default


def _band(text: str) -> tuple[Decimal, Decimal]:
    low, dash, high = text.strip().partition("-")
    if not dash:
        raise ValueError(f"{text!r}: write the band as low-high, e.g. 4-8")
    return _finite(low, text), _finite(high, text)


def _finite(value: str, item: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{item!r}: not a number") from None
    if not number.is_finite():
        raise ValueError(f"{item!r}: not a finite number")
    return number


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    """The figures the parts are computed from (None: unknown or no target)."""

    sell_through_revenue: Decimal = _ZERO
    revenue_target: Decimal | None = None
    weeks_of_supply: Decimal | None = None
    weeks_band: tuple[Decimal, Decimal] | None = None
    on_time: int = 0
    late: int = 0
    missing: int = 0
    verdicts: Mapping[str, int] = field(default_factory=dict)
    violations: Mapping[str, int] = field(default_factory=dict)
    active_resellers: int | None = None
    population_target: int | None = None
    #: per program: (tiers reached, tiers)
    rebate_tiers: Sequence[tuple[int, int]] = ()


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal:
    """numerator ÷ denominator to 4 places, half-up (the denominator is above zero)."""
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES, ROUND_HALF_UP)


def weighted_violations(violations: Mapping[str, int], config: ScoreConfig) -> Decimal:
    return sum(
        (config.severity_weights.get(s, _ONE) * n for s, n in violations.items()), start=_ZERO
    )


def parts(inputs: ScoreInputs, config: ScoreConfig = DEFAULT_SCORE) -> dict[str, Decimal]:
    """Each part present, 0 to 1 to 4 places."""
    found: dict[str, Decimal | None] = {
        "sell_through": _capped(inputs.sell_through_revenue, inputs.revenue_target),
        "inventory": _inventory(inputs.weeks_of_supply, inputs.weeks_band or config.weeks_band),
        "timeliness": _timeliness(inputs, config.late_credit),
        "data_quality": _data_quality(inputs.verdicts),
        "pricing": _pricing(inputs, config),
        "resellers": _capped(inputs.active_resellers, inputs.population_target),
        "rebates": _rebates(inputs.rebate_tiers),
    }
    # quantized once more: a part at its bound (1 in the band, 0 when pricing is spent) is
    # written as the others are, 1.0000 beside 0.9962 (the CSV export, the card)
    return {
        name: value.quantize(RATIO_PLACES) for name, value in found.items() if value is not None
    }


def weighted_score(
    present: Mapping[str, Decimal], config: ScoreConfig = DEFAULT_SCORE
) -> Decimal | None:
    """100 × the weighted mean of the parts present, to one place; None with none."""
    total_weight = sum((config.weights[name] for name in present), start=_ZERO)
    if total_weight <= 0:
        return None
    weighted = sum((config.weights[name] * value for name, value in present.items()), start=_ZERO)
    return (100 * weighted / total_weight).quantize(SCORE_PLACES, ROUND_HALF_UP)


def _capped(value: Decimal | int | None, target: Decimal | int | None) -> Decimal | None:
    if value is None or target is None or target <= 0:
        return None
    return min(_ONE, ratio(max(value, 0), target))


def _inventory(weeks: Decimal | None, band: tuple[Decimal, Decimal]) -> Decimal | None:
    if weeks is None:
        return None
    low, high = band
    if weeks < low:
        return ratio(weeks, low) if low > 0 else _ONE
    if weeks > high:
        return ratio(high, weeks)
    return _ONE


def _timeliness(inputs: ScoreInputs, late_credit: Decimal) -> Decimal | None:
    due = inputs.on_time + inputs.late + inputs.missing
    if due == 0:
        return None
    return ratio(inputs.on_time + late_credit * inputs.late, due)


def _data_quality(verdicts: Mapping[str, int]) -> Decimal | None:
    sent = sum(verdicts.values())
    return None if sent == 0 else ratio(verdicts.get("accepted", 0), sent)


def _pricing(inputs: ScoreInputs, config: ScoreConfig) -> Decimal | None:
    accepted = inputs.verdicts.get("accepted", 0)
    if accepted <= 0:
        return None
    per_1000 = weighted_violations(inputs.violations, config) * 1000 / accepted
    return max(
        _ZERO, (_ONE - per_1000 / config.violation_tolerance).quantize(RATIO_PLACES, ROUND_HALF_UP)
    )


def _rebates(tiers: Sequence[tuple[int, int]]) -> Decimal | None:
    shares = [Decimal(reached) / Decimal(count) for reached, count in tiers if count > 0]
    if not shares:
        return None
    return (sum(shares, start=_ZERO) / len(shares)).quantize(RATIO_PLACES, ROUND_HALF_UP)
