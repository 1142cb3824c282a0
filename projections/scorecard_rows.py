"""Scorecard rows: each card's figures and score, and a period's ranking (docs/SCORECARD.md).

Built from the cards alone: a period's ranking reads one card per distributor, and the
share of channel revenue divides by their sum, so it costs the number of distributors.
Money as decimal strings, ratios to 4 places, as the other rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from domain.scorecard_score import (
    DEFAULT_SCORE,
    ScoreConfig,
    ScoreInputs,
    parts,
    ratio,
    weighted_score,
)
from projections.scorecard import Scorecard

PER_1000_PLACES: Final = Decimal("0.01")
STATUSES: Final = ("on_time", "late", "missing")
VERDICTS: Final = ("accepted", "duplicate", "conflict", "rejected")
SEVERITIES: Final = ("minor", "major", "critical")


def score_inputs(card: Scorecard) -> ScoreInputs:
    """What the score reads of a card (a revenue target in another currency is no target)."""
    statuses = [status for _, status in card.weeks.values()]
    revenue = card.targets.revenue
    band = card.targets.weeks_band
    population = card.targets.population
    standing = card.standing
    return ScoreInputs(
        sell_through_revenue=card.sell_through_revenue,
        revenue_target=revenue[2] if revenue is not None and revenue[3] == card.currency else None,
        weeks_of_supply=None if standing is None else standing.weeks_of_supply,
        weeks_band=None if band is None else (band[2], band[3]),
        on_time=statuses.count("on_time"),
        late=statuses.count("late"),
        missing=statuses.count("missing"),
        verdicts=card.verdicts,
        violations=card.violations,
        active_resellers=None if standing is None else standing.active_resellers,
        population_target=None if population is None else population[2],
        rebate_tiers=[(r.tiers_reached, r.tiers) for _, r in sorted(card.rebates.items())],
    )


def card_row(
    card: Scorecard, channel_revenue: Decimal | None, config: ScoreConfig = DEFAULT_SCORE
) -> dict[str, Any]:
    """One scorecard row: the figures, each part of the score, and the score."""
    inputs = score_inputs(card)
    present = parts(inputs, config)
    lines = sum(card.verdicts.values())
    accepted = card.verdicts.get("accepted", 0)
    return {
        "distributor_id": card.distributor_id,
        "period": card.period,
        "currency": card.currency,
        "sell_in_units": card.sell_in_units,
        "sell_in_revenue": str(card.sell_in_revenue),
        "sell_through_units": card.sell_through_units,
        "sell_through_revenue": str(card.sell_through_revenue),
        "share_of_channel_revenue": _share(card.sell_through_revenue, channel_revenue),
        **_margin(card),
        "weeks_of_supply": _text(None if card.standing is None else card.standing.weeks_of_supply),
        **{f"weeks_{status}": getattr(inputs, status) for status in STATUSES},
        **{f"{verdict}_lines": card.verdicts.get(verdict, 0) for verdict in VERDICTS},
        **{f"{verdict}_rate": _rate(card.verdicts.get(verdict, 0), lines) for verdict in VERDICTS},
        **{f"{s}_per_1000": _per_1000(card.violations.get(s, 0), accepted) for s in SEVERITIES},
        "active_resellers": inputs.active_resellers,
        "reseller_target": inputs.population_target,
        "revenue_target": _text(inputs.revenue_target),
        "rebates": [_rebate(program_id, card) for program_id in sorted(card.rebates)],
        "other_currency_lines": card.other_currency_lines
        + sum(lines for _, lines, _ in card.foreign_revenue.values()),
        "parts": {name: str(value) for name, value in present.items()},
        "score": _text(weighted_score(present, config)),
    }


def ranking(
    cards: Iterable[Scorecard], config: ScoreConfig = DEFAULT_SCORE
) -> list[dict[str, Any]]:
    """Rows of one period's cards ranked: score descending (none last), then distributor;
    `rank` from 1, equal scores sharing one. Share of channel revenue: of these cards."""
    listed = list(cards)
    periods = {card.period for card in listed}
    if len(periods) > 1:
        raise ValueError(f"a ranking is of one period, not {sorted(periods)}")
    channel = sum((card.sell_through_revenue for card in listed), start=Decimal(0))
    rows = [card_row(card, channel, config) for card in listed]
    rows.sort(
        key=lambda row: (row["score"] is None, -Decimal(row["score"] or 0), row["distributor_id"])
    )
    rank, previous = 0, None
    for place, row in enumerate(rows, start=1):
        if row["score"] != previous:
            rank, previous = place, row["score"]
        row["rank"] = rank
    return rows


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _share(revenue: Decimal, channel: Decimal | None) -> str | None:
    return None if channel is None or channel <= 0 else str(ratio(revenue, channel))


def _rate(count: int, total: int) -> str | None:
    return None if total == 0 else str(ratio(count, total))


def _per_1000(count: int, accepted: int) -> str | None:
    if accepted <= 0:
        return None
    return str((Decimal(count * 1000) / accepted).quantize(PER_1000_PLACES, ROUND_HALF_UP))


def _margin(card: Scorecard) -> dict[str, Any]:
    """Gross margin of the sell-through lines whose cost is known: amount and rate."""
    if card.margin_revenue == 0 and card.margin_cost == 0:
        return {
            "gross_margin": None,
            "gross_margin_rate": None,
            "unknown_cost_lines": card.unknown_cost_lines,
        }
    margin = card.margin_revenue - card.margin_cost
    rate = None if card.margin_revenue <= 0 else str(ratio(margin, card.margin_revenue))
    return {
        "gross_margin": str(margin),
        "gross_margin_rate": rate,
        "unknown_cost_lines": card.unknown_cost_lines,
    }


def _rebate(program_id: str, card: Scorecard) -> dict[str, Any]:
    standing = card.rebates[program_id]
    return {
        "program_id": program_id,
        "tiers_reached": standing.tiers_reached,
        "tiers": standing.tiers,
        "next_threshold": _text(standing.next_threshold),
        "gap_to_next": _text(standing.gap_to_next),
    }
