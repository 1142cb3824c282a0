"""Period rollups of channel inventory: sell-in vs sell-through, and top SKUs.

Sell-in and sell-through per distributor and week, month or quarter are kept up to date
as movements apply (`projections.tallies`, the `periods` store), so any period is read,
not recomputed; with a SKU asked for, its day totals are summed instead. The top-SKU
views read the inventory rows of the projection snapshot
(`projections.snapshot.inventory_rows`), whose money and weeks of supply are decimal
strings or None. Everything here is pure and deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from domain.currency import round_money
from projections.keyvalue import KeyValue
from projections.tallies import Granularity, InOut, period_key

RankBy = Literal["value", "weeks_of_supply"]


def sell_in_vs_through(
    periods: KeyValue[InOut],
    day_totals: KeyValue[InOut],
    distributors: Iterable[str],
    granularity: Granularity,
    sku: str | None = None,
) -> list[dict[str, Any]]:
    """Rows {distributor_id, period, sell_in, sell_through} sorted by (distributor_id, period).

    SKUs are summed per distributor (or only `sku`); only periods with movements
    appear; quantities are integers in base units, returns negative.
    """
    rows: list[dict[str, Any]] = []
    for distributor in sorted(distributors):
        totals = _periods_of(periods, day_totals, distributor, granularity, sku)
        rows.extend(
            {"distributor_id": distributor, "period": period, "sell_in": qty_in,
             "sell_through": qty_out}
            for period, (qty_in, qty_out) in totals
        )  # fmt: skip
    return rows


def channel_totals(
    periods: KeyValue[InOut],
    day_totals: KeyValue[InOut],
    distributors: Iterable[str],
    granularity: Granularity,
    sku: str | None = None,
) -> list[dict[str, Any]]:
    """Rows {period, sell_in, sell_through} over all distributors, sorted by period."""
    totals: dict[str, list[int]] = {}
    for distributor in distributors:
        for period, (qty_in, qty_out) in _periods_of(
            periods, day_totals, distributor, granularity, sku
        ):
            bucket = totals.setdefault(period, [0, 0])
            bucket[0] += qty_in
            bucket[1] += qty_out
    return [
        {"period": period, "sell_in": qty_in, "sell_through": qty_out}
        for period, (qty_in, qty_out) in sorted(totals.items())
    ]


def _periods_of(
    periods: KeyValue[InOut],
    day_totals: KeyValue[InOut],
    distributor: str,
    granularity: Granularity,
    sku: str | None,
) -> list[tuple[str, tuple[int, int]]]:
    """One distributor's (period, (sell_in, sell_through)), in period order."""
    if sku is None:
        prefix = f"{distributor}|{granularity}|"
        return [
            (key[len(prefix) :], (bucket.sell_in, bucket.sell_through))
            for key, bucket in periods.scan(prefix)
        ]
    summed: dict[str, list[int]] = {}
    prefix = f"{distributor}|{sku}|"
    for key, bucket in day_totals.scan(prefix):
        period = period_key(date.fromisoformat(key[len(prefix) :]), granularity)
        totals = summed.setdefault(period, [0, 0])
        totals[0] += bucket.sell_in
        totals[1] += bucket.sell_through
    return [(period, (qty_in, qty_out)) for period, (qty_in, qty_out) in sorted(summed.items())]


def top_skus(rows: Iterable[Mapping[str, Any]], by: RankBy, n: int) -> list[Mapping[str, Any]]:
    """The n rows with the highest `by`, highest first; None (or missing) sorts last.

    Ties, and rows without a value, are ordered by (distributor_id, sku) so the result
    is deterministic. The rows are returned as given.
    """
    if by not in ("value", "weeks_of_supply"):
        raise ValueError(f"cannot rank by {by!r}")
    if n <= 0:
        return []

    def rank(row: Mapping[str, Any]) -> tuple[bool, Decimal, str, str]:
        amount = _decimal(row.get(by))
        return (
            amount is None,
            -(amount if amount is not None else Decimal(0)),
            str(row.get("distributor_id", "")),
            str(row.get("sku", "")),
        )

    return heapq.nsmallest(n, rows, key=rank)  # sorted(rows, key=rank)[:n], without the sort


def inventory_by_distributor(rows: Iterable[Mapping[str, Any]], n: int = 5) -> list[dict[str, Any]]:
    """Per distributor (sorted): stock, its value and its top n SKUs by value and by supply.

    `value` is the sum of the rows' values as a decimal string to the minor unit of their
    currency (to the cent when they are in several), or None when
    no SKU of the distributor has a value (no cost in effect: unknown, not zero);
    `unvalued_skus` counts the rows without one, so a partial total is visible as such.
    `currency` is the valued rows' one currency (None: no value, or costs in several
    currencies, whose sum is then no amount of money: `value_currency`).
    Each top entry is {sku, expected_on_hand, value, weeks_of_supply}.
    """
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row["distributor_id"]), []).append(row)
    result = []
    for distributor_id, members in sorted(grouped.items()):
        values = [_decimal(row.get("value")) for row in members]
        known = [value for value in values if value is not None]
        currency = value_currency(members)
        total = round_money(sum(known, Decimal(0)), currency) if known else None
        result.append(
            {
                "distributor_id": distributor_id,
                "skus": len(members),
                "expected_on_hand": sum(int(row["expected_on_hand"]) for row in members),
                "value": None if total is None else str(total),
                "currency": currency,
                "unvalued_skus": len(values) - len(known),
                "top_by_value": _brief(top_skus(members, "value", n)),
                "top_by_weeks_of_supply": _brief(top_skus(members, "weeks_of_supply", n)),
            }
        )
    return result


def value_currency(rows: Iterable[Mapping[str, Any]]) -> str | None:
    """The one currency of the rows that have a value; None when none has one or they are
    in several currencies (or one of them names none)."""
    found = {row.get("currency") for row in rows if row.get("value") is not None}
    return next(iter(found)) if len(found) == 1 else None


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        raise TypeError(f"float {value!r} where a decimal string was expected")
    return Decimal(str(value))


def _brief(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "sku": row.get("sku"),
            "expected_on_hand": row.get("expected_on_hand"),
            "value": row.get("value"),
            "weeks_of_supply": row.get("weeks_of_supply"),
        }
        for row in rows
    ]
