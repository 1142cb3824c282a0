"""The distributor scorecard as state: one `Scorecard` per distributor and period (a month
and a quarter), kept up to date by small input records (docs/SCORECARD.md).

The inputs are facts the existing projections already produce (the next slice feeds
them): `Moved` (an accepted movement line), `Judged` (a line's data-quality verdict, and
its pricing violation), `WeekReported` (a reporting week's status), `Standing` (weeks of
supply and active resellers at a time), `RebateStanding` (a program's tier at a time) and
the `DistributorTargetsSet` event. Each goes to the month and the quarter of its day
(`Standing` / `RebateStanding`: of `as_of`; a week: of its Monday; targets: to the period
they name).

Totals are added; the other figures are levels where the latest stands (`as_of`, then
the value, so two inputs at one time give the same card in either order). So a card is
the same whatever order its inputs come in and however they are split, and a replay
builds the card live built. Pure: new values are returned; an input at or below a card's
applied position changes nothing.

Money in another currency than the card's waits in per (card, currency, day) tallies
(`foreign_revenue`, `foreign_margin`): its units count at once, its amounts are converted
when the card is read, at each day's rate (`projections.scorecard_currency`),
so a rate that arrives after the lines converts them, and the card is the same whichever
came first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final, Literal, Protocol, TypeVar

from domain.frozen import quick_init
from domain.timeutil import utc
from projections.positions import Position, advance
from projections.tallies import period_key
from schemas.scorecard import DistributorTargetsSet

L = TypeVar("L", "Standing", "RebateStanding")
Verdict = Literal["accepted", "duplicate", "conflict", "rejected"]
WeekStatus = Literal["on_time", "late", "missing"]


@quick_init
@dataclass(frozen=True, slots=True)
class Moved:
    """An accepted movement line: `revenue` = units × unit price (returns negative), in
    `currency`; `cost` = units × the distributor cost in effect, in `cost_currency` (None:
    the line's), None when no cost is known; `lines`: how many lines it stands for (more
    than 1 once `combined`)."""

    distributor_id: str
    day: date
    basis: Literal["sell_in", "sell_through"]
    units: int
    revenue: Decimal
    currency: str
    cost: Decimal | None = None
    lines: int = 1
    cost_currency: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Judged:
    """A line's data-quality verdict; `severity`: the pricing violation of a sale line;
    `lines`: how many lines it stands for (more than 1 once `combined`)."""

    distributor_id: str
    day: date
    verdict: Verdict
    severity: str | None = None
    lines: int = 1


@dataclass(frozen=True, slots=True)
class WeekReported:
    """A reporting week's status (`week`: its Monday) as of a time."""

    distributor_id: str
    week: date
    status: WeekStatus
    as_of: datetime


@dataclass(frozen=True, slots=True)
class Standing:
    """Weeks of supply and active resellers (master ids) as of a time."""

    distributor_id: str
    as_of: datetime
    weeks_of_supply: Decimal | None
    active_resellers: int


@dataclass(frozen=True, slots=True)
class RebateStanding:
    """A rebate program's standing for the distributor as of a time: tiers reached (0:
    none) of its tiers, and the gap to the next threshold (None at the top)."""

    distributor_id: str
    program_id: str
    as_of: datetime
    tiers_reached: int
    tiers: int
    next_threshold: Decimal | None = None
    gap_to_next: Decimal | None = None


ScorecardInput = Moved | Judged | WeekReported | Standing | RebateStanding | DistributorTargetsSet


@dataclass(frozen=True, slots=True)
class Targets:
    """Each target as the latest `DistributorTargetsSet` giving it set it: (set_at,
    event_id, value)."""

    revenue: tuple[datetime, str, Decimal, str] | None = None
    population: tuple[datetime, str, int] | None = None
    weeks_band: tuple[datetime, str, Decimal, Decimal] | None = None


