"""Movement lines (sales, shipments, counts): normalized, deduplicated by business key,
then projected; a sale is also judged against its floor price."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain.identity import content_fingerprint, idempotency_key, uuid_text
from projections.authorization_inputs import covering_sale
from projections.catalog import normalize
from projections.claim_inputs import sale_arrived
from projections.costs import bound_lists
from projections.dedup import Verdict, classify, conflict_detail, remember
from projections.exchange_rates import RateBook
from projections.identity_inputs import customer_master_of, master_of
from projections.inventory import InventoryState, Move, apply_count, inventory_key
from projections.movements import moved_after
from projections.outcome import VERDICT_ONLY, AuditFact, Outcome
from projections.pending_moves import PendingMoves
from projections.positions import Position
from projections.price_rules import (
    FlaggedSale,
    detect_violation,
    flag_label,
    flag_sale,
    judge_floor,
    violation_fact,
)
from projections.rate_waits import due, wait_for_rate
from projections.rejections import count_dead_letter_of, first_rejection, reject_input
from projections.replacement import replaced_by
from projections.resellers import ResoldLine
from projections.scorecard import Verdict as ScorecardVerdict
from projections.scorecard_feed import judged, moved, rejudged
from projections.stores import ChannelStores
from projections.submitted_reports import ReportLine, report_line_key
from schemas.events import Envelope, InventoryCounted, SaleReported, ShipmentRecorded

CONFLICTING_DUPLICATE = "conflicting_duplicate"
#: the scorecard's verdict of a line not accepted (a redelivery is no verdict)
_NOT_ACCEPTED: dict[Verdict, ScorecardVerdict] = {
    Verdict.DUPLICATE: "duplicate",
    Verdict.CONFLICT: "conflict",
}
#: a line of a report that a replacement report has replaced since
REPLACED_REPORT = "replaced_report"


def apply_movement(
    stores: ChannelStores,
    event: SaleReported | ShipmentRecorded | InventoryCounted,
    position: Position | None,
    pending: PendingMoves,
) -> Outcome:
    normalized = normalize(stores.products, stores.aliases, event)
    if isinstance(normalized, tuple):
        reason, detail = normalized
        if not first_rejection(stores, event, position):
            return Outcome(Verdict.REDELIVERY)  # the same line sent again: counted once
        return reject_input(stores, reason, event.distributor_id, position, pending, event, detail)
    event_id = uuid_text(event.event_id)
    verdict, first = _dedup(stores, normalized, position, event_id)
    if verdict is None:
        return _stale_line(stores, normalized, position, pending)
    pending.count_verdict(stores, event.distributor_id, verdict, position)
    if verdict in _NOT_ACCEPTED:
        sent = judged(normalized, event.distributor_id, _NOT_ACCEPTED[verdict], None)
        pending.score(stores, event.distributor_id, sent, position)
    if verdict is Verdict.CONFLICT:
        count_dead_letter_of(stores, event.distributor_id, CONFLICTING_DUPLICATE, position)
        held = stores.seen.get(idempotency_key(normalized) or "")
        detail = conflict_detail(normalized, held)
        return Outcome(verdict, CONFLICTING_DUPLICATE, detail=detail)
    if verdict is not Verdict.ACCEPTED:
        return VERDICT_ONLY[verdict]
    facts, refused = _project(stores, normalized, position, event_id, pending, first)
    if not facts and refused is None:
        return VERDICT_ONLY[verdict]
    return Outcome(verdict, facts=facts, rate_wait_refused=refused)


def _stale_line(
    stores: ChannelStores, line: Envelope, position: Position | None, pending: PendingMoves
) -> Outcome:
    """Reject a line of a report that a replacement has replaced since (once per event)."""
    assert isinstance(line, SaleReported) and line.report_id is not None  # as _dedup says
    if not first_rejection(stores, line, position):
        return Outcome(Verdict.REDELIVERY)
    reject_input(stores, REPLACED_REPORT, line.distributor_id, position, pending, line)
    successor = replaced_by(stores, line.distributor_id, line.report_id)
    detail = (
        f"report_id: report {line.report_id!r} was replaced by report {successor!r}; "
        "a line belongs in the report that replaced it"
    )
    return Outcome(None, REPLACED_REPORT, detail=detail)


def _dedup(
    stores: ChannelStores, event: Envelope, position: Position | None, event_id: str
) -> tuple[Verdict | None, bool]:
    """The line's verdict, its key recorded (None: a line of a replaced report that was
    not accepted before the replacement, not recorded here, rejected by the caller), and
    whether the key is new: no line came under it before. `event_id` is
    str(event.event_id)."""
    key = idempotency_key(event)
    if key is None:
        return Verdict.ACCEPTED, False
    fingerprint = content_fingerprint(event)
    seen = stores.seen.get(key)
    verdict = classify(seen, event_id, fingerprint, position)
    if (
        isinstance(event, SaleReported)
        and event.report_id is not None
        and (seen is None or not seen.knows(event_id))
        and replaced_by(stores, event.distributor_id, event.report_id)
    ):
        return None, False
    report_id = event.report_id if isinstance(event, SaleReported) else None
    remember(stores.seen, key, seen, verdict, event_id, fingerprint, position, report_id)
    return verdict, seen is None


def _project(
    stores: ChannelStores,
    event: Envelope,
    position: Position | None,
    event_id: str,
    pending: PendingMoves,
    first: bool,
) -> tuple[tuple[AuditFact, ...], str | None]:
    """Project an accepted line; `first`: the first line under its key ever. Returns its
    facts, and why its sale could not wait for its floor's rate (None: it could, or it
    needed none)."""
    if isinstance(event, SaleReported):
        line = ResoldLine(event.sold_at, event.quantity, event.unit_price, event.currency)
        _move(stores, event, 0, event.quantity, position, event_id, pending, line)
        master = master_of(stores, event.distributor_id, event.reseller_id)
        master_id = None if master is None else master.master_id
        customer = customer_master_of(stores, event)
        deal = covering_sale(stores, event, master_id, customer)
        rates = RateBook(stores.rates, event.recorded_at)  # a floor in another currency
        history = stores.prices.get(event.sku)
        lists = bound_lists(stores, history, event.distributor_id, event.sold_at, event.recorded_at)
        judgement, violation = detect_violation(
            history, event, deal, rates, master, lists, customer
        )
        flagged = flag_sale(event, judgement)
        refused = None
        if judgement.awaits is not None:  # judged again once the sale day's rate is known
            refused = wait_for_rate(stores, event, judgement.awaits)
            if refused is not None and flagged is not None:  # it stays unpriced: says why
                flagged = replace(flagged, rate_wait_refused=refused)
        if flagged is not None:
            flag(stores, flagged, position, pending, first)
        severity = None if judgement.severity is None else judgement.severity.value
        sold = [*judged(event, event.distributor_id, "accepted", severity), moved(stores, event)]
        pending.score(stores, event.distributor_id, sold, position)
        claimed = sale_arrived(stores, event, master_id, customer)  # the lines waiting for it
        return ((violation, *claimed) if violation is not None else claimed), refused
    elif isinstance(event, ShipmentRecorded):
        _move(stores, event, event.quantity, 0, position, event_id, pending)
        pending.score(stores, event.distributor_id, [moved(stores, event)], position)
    elif isinstance(event, InventoryCounted):
        counted = judged(event, event.distributor_id, "accepted", None)
        pending.score(stores, event.distributor_id, counted, position)
        key = inventory_key(event.distributor_id, event.sku)
        state = stores.inventory.get(key) or InventoryState(event.distributor_id, event.sku)
        after = moved_after(stores, event.distributor_id, event.sku, event.counted_at)
        new_state, fact = apply_count(state, event.counted_at, event.on_hand, after, position)
        stores.inventory.put(key, new_state)
        return ((fact,) if fact is not None else ()), None
    return (), None


def flag(
    stores: ChannelStores,
    flagged: FlaggedSale,
    position: Position | None,
    pending: PendingMoves,
    first: bool,
) -> None:
    """Keep a violation or unpriced line under its sale key, in its list and counts (the
    counts through `pending`, recorded when the message ends).

    The latest line judged under a key stands (a replacement report's corrected line
    takes its key over): it leaves the other list, and the counts move with it. The
    `first` line under its sale key finds nothing there (a line is flagged only once
    accepted, and its key stays known): nothing to look up.
    """
    key = f"{flagged.distributor_id}|{flagged.transaction_id}"
    mine, other = (
        (stores.violations, stores.unpriced)
        if flagged.kind == "violation"
        else (stores.unpriced, stores.violations)
    )
    before = None if first else (mine.get(key) or other.get(key))
    if before is not None:
        other.delete(key)
        if before.severity is not None:
            stores.violations_by_severity.delete(_severity_key(before))
    mine.put(key, flagged)
    if flagged.severity is not None:
        stores.violations_by_severity.put(_severity_key(flagged), flagged.sku)
    was = None if before is None else flag_label(before)
    pending.move_flag(stores, flagged.distributor_id, was, flag_label(flagged), position)


def judge_waiting(
    stores: ChannelStores,
    distributor_id: str,
    recorded: datetime,
    position: Position | None,
    pending: PendingMoves,
    wait: timedelta,
) -> tuple[AuditFact, ...]:
    """Judge the distributor's sales that waited for a rate known by `recorded`
    (`projections.rate_waits`), each by the floor that decided it, as if the rate had been
    known then: its unpriced flag becomes its verdict's (none when compliant), and its
    scorecard verdict is revised to the violation's (`rejudged`). A sale whose `wait` ran
    out by `recorded` with no rate is final as unpriced: its flag says when the wait ended.
    A sale whose key a later line took out of the unpriced list is left as that line left
    it."""
    facts: list[AuditFact] = []
    priced, expired = due(stores, distributor_id, recorded, wait)
    for waiting, ended in expired:
        key = f"{distributor_id}|{waiting.sale.transaction_id}"
        unpriced = stores.unpriced.get(key)
        if unpriced is not None:
            stores.unpriced.put(key, replace(unpriced, rate_wait_expired_at=ended))
    for waiting, rates in priced:
        sale = waiting.sale
        key = f"{sale.distributor_id}|{sale.transaction_id}"
        if stores.unpriced.get(key) is None:
            continue
        judgement = judge_floor(sale, waiting.floor, rates)
        flagged = flag_sale(sale, judgement)
        if flagged is not None:
            flag(stores, flagged, position, pending, first=False)
        else:
            stores.unpriced.delete(key)
            pending.move_flag(stores, distributor_id, "unpriced", None, position)
        severity = None if judgement.severity is None else judgement.severity.value
        pending.score(stores, distributor_id, rejudged(sale, severity), position)
        violation = violation_fact(sale, judgement)
        if violation is not None:
            facts.append(violation)
    return tuple(facts)


def _severity_key(flagged: FlaggedSale) -> str:
    severity = flagged.severity.value if flagged.severity is not None else ""
    return f"{flagged.distributor_id}|{severity}|{flagged.transaction_id}"


#: the recorded time `_move` wrote last and its text, as one pair (replaced whole): a
#: bundle's lines share the broker's time, one object, and `isoformat` of an aware time
#: costs ~15x the identity check
_LAST_RECORDED: list[tuple[datetime | None, str]] = [(None, "")]


def _recorded_text(recorded: datetime) -> str:
    last, text = _LAST_RECORDED[0]
    if recorded is not last:
        text = recorded.isoformat()
        _LAST_RECORDED[0] = (recorded, text)
    return text


def _move(
    stores: ChannelStores,
    event: ShipmentRecorded | SaleReported,
    sell_in: int,
    sell_through: int,
    position: Position | None,
    event_id: str,
    pending: PendingMoves,
    resold: ResoldLine | None = None,
) -> None:
    at = event.business_time
    stamp = at.isoformat()
    recorded = event.recorded_at
    line = (
        (event.report_id, event.transaction_id, event.reseller_id)
        if isinstance(event, SaleReported)
        else (None, None, None)
    )
    move = Move(
        stamp,
        sell_in,
        sell_through,
        str(event.unit_price),
        event.currency,
        event_id,
        stamp if recorded is None else _recorded_text(recorded),
        *line,
    )
    reseller = None
    if isinstance(event, SaleReported) and resold is not None:
        reseller = (event.reseller_id, resold)
    pending.add(stores, event.distributor_id, (event.sku, at, move), position, reseller)
    if isinstance(event, SaleReported) and event.report_id is not None:
        where = report_line_key(event.distributor_id, event.report_id, event_id)
        stores.report_lines.put(where, ReportLine(event.sku, move))
