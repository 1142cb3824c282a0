"""Submitted reports, and report replacement: a corrected report never double counts.

A `ReportSubmitted` is kept in the report store (projections/reports.py); its key
(distributor, report_id) is judged like a line's: a resend is a duplicate, another
report under the same id a conflict (dead-lettered), the same event again a redelivery.
A header with `replaces_report_id` reverses every accepted line of the replaced report
of the same distributor; the replacement's own lines, published after its header on the
same partition, then apply like any lines:

- each replaced line gets a reversing move: its negated quantity at its business time
  and price, recorded at the replacement's recorded_at, its event_id derived from the
  replacement and the line, so inventory, sell-in vs sell-through, the reseller network
  and rebate accruals net out (a closed rebate period gets adjustments);
- each replaced line's idempotency key is released, so the corrected line under the same
  transaction_id is accepted, not judged a duplicate or a conflict;
- history stays: the replaced moves are kept, the reversals are moves of their own
  (`Move.reverses`), the replaced report is marked `replaced_by` (a note in the seen
  store, and on its header), and a line of it that arrives afterwards is rejected
  (`replaced_report`, projections/channel.py);
- a pricing violation (or an unpriced flag) of a replaced line stays: the audit trail
  keeps it. Its id derives from the sale key, so a corrected line under the same key that
  is also below the floor shows in the violation list, and the recorded violation is
  revised to the corrected line's facts (its history keeps the first line's). A replaced
  line waiting for its floor's exchange rate waits no longer
  (`projections.rate_waits.stop_waiting`): a rate arriving later judges only the
  corrected line, if it waits;
- naming a report that was replaced already reverses its current replacement (the live
  version of the lines); a report cannot replace itself;
- a replacement of a report whose header was never received is recorded with
  `replaces_unknown`; it reverses the lines that name that report, if any arrived
  (`lines_reversed`; usually none), and the report counts as replaced from then on.

The lines are found in the report's line list (`report_lines`, a prefix range of the
report's own lines: the cost of a replacement is the size of the report it replaces).
Redelivery: the same header from another position does nothing; from its own position
(a crash before every store was written) what it decided stands and its effects are
redone, each state value applying only what its position check says it has not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from domain.identity import derived_id, sale_key
from projections.claim_inputs import pos_line_reversed
from projections.dedup import Verdict, classify, entry_for, remember
from projections.inventory import Move
from projections.movements import record_moves
from projections.outcome import AuditFact
from projections.positions import Position
from projections.rate_waits import stop_waiting
from projections.resellers import ResoldLine, record_lines
from projections.scorecard import ScorecardInput
from projections.scorecard_feed import record_cards, reversed_move
from projections.stores import ChannelStores
from projections.submitted_reports import (
    ReportState,
    header_fingerprint,
    report_key,
    report_line_key,
    report_of,
)
from schemas.events import ReportSubmitted


def submit_report(
    stores: ChannelStores, event: ReportSubmitted, position: Position | None
) -> tuple[Verdict, tuple[AuditFact, ...]]:
    """Record a report (and reverse what it replaces). Headers are judged like lines, by
    their key (distributor, report_id): a resend is a DUPLICATE, another report under the
    same id a CONFLICT, the same event again a REDELIVERY. The facts: claim lines the
    reversed lines reopened."""
    key = f"report|{event.distributor_id}|{event.report_id}"
    event_id = str(event.event_id)
    fingerprint = header_fingerprint(event)
    seen = stores.seen.get(key)
    verdict = classify(seen, event_id, fingerprint, position)
    remember(stores.seen, key, seen, verdict, event_id, fingerprint, position)
    if verdict is not Verdict.ACCEPTED:
        return verdict, ()
    known = stores.reports.get(report_key(event.distributor_id, event.report_id))
    # the same input again after a crash: what it decided stands, its effects are redone
    # (each state value applies them only if it has not already)
    report = known or replace(
        report_of(event), replaced_by=replaced_by(stores, event.distributor_id, event.report_id)
    )
    facts: tuple[AuditFact, ...] = ()
    if event.replaces_report_id is not None:
        report, facts = _replace(stores, report, event, position, decided=known is not None)
    stores.reports.put(report_key(report.distributor_id, report.report_id), report)
    return Verdict.ACCEPTED, facts


def _marker_key(distributor_id: str, report_id: str) -> str:
    """Where the seen store notes that a report was replaced (its header may never have
    come, so the note cannot live on the header)."""
    return f"replaced|{distributor_id}|{report_id}"


def replaced_by(stores: ChannelStores, distributor_id: str, report_id: str) -> str | None:
    """The report that replaced `report_id`, if it was replaced."""
    marker = stores.seen.get(_marker_key(distributor_id, report_id))
    return None if marker is None else marker.report_id


def _replace(
    stores: ChannelStores,
    report: ReportState,
    event: ReportSubmitted,
    position: Position | None,
    decided: bool,
) -> tuple[ReportState, tuple[AuditFact, ...]]:
    distributor = report.distributor_id
    if decided:  # as decided when it first arrived, whatever arrived since
        target = report.reversed_report
    elif report.replaces is None or report.replaces == report.report_id:
        target = None
    else:
        target = _live_version(stores, distributor, report.replaces, report.report_id)
    if target is None:
        return replace(report, replaces_unknown=True), ()
    lines, facts = reverse_lines(stores, distributor, target, event, position)
    marker = stores.seen.get(_marker_key(distributor, target))
    if marker is None:
        entry = entry_for(str(event.event_id), "", position, report.report_id)
        stores.seen.put(_marker_key(distributor, target), entry)
    header = stores.reports.get(report_key(distributor, target))
    if header is not None:
        stores.reports.put(
            report_key(distributor, target), replace(header, replaced_by=report.report_id)
        )
    unknown = report.replaces_unknown if decided else header is None
    reversed_report = replace(
        report, reversed_report=target, lines_reversed=lines, replaces_unknown=unknown
    )
    return reversed_report, facts


def _live_version(stores: ChannelStores, distributor_id: str, named: str, by: str) -> str:
    """The report whose lines `by` replaces: `named`, or its current replacement when it
    was replaced already."""
    current, followed = named, {by, named}
    while True:
        successor = replaced_by(stores, distributor_id, current)
        if successor is None or successor in followed:
            return current
        followed.add(successor)
        current = successor


def reverse_lines(
    stores: ChannelStores,
    distributor_id: str,
    report_id: str,
    by: ReportSubmitted,
    position: Position | None,
) -> tuple[int, tuple[AuditFact, ...]]:
    """Reverse every line of `report_id` and release its keys; returns how many lines, and
    the facts of the claim lines that held them (reopened)."""
    recorded = (by.recorded_at or by.business_time).isoformat()
    reversals: list[tuple[str, datetime, Move]] = []
    undone: list[ScorecardInput] = []
    per_reseller: dict[str, list[ResoldLine]] = defaultdict(list)
    released: list[tuple[str, str]] = []
    lines = list(stores.report_lines.scan(report_line_key(distributor_id, report_id, "")))
    for key, line in lines:
        if line.reversed_by not in (None, by.report_id):
            continue  # reversed by another report already
        move = line.move
        at = datetime.fromisoformat(move.at)
        reversal = Move(
            move.at,
            -move.sell_in,
            -move.sell_through,
            move.unit_price,
            move.currency,
            str(derived_id("reversal", str(by.event_id), move.event_id)),
            recorded,
            by.report_id,
            move.line,
            move.reseller_id,
            move.event_id,
        )
        reversals.append((line.sku, at, reversal))
        undone.append(reversed_move(stores, distributor_id, line.sku, reversal, move))
        if move.reseller_id is not None:
            resold = ResoldLine(at, move.sell_through, Decimal(move.unit_price), move.currency)
            per_reseller[move.reseller_id].append(resold)
        if move.line is not None:
            released.append((move.line, move.event_id))
        if line.reversed_by is None:
            stores.report_lines.put(key, replace(line, reversed_by=by.report_id))
            if move.line is not None:  # a sale: its wait for a rate, if any, ends
                stop_waiting(stores, distributor_id, move.line, at, move.currency)
    record_moves(stores, distributor_id, reversals, position)
    record_cards(stores, undone, position)
    for reseller, resold_lines in per_reseller.items():
        record_lines(
            stores.resellers, stores.reseller_days, distributor_id, reseller, resold_lines,
            position, reversal=True,
        )  # fmt: skip
    facts: list[AuditFact] = []
    at = by.recorded_at or by.business_time
    for transaction_id, event_id in released:
        key = sale_key(distributor_id, transaction_id)
        entry = stores.seen.get(key)
        if entry is not None and not entry.released:
            stores.seen.put(key, entry.release(event_id))
        facts += pos_line_reversed(stores, distributor_id, transaction_id, by.event_id, at)
    return len(reversals), tuple(facts)