@dataclass(frozen=True, slots=True)
class Scorecard:
    """One distributor's figures for one period ("2026-07" or "2026-Q3")."""

    distributor_id: str
    period: str
    currency: str
    sell_in_units: int = 0
    sell_in_revenue: Decimal = Decimal(0)
    sell_through_units: int = 0
    sell_through_revenue: Decimal = Decimal(0)
    #: sell-through revenue and cost of the lines whose cost is known
    margin_revenue: Decimal = Decimal(0)
    margin_cost: Decimal = Decimal(0)
    unknown_cost_lines: int = 0
    other_currency_lines: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    violations: dict[str, int] = field(default_factory=dict)
    #: ISO Monday -> (as_of, status)
    weeks: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    standing: Standing | None = None
    rebates: dict[str, RebateStanding] = field(default_factory=dict)
    targets: Targets = field(default_factory=Targets)
    applied: dict[str, int] = field(default_factory=dict)
    #: "basis|currency|day" -> (revenue, lines, of them sell-through lines of no known
    #: cost): the revenue in another currency than the card's, converted when read
    foreign_revenue: dict[str, tuple[Decimal, int, int]] = field(default_factory=dict)
    #: "currency|cost currency|day" -> (revenue, cost, lines): the sell-through lines of a
    #: known cost with either in another currency than the card's, for the margin
    foreign_margin: dict[str, tuple[Decimal, Decimal, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "p": self.period,
            "cur": self.currency,
            "in": [self.sell_in_units, str(self.sell_in_revenue)],
            "thru": [self.sell_through_units, str(self.sell_through_revenue)],
            "margin": [str(self.margin_revenue), str(self.margin_cost)],
            "lines": [self.unknown_cost_lines, self.other_currency_lines],
            "verdicts": self.verdicts,
            "violations": self.violations,
            "weeks": {week: [at.isoformat(), status] for week, (at, status) in self.weeks.items()},
            "standing": None if self.standing is None else _standing_json(self.standing),
            "rebates": {p: _rebate_json(r) for p, r in self.rebates.items()},
            "targets": _targets_json(self.targets),
            "applied": self.applied,
            **({"fr": {k: [str(a), n, c] for k, (a, n, c) in self.foreign_revenue.items()}}
               if self.foreign_revenue else {}),
            **({"fm": {k: [str(a), str(c), n] for k, (a, c, n) in self.foreign_margin.items()}}
               if self.foreign_margin else {}),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scorecard:
        standing = data["standing"]
        return cls(
            data["d"], data["p"], data["cur"],
            data["in"][0], Decimal(data["in"][1]), data["thru"][0], Decimal(data["thru"][1]),
            Decimal(data["margin"][0]), Decimal(data["margin"][1]),
            data["lines"][0], data["lines"][1],
            dict(data["verdicts"]), dict(data["violations"]),
            {week: (datetime.fromisoformat(at), s) for week, (at, s) in data["weeks"].items()},
            None if standing is None else _standing_of(data["d"], standing),
            {p: _rebate_of(data["d"], p, r) for p, r in data["rebates"].items()},
            _targets_of(data["targets"]), dict(data["applied"]),
            {k: (Decimal(a), n, c) for k, (a, n, c) in data.get("fr", {}).items()},
            {k: (Decimal(a), Decimal(c), n) for k, (a, c, n) in data.get("fm", {}).items()},
        )  # fmt: skip


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _standing_json(standing: Standing) -> list[Any]:
    weeks = _text(standing.weeks_of_supply)
    return [standing.as_of.isoformat(), weeks, standing.active_resellers]


def _standing_of(distributor_id: str, data: list[Any]) -> Standing:
    return Standing(distributor_id, datetime.fromisoformat(data[0]), _amount(data[1]), data[2])


def _rebate_json(rebate: RebateStanding) -> list[Any]:
    return [
        rebate.as_of.isoformat(), rebate.tiers_reached, rebate.tiers,
        _text(rebate.next_threshold), _text(rebate.gap_to_next),
    ]  # fmt: skip


def _rebate_of(distributor_id: str, program_id: str, data: list[Any]) -> RebateStanding:
    at, reached, tiers, threshold, gap = data
    moment = datetime.fromisoformat(at)
    return RebateStanding(
        distributor_id, program_id, moment, reached, tiers, _amount(threshold), _amount(gap)
    )


def _targets_json(targets: Targets) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if targets.revenue is not None:
        at, event_id, amount, currency = targets.revenue
        found["revenue"] = [at.isoformat(), event_id, str(amount), currency]
    if targets.population is not None:
        at, event_id, count = targets.population
        found["population"] = [at.isoformat(), event_id, count]
    if targets.weeks_band is not None:
        at, event_id, low, high = targets.weeks_band
        found["weeks"] = [at.isoformat(), event_id, str(low), str(high)]
    return found


def _targets_of(data: dict[str, Any]) -> Targets:
    revenue = population = band = None
    if "revenue" in data:
        at, event_id, amount, currency = data["revenue"]
        revenue = (datetime.fromisoformat(at), event_id, Decimal(amount), currency)
    if "population" in data:
        at, event_id, count = data["population"]
        population = (datetime.fromisoformat(at), event_id, count)
    if "weeks" in data:
        at, event_id, low, high = data["weeks"]
        band = (datetime.fromisoformat(at), event_id, Decimal(low), Decimal(high))
    return Targets(revenue, population, band)


def card_key(distributor_id: str, period: str) -> str:
    return f"{distributor_id}|{period}"


def periods_of(fact: ScorecardInput) -> tuple[str, ...]:
    """The scorecard periods an input counts in: its day's month and quarter, or the
    period targets name."""
    if isinstance(fact, DistributorTargetsSet):
        return (fact.period,)
    if isinstance(fact, Standing | RebateStanding):
        day = utc(fact.as_of).date()
    else:
        day = fact.week if isinstance(fact, WeekReported) else fact.day
    return month_and_quarter(day)


@lru_cache(maxsize=4096)
def month_and_quarter(day: date) -> tuple[str, str]:
    """A day's month and quarter (each line asks: kept for the days seen lately)."""
    return period_key(day, "month"), period_key(day, "quarter")


class KnownCards(Protocol):
    """Where the known cards are looked up by `card_key`: a dict, or a store."""

    def get(self, key: str, /) -> Scorecard | None: ...


def apply_inputs(
    cards: KnownCards,
    facts: Iterable[ScorecardInput],
    position: Position | None,
    currency: str,
) -> dict[str, Scorecard]:
    """The cards `facts` (one input's, under its one position) change, by `card_key`;
    `cards` holds the ones known (a missing one starts empty, in `currency`)."""
    grouped: dict[str, list[ScorecardInput]] = {}
    for fact in combined(facts):
        for period in periods_of(fact):
            grouped.setdefault(f"{fact.distributor_id}|{period}", []).append(fact)
    changed: dict[str, Scorecard] = {}
    for key, group in grouped.items():
        distributor_id, period = key.split("|")
        card = cards.get(key) or Scorecard(distributor_id, period, currency)
        applied = advance(card.applied, position)
        if applied is not None:
            changed[key] = _fold(card, group, applied)
    return changed


def combined(facts: Iterable[ScorecardInput]) -> list[ScorecardInput]:
    """The facts, with the `Judged` and the `Moved` that count alike (one distributor, day
    and verdict and severity; or basis, currency, cost currency and whether the cost is
    known) added up
    into one each: every figure they touch is a total, so the cards come out the same, and
    a bundle's hundreds of lines fold as a few facts."""
    judged: dict[tuple[str, date, Verdict, str | None], int] = {}
    moved: dict[tuple[str, date, Any, str, str | None, bool], list[Any]] = {}
    others: list[ScorecardInput] = []
    for fact in facts:
        if type(fact) is Judged:
            verdict = (fact.distributor_id, fact.day, fact.verdict, fact.severity)
            judged[verdict] = judged.get(verdict, 0) + fact.lines
        elif type(fact) is Moved:
            alike = (
                fact.distributor_id, fact.day, fact.basis, fact.currency, fact.cost_currency,
                fact.cost is None,
            )  # fmt: skip
            sums = moved.get(alike)
            if sums is None:
                moved[alike] = [fact.units, fact.revenue, fact.cost, fact.lines]
            else:
                sums[0] += fact.units
                sums[1] += fact.revenue
                if fact.cost is not None:
                    sums[2] += fact.cost
                sums[3] += fact.lines
        else:
            others.append(fact)
    return [
        *(Judged(*verdict, lines) for verdict, lines in judged.items()),
        *(
            Moved(distributor_id, day, basis, units, revenue, currency, cost, lines, costed_in)
            for (distributor_id, day, basis, currency, costed_in, _), (
                units,
                revenue,
                cost,
                lines,
            ) in moved.items()
        ),
        *others,
    ]


def _fold(card: Scorecard, facts: Iterable[ScorecardInput], applied: dict[str, int]) -> Scorecard:
    values = {name: getattr(card, name) for name in _FIELD_NAMES}
    for name in ("verdicts", "violations", "weeks", "rebates", "foreign_revenue", "foreign_margin"):
        values[name] = dict(values[name])
    values["applied"] = applied
    for fact in facts:
        _add(values, fact, card.currency)
    return Scorecard(**values)


_FIELD_NAMES: Final = tuple(f.name for f in fields(Scorecard))


def _add(values: dict[str, Any], fact: ScorecardInput, currency: str) -> None:
    if isinstance(fact, Moved):
        _add_move(values, fact, currency)
    elif isinstance(fact, Judged):
        lines = fact.lines
        values["verdicts"][fact.verdict] = values["verdicts"].get(fact.verdict, 0) + lines
        if fact.severity is not None:
            violations = values["violations"]
            violations[fact.severity] = violations.get(fact.severity, 0) + lines
    elif isinstance(fact, WeekReported):
        week, seen = fact.week.isoformat(), (utc(fact.as_of), fact.status)
        values["weeks"][week] = max(values["weeks"].get(week, seen), seen)
    elif isinstance(fact, Standing):
        values["standing"] = _latest(values["standing"], fact)
    elif isinstance(fact, RebateStanding):
        values["rebates"][fact.program_id] = _latest(values["rebates"].get(fact.program_id), fact)
    else:
        values["targets"] = set_targets(values["targets"], fact)


def _add_move(values: dict[str, Any], fact: Moved, currency: str) -> None:
    """Units at once; amounts in the card's currency added, others to their day's tally."""
    prefix = "sell_in" if fact.basis == "sell_in" else "sell_through"
    values[f"{prefix}_units"] += fact.units
    through = fact.basis == "sell_through"
    no_cost = fact.lines if through and fact.cost is None else 0
    if fact.currency != currency:
        key = f"{fact.basis}|{fact.currency}|{fact.day.isoformat()}"
        amount, lines, unknown = values["foreign_revenue"].get(key, (Decimal(0), 0, 0))
        values["foreign_revenue"][key] = (amount + fact.revenue, lines + fact.lines,
                                          unknown + no_cost)  # fmt: skip
    else:
        values[f"{prefix}_revenue"] += fact.revenue
        values["unknown_cost_lines"] += no_cost
    if not through or fact.cost is None:
        return
    cost_currency = fact.cost_currency or fact.currency
    if fact.currency == currency == cost_currency:
        values["margin_revenue"] += fact.revenue
        values["margin_cost"] += fact.cost
        return
    key = f"{fact.currency}|{cost_currency}|{fact.day.isoformat()}"
    revenue, cost, lines = values["foreign_margin"].get(key, (Decimal(0), Decimal(0), 0))
    values["foreign_margin"][key] = (revenue + fact.revenue, cost + fact.cost, lines + fact.lines)


def _level_order(fact: Standing | RebateStanding) -> tuple[datetime, str]:
    """The latest stands; at one time the greater value, so either order gives one card."""
    return (utc(fact.as_of), repr(replace(fact, as_of=utc(fact.as_of))))


def _latest(known: L | None, fact: L) -> L:
    if known is None or _level_order(fact) > _level_order(known):
        return fact
    return known


def set_targets(targets: Targets, event: DistributorTargetsSet) -> Targets:
    """Each target the event gives replaces the one before, if the event is later."""
    at, event_id = utc(event.set_at), str(event.event_id)
    revenue, population, band = targets.revenue, targets.population, targets.weeks_band
    if event.sell_through_revenue is not None and event.currency is not None:
        given = (at, event_id, event.sell_through_revenue, event.currency)
        revenue = given if revenue is None or given[:2] > revenue[:2] else revenue
    if event.reseller_population is not None:
        count = (at, event_id, event.reseller_population)
        population = count if population is None or count[:2] > population[:2] else population
    low, high = event.weeks_of_supply_min, event.weeks_of_supply_max
    if low is not None and high is not None:
        weeks = (at, event_id, low, high)
        band = weeks if band is None or weeks[:2] > band[:2] else band
    return Targets(revenue, population, band)
