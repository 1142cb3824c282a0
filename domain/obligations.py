"""An agreement's obligations judged: over-stock, over-age stock, volume commitments.

Pure: the caller passes the figures (stock and 28-day sell-through per sku, held lots,
volumes already converted to the agreement's currency) and the version of the terms that
governs (`domain.agreements`).

- **Over-stock**: a stocking target caps weeks of supply for one sku or one group (the
  group's stock and sell-through summed first, then divided, as weeks of supply always
  are). Over when the weeks of supply exceed the target, or when there is stock and no
  sell-through at all (weeks of supply unbounded). `excess_units` is the stock above
  target × weekly sell-through (rounded down to whole units).
- **Over-age**: units older than the terms' `max_age_days`, with their value.
- **Commitments**: volume ÷ minimum (4 places); `met` once the volume reaches the
  minimum; below it `open` while the period is open and `short` (with the shortfall)
  once closed. A revenue volume with unconverted lines is `unconverted` unless what did
  convert already meets the minimum: a shortfall is never claimed on a partial figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Final, Literal

from domain.aging import Lot, is_older_than
from domain.currency import MixedTotal
from domain.inventory import stock_value, weeks_of_supply
from schemas.agreements import AgreementTerms, StockingTarget, VolumeCommitment

PROGRESS_PLACES: Final = Decimal("0.0001")
CommitmentStatus = Literal["met", "open", "short", "unconverted"]


@dataclass(frozen=True, slots=True)
class SkuSupply:
    """A sku's stock and its sell-through over the 28 days ending "now"."""

    on_hand: int
    sold_28_days: int


@dataclass(frozen=True, slots=True)
class OverStock:
    """A stocking target exceeded."""

    scope: Literal["sku", "group"]
    ref: str
    target_weeks: Decimal
    #: None: stock with no sell-through (unbounded)
    weeks_of_supply: Decimal | None
    on_hand: int
    excess_units: int


@dataclass(frozen=True, slots=True)
class OverAge:
    """Units of a sku older than the maximum age, and their value."""

    sku: str
    max_age_days: int
    units: int
    value: Decimal | None


@dataclass(frozen=True, slots=True)
class CommitmentProgress:
    """How far a period's volume is toward a commitment."""

    commitment: VolumeCommitment
    period: str
    volume: Decimal
    progress: Decimal
    status: CommitmentStatus
    shortfall: Decimal | None = None


def over_stock(terms: AgreementTerms, supply: Mapping[str, SkuSupply]) -> list[OverStock]:
    """Every stocking target of `terms` exceeded, in the order the terms list them."""
    found = []
    for target in terms.inventory.stocking_targets:
        skus = _target_skus(terms, target)
        on_hand = sum(supply[sku].on_hand for sku in skus if sku in supply)
        sold = sum(supply[sku].sold_28_days for sku in skus if sku in supply)
        judged = _over(target, on_hand, sold)
        if judged is not None:
            found.append(judged)
    return found


def _target_skus(terms: AgreementTerms, target: StockingTarget) -> list[str]:
    if target.sku is not None:
        return [target.sku]
    return next(g.skus for g in terms.product_groups if g.group_id == target.group_id)


def _over(target: StockingTarget, on_hand: int, sold: int) -> OverStock | None:
    if on_hand <= 0:
        return None
    weeks = weeks_of_supply(on_hand, sold)
    limit = target.max_weeks_of_supply
    if weeks is not None and weeks <= limit:
        return None
    allowed = int((limit * Decimal(max(sold, 0)) / 4).to_integral_value(rounding=ROUND_DOWN))
    scope: Literal["sku", "group"] = "sku" if target.sku is not None else "group"
    ref = target.sku if target.sku is not None else str(target.group_id)
    return OverStock(scope, ref, limit, weeks, on_hand, on_hand - allowed)


def over_age(
    terms: AgreementTerms,
    lots: Mapping[str, Sequence[Lot]],
    today: date,
    unit_costs: Mapping[str, Decimal],
    currencies: Mapping[str, str | None],
) -> list[OverAge]:
    """Per sku (sorted), the held units older than the terms' maximum age on `today`,
    valued at the sku's unit cost in its currency."""
    limit = terms.inventory.max_age_days
    if limit is None:
        return []
    found = []
    for sku in sorted(lots):
        units = sum(lot.quantity for lot in lots[sku] if is_older_than(lot, limit, today))
        if units > 0:
            value = stock_value(units, unit_costs.get(sku), currencies.get(sku))
            found.append(OverAge(sku, limit, units, value))
    return found


def commitment_progress(
    commitment: VolumeCommitment, period: str, volume: Decimal | MixedTotal, closed: bool
) -> CommitmentProgress:
    """The commitment's progress over `period` (a units volume is a plain number; a
    revenue volume a `MixedTotal` in the agreement's currency, or a number)."""
    converted = volume.converted if isinstance(volume, MixedTotal) else volume
    partial = isinstance(volume, MixedTotal) and not volume.complete
    progress = (converted / commitment.minimum).quantize(PROGRESS_PLACES, ROUND_HALF_UP)
    if converted >= commitment.minimum:
        return CommitmentProgress(commitment, period, converted, progress, "met")
    if partial:
        return CommitmentProgress(commitment, period, converted, progress, "unconverted")
    if not closed:
        return CommitmentProgress(commitment, period, converted, progress, "open")
    shortfall = commitment.minimum - converted
    return CommitmentProgress(commitment, period, converted, progress, "short", shortfall)
