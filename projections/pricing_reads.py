"""Reading what pricing flagged: violations (a page of the list, the counts by severity
and status) and unpriced sale lines (a page).

Violations are history (one per sale line below its floor), so nothing here reads them
all: a page walks the list in key order (distributor_id, transaction_id) through the
distributors in scope, or through a severity's own list, and stops once the page is
full; totals come from the counts kept as lines are judged (`FlagCounts`). Lifecycle
statuses come from the event store (`Statuses`): the few decided violations are looked
up, every other one is "detected". Filtering by SKU walks the list (a SKU's violations
have no list of their own), and says so in its cost, not in its answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from domain.timeutil import iso_z
from projections.price_rules import FlaggedSale, Severity, violation_row
from projections.statuses import DETECTED, Statuses
from projections.stores import ChannelStores

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    total: int


@dataclass(frozen=True, slots=True)
class ViolationFilter:
    """Which violations: those of `distributors` (sorted), narrowed by the others."""

    distributors: tuple[str, ...]
    severity: str | None = None
    sku: str | None = None
    status: str | None = None

    def admits(self, flagged: FlaggedSale) -> bool:
        return (self.severity is None or str(flagged.severity) == self.severity) and (
            self.sku is None or flagged.sku == self.sku
        )


def violation_page(
    stores: ChannelStores, statuses: Statuses, wanted: ViolationFilter, offset: int, limit: int
) -> Page:
    """One page of the violation rows `wanted` asks for, sorted by their key fields."""
    if wanted.status is not None and wanted.status != DETECTED:
        decided = sorted(
            (violation_row(flagged, *statuses.of(flagged.violation_id))
             for flagged in _decided_flagged(stores, statuses, wanted, wanted.status)
             if wanted.admits(flagged)),
            key=lambda row: (row["distributor_id"], row["transaction_id"]),
        )  # fmt: skip
        return Page(decided[offset : offset + limit], len(decided))
    skipped = (
        {f.violation_id for f in _decided_flagged(stores, statuses, wanted) if wanted.admits(f)}
        if wanted.status == DETECTED
        else set()
    )
    rows: list[Row] = []
    matching = 0
    for flagged in _walk(stores, wanted):
        if not wanted.admits(flagged) or flagged.violation_id in skipped:
            continue
        if offset <= matching < offset + limit:
            rows.append(violation_row(flagged, *statuses.of(flagged.violation_id)))
        matching += 1
        if matching >= offset + limit and wanted.sku is None:
            break
    total = matching if wanted.sku is not None else _counted(stores, wanted) - len(skipped)
    return Page(rows, total)


def all_violation_rows(stores: ChannelStores, statuses: Statuses) -> list[Row]:
    """Every violation row (the snapshot's section): as long as the list itself."""
    return [
        violation_row(flagged, *statuses.of(flagged.violation_id))
        for flagged in stores.violations.values()
    ]


def severity_summary(
    stores: ChannelStores, statuses: Statuses, wanted: ViolationFilter
) -> list[Row]:
    """Violations per severity (every severity, mildest first) and per status within it,
    for the distributors in scope; a severity or status filter keeps only its counts."""
    if wanted.sku is not None:
        return _summary_of(_walk(stores, wanted), statuses, wanted)
    rows = []
    decided = [
        (flagged, statuses.of(flagged.violation_id)[0])
        for flagged in _decided_flagged(stores, statuses, wanted)
    ]
    for severity in Severity:
        total = sum(_count(stores, d, severity.value) for d in wanted.distributors)
        by_status: dict[str, int] = {}
        for flagged, status in decided:
            if flagged.severity is severity:
                by_status[status] = by_status.get(status, 0) + 1
        detected = total - sum(by_status.values())
        if detected:
            by_status[DETECTED] = detected
        rows.append(_summary_row(severity.value, by_status, wanted))
    return rows


def _summary_of(
    violations: Iterable[FlaggedSale], statuses: Statuses, wanted: ViolationFilter
) -> list[Row]:
    counts: dict[str, dict[str, int]] = {severity.value: {} for severity in Severity}
    for flagged in violations:
        if wanted.admits(flagged) and flagged.severity is not None:
            status = statuses.of(flagged.violation_id)[0]
            by = counts[flagged.severity.value]
            by[status] = by.get(status, 0) + 1
    return [_summary_row(severity, by, wanted) for severity, by in counts.items()]


def _summary_row(severity: str, by_status: dict[str, int], wanted: ViolationFilter) -> Row:
    if wanted.severity is not None and severity != wanted.severity:
        by_status = {}
    if wanted.status is not None:
        by_status = {s: n for s, n in by_status.items() if s == wanted.status}
    by_status = {s: n for s, n in by_status.items() if n}
    return {
        "severity": severity,
        "count": sum(by_status.values()),
        "by_status": dict(sorted(by_status.items())),
    }


def _walk(stores: ChannelStores, wanted: ViolationFilter) -> Iterator[FlaggedSale]:
    """The violations of the distributors in scope, in key order (a severity's own list
    when one is asked for)."""
    for distributor in wanted.distributors:
        if wanted.severity is None:
            for _, flagged in stores.violations.scan(f"{distributor}|"):
                yield flagged
            continue
        prefix = f"{distributor}|{wanted.severity}|"
        for key, _ in stores.violations_by_severity.scan(prefix):
            found = stores.violations.get(f"{distributor}|{key[len(prefix) :]}")
            if found is not None:
                yield found


def _count(stores: ChannelStores, distributor: str, severity: str | None) -> int:
    counts = stores.flag_counts.get(distributor)
    if counts is None:
        return 0
    if severity is not None:
        return counts.counts.get(severity, 0)
    return sum(counts.counts.get(s.value, 0) for s in Severity)


def _counted(stores: ChannelStores, wanted: ViolationFilter) -> int:
    return sum(_count(stores, d, wanted.severity) for d in wanted.distributors)


def _decided_flagged(
    stores: ChannelStores, statuses: Statuses, wanted: ViolationFilter, status: str | None = None
) -> list[FlaggedSale]:
    """The decided violations in scope (with `status`, if given), as flagged."""
    scope = set(wanted.distributors)
    found = []
    for decided in statuses.decided():
        if decided.distributor_id not in scope or status not in (None, decided.status):
            continue
        flagged = stores.violations.get(f"{decided.distributor_id}|{decided.transaction_id}")
        if flagged is not None:
            found.append(flagged)
    return found


def unpriced_page(
    stores: ChannelStores, distributors: Iterable[str], sku: str | None, offset: int, limit: int
) -> Page:
    """One page of the unpriced lines of `distributors` (sorted), in key order."""
    rows: list[Row] = []
    matching = 0
    for distributor in distributors:
        for _, flagged in stores.unpriced.scan(f"{distributor}|"):
            if sku is not None and flagged.sku != sku:
                continue
            if offset <= matching < offset + limit:
                rows.append(unpriced_row(flagged))
            matching += 1
            if matching >= offset + limit and sku is None:
                break
    if sku is not None:
        return Page(rows, matching)
    counts = (stores.flag_counts.get(d) for d in distributors)
    return Page(rows, sum(c.counts.get("unpriced", 0) for c in counts if c is not None))


def all_unpriced_rows(stores: ChannelStores) -> list[Row]:
    """Every unpriced line (the snapshot's section): as long as the list itself."""
    return [unpriced_row(flagged) for flagged in stores.unpriced.values()]


def unpriced_row(flagged: FlaggedSale) -> Row:
    return {
        "distributor_id": flagged.distributor_id,
        "transaction_id": flagged.transaction_id,
        "reseller_id": flagged.reseller_id,
        "sku": flagged.sku,
        "sold_at": iso_z(flagged.sold_at),
        "quantity": flagged.quantity,
        "unit_price": str(flagged.unit_price),
        "rate_wait_expired_at": None
        if (ended := flagged.rate_wait_expired_at) is None
        else iso_z(ended),
        "rate_wait_refused": flagged.rate_wait_refused,
    }
