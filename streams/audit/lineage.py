"""Lineage of an audit record (streams/audit/trail.py names the records): the source events
from the projection stores, where each raw one was read (`RawIndex`), and whether a
statement's listed events reproduce its digest."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from itertools import takewhile
from typing import Any
from uuid import UUID

import orjson

from domain.alias_mapping import PartyAlias
from domain.claim_lifecycle import DebitClaim
from domain.personal_data import PERSONAL_FIELDS
from domain.price_protection import PriceProtection
from domain.rebate_statement import RebateStatement
from domain.rebates import events_digest
from domain.rotation_lifecycle import StockRotation
from domain.timeutil import utc
from domain.violation import PricingViolation
from infra.eventstore import AuditLog
from projections.claim_state import record_key as claim_record_key
from projections.inventory import Move
from projections.rebate_accruals import binding, closed_key, period_moves
from projections.rotation_state import record_key
from projections.stores import ChannelStores
from streams.audit.trail import jsonable, load
from streams.runners.processing import Input


@dataclasses.dataclass(frozen=True, slots=True)
class RawSource:
    """Where a raw event was read: topic, partition and offset (a file: name, None, line)."""

    topic: str
    partition: int | None
    offset: int | None
    event_type: str | None
    source: str | None
    source_ref: str | None
    report_id: str | None
    #: a sale line's personal fields as read: sealed tokens (the pack shows them opened or
    #: `erased`, docs/PRIVACY.md)
    end_customer_name: str | None = None
    end_customer_contact: str | None = None


class RawIndex:
    """Where each raw event was read, by event id (the first reading stands), and the
    count events by (distributor, sku, counted_at)."""

    def __init__(self) -> None:
        self.by_event: dict[str, RawSource] = {}
        self.counts: dict[tuple[str, str, str], list[str]] = defaultdict(list)

    def watch(self, inputs: Iterable[Input]) -> Iterator[Input]:
        """Pass inputs through, indexing each."""
        for item in inputs:
            self.add(item)
            yield item

    def add(self, item: Input) -> None:
        """Index the event of a message, or each event of a bundle (a report's lines)."""
        try:
            data = orjson.loads(item.raw)
        except orjson.JSONDecodeError:
            return  # not an event: it is a dead letter, never a source of a record
        for element in data if isinstance(data, list) else [data]:
            self._add_event(item, element)

    def _add_event(self, item: Input, data: Any) -> None:
        try:
            event_id = str(UUID(str(data["event_id"])))
        except (TypeError, KeyError, ValueError):
            return  # not an event: it is a dead letter, never a source of a record
        if event_id in self.by_event:
            return
        self.by_event[event_id] = RawSource(
            item.source,
            item.partition,
            item.offset,
            _text(data.get("event_type")),
            _text(data.get("source")),
            _text(data.get("source_ref")),
            _text(data.get("report_id")),
            *(_text(data.get(name)) for name in PERSONAL_FIELDS),
        )
        if data.get("event_type") == "InventoryCounted":
            try:
                counted_at = utc(datetime.fromisoformat(str(data["counted_at"]))).isoformat()
                key = (str(data["distributor_id"]), str(data["sku"]), counted_at)
            except (KeyError, ValueError):
                return
            self.counts[key].append(event_id)

    def count_events(self, distributor_id: str, sku: str, until: datetime) -> list[tuple[str, str]]:
        """(counted_at, event id) of the counts of (distributor, sku) up to `until`, in order."""
        stamp = utc(until).isoformat()
        return sorted(
            (counted_at, event_id)
            for (distributor, item, counted_at), ids in self.counts.items()
            if (distributor, item) == (distributor_id, sku) and counted_at <= stamp
            for event_id in ids
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# --- lineage ----------------------------------------------------------------------------------


def lineage(
    audit: AuditLog,
    stores: ChannelStores,
    kind: str,
    reference: str,
    raw: RawIndex | None = None,
) -> dict[str, Any]:
    """The source events of a record, with where each was read when `raw` is given."""
    return lineage_of(load(audit, kind, reference), kind, stores, raw)


def lineage_of(
    aggregate: Any, kind: str, stores: ChannelStores, raw: RawIndex | None = None
) -> dict[str, Any]:
    """The source events of a loaded record.

    `stores` are the projection stores that saw the events (a replay, or the live ones:
    a worker holds only its own partitions' distributors, see `complete`). Reads the
    stores only, so a live process calls it on the loop that changes them.
    """
    document: dict[str, Any] = {"kind": kind, "id": str(aggregate.id), "raw_read": raw is not None}
    if isinstance(aggregate, RebateStatement):
        document |= _statement_sources(aggregate, stores)
    elif isinstance(aggregate, StockRotation):
        document |= _rotation_sources(aggregate, stores)
    elif isinstance(aggregate, PartyAlias):
        # the events that asked for each step (`audit history` shows who, why and when)
        document["sources"] = [_source(e, "alias_step") for e in aggregate.step_events]
        document["complete"] = True
    elif isinstance(aggregate, DebitClaim):
        document |= _debit_claim_sources(aggregate, stores)
    elif isinstance(aggregate, PricingViolation):
        document["sources"] = [
            _source(str(aggregate.event_id), "sale", aggregate.sold_at, aggregate.quantity,
                    aggregate.unit_price),
            _source(str(aggregate.price_event_id), "floor_price"),
        ]  # fmt: skip
        if aggregate.rate_event_id is not None:  # the floor was in another currency
            document["sources"].append(_source(str(aggregate.rate_event_id), "exchange_rate"))
        if aggregate.alias_event_id is not None:  # the price or deal named the master
            document["sources"].append(_source(str(aggregate.alias_event_id), "alias_mapping"))
        document["complete"] = True
    else:
        at = aggregate.counted_at if kind == "reconciliation" else aggregate.effective_from
        document |= _stock_sources(aggregate, stores, at, raw, kind)
    for source in document["sources"]:
        _locate(source, raw)
    if raw is not None:  # read from the raw history: a source it lacks leaves the lineage short
        document["complete"] = document["complete"] and not unread(document)
    return document


def unread(document: dict[str, Any]) -> list[str]:
    """The ids of a raw-read lineage's source events the raw history did not hold."""
    if not document["raw_read"]:
        return []
    return [source["event_id"] for source in document["sources"] if source["read"] is None]


def _source(
    event_id: str,
    role: str,
    at: datetime | str | None = None,
    quantity: int | None = None,
    unit_price: Decimal | str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "role": role,
        "business_time": jsonable(datetime.fromisoformat(at) if isinstance(at, str) else at),
        "quantity": quantity,
        "unit_price": None if unit_price is None else str(unit_price),
    }


def _move_source(move: Move, role: str, quantity: int) -> dict[str, Any]:
    return _source(move.event_id, role, move.at, quantity, move.unit_price)


def _locate(source: dict[str, Any], raw: RawIndex | None) -> None:
    found = None if raw is None else raw.by_event.get(source["event_id"])
    source["read"] = None if found is None else dataclasses.asdict(found)


def _rotation_sources(rotation: StockRotation, stores: ChannelStores) -> dict[str, Any]:
    """The request, what decided it (the agreement version, the prices and rates that valued
    its lines, the returned skus' movements up to the request: the stock it read) and the
    return and exchange shipment events, and the cancellation."""
    record = stores.rotations.get(record_key(rotation.distributor_id, rotation.request_id))
    requested = rotation.recorded_at if record is None else record.requested_at
    sources = [_source(str(rotation.event_id), "request", requested)]
    decision = rotation.decision or {}
    if decision.get("agreement_event_id"):
        sources.append(_source(str(decision["agreement_event_id"]), "agreement"))
    sources += [_source(str(e), "price") for e in decision.get("price_event_ids", ())]
    sources += [_source(str(e), "rate") for e in decision.get("rate_event_ids", ())]
    stamp = requested if isinstance(requested, str) else utc(requested).isoformat()
    for sku in sorted(rotation.returns):
        scanned = (m for _, m in stores.moves.scan(f"{rotation.distributor_id}|{sku}|"))
        sources += [
            _move_source(m, "stock", m.sell_in if m.sell_in else -m.sell_through)
            for m in takewhile(lambda m: m.at <= stamp, scanned)
        ]
    sources += [_source(str(e), "return") for e in rotation.return_events]
    sources += [_source(str(e), "exchange") for e in rotation.exchange_events]
    if rotation.cancel_event is not None:
        sources.append(_source(str(rotation.cancel_event), "cancel"))
    return {"sources": sources, "complete": record is not None}


def _debit_claim_sources(claim: DebitClaim, stores: ChannelStores) -> dict[str, Any]:
    """The claim, and what decided each line: the authorization's terms, the POS line, the
    price entry of its book cost and the agreement version that priced it, if one did
    (each event once, in line order)."""
    sources = [_source(str(claim.event_id), "claim", claim.recorded_at)]
    seen = {str(claim.event_id)}
    for _, decision in sorted(claim.decisions.items()):
        for role, event_id in (
            ("authorization", decision.authorization_event_id),
            ("pos_line", decision.pos_event_id),
            ("price", decision.price_event_id),
            ("agreement", decision.agreement_event_id),
        ):
            if event_id is not None and str(event_id) not in seen:
                seen.add(str(event_id))
                sources.append(_source(str(event_id), role))
    record = stores.claims.get(claim_record_key(claim.distributor_id, claim.claim_id))
    return {"sources": sources, "complete": record is not None}


def _statement_sources(statement: RebateStatement, stores: ChannelStores) -> dict[str, Any]:
    """The qualifying moves recorded by the close (the statement's) and each later one (an
    adjustment's), on the days the distributor's agreement bound the program at the close,
    with the digests they reproduce; and the exchange-rate events that converted revenue in
    another currency (a `rate_arrived` adjustment's is its trigger, and adds no line)."""
    terms = stores.programs.get(statement.program_id)
    close = stores.closed_periods.get(closed_key(statement.program_id, statement.period))
    moves: list[Move] = []
    if terms is not None:
        distributor = statement.distributor_id
        skus = [state.sku for _, state in stores.inventory.scan(f"{distributor}|")]
        known_at = None if close is None else close.cutoff  # the agreement as at the close
        bound = binding(terms, stores.agreements, distributor, statement.period, known_at)
        moves = list(period_moves(terms, stores.moves, skus, distributor, bound))
    cutoff = "" if close is None else close.cutoff.isoformat()  # as the statement splits
    on_time = [m for m in moves if m.recorded <= cutoff]
    late = {m.event_id: m for m in moves if m.recorded > cutoff}
    basis_in = terms is not None and terms.basis == "sell_in"

    def quantity(move: Move) -> int:
        return move.sell_in if basis_in else move.sell_through

    sources = [_move_source(m, "contributing", quantity(m)) for m in on_time]
    included = [m.event_id for m in on_time]
    digest = events_digest(included)
    checks = [_digest_check("statement", statement.digest, digest, len(included),
                            statement.event_count)]  # fmt: skip
    rates = dict.fromkeys(statement.rate_event_ids)
    for adjustment in statement.adjustments:
        rates.update(dict.fromkeys(adjustment.rate_event_ids))
        move = late.get(adjustment.event_id)
        if move is not None:
            sources.append(_move_source(move, "adjustment", quantity(move)))
        if adjustment.reason != "rate_arrived":
            included.append(adjustment.event_id)
        checks.append(
            _digest_check(
                f"adjustment {adjustment.event_id}",
                adjustment.digest,
                events_digest(included),
                len(included),
                adjustment.event_count,
            )
        )
    sources += [_source(rate_id, "exchange_rate") for rate_id in rates]
    return {
        "sources": sources,
        "digests": checks,
        "complete": all(check["matches"] for check in checks),
    }


def _digest_check(
    what: str, recorded: str, recomputed: str, events: int, recorded_events: int
) -> dict[str, Any]:
    return {
        "what": what,
        "recorded": recorded,
        "recomputed": recomputed,
        "events": events,
        "recorded_events": recorded_events,
        "matches": recorded == recomputed,
    }


def _stock_sources(
    aggregate: Any, stores: ChannelStores, at: datetime, raw: RawIndex | None, kind: str
) -> dict[str, Any]:
    """A count or a claim rests on the stock of (distributor, sku) at `at`: every movement
    dated up to it, the physical counts up to it and, for a claim, the prices."""
    distributor, sku = aggregate.distributor_id, aggregate.sku
    stamp = utc(at).isoformat()
    moves = list(  # in key order: by day, time, event id
        takewhile(
            lambda m: m.at <= stamp, (m for _, m in stores.moves.scan(f"{distributor}|{sku}|"))
        )
    )
    sources = [
        _move_source(m, "movement", m.sell_in if m.sell_in else -m.sell_through) for m in moves
    ]
    counts = [] if raw is None else raw.count_events(distributor, sku, at)
    complete = bool(counts) if kind == "reconciliation" else bool(moves or counts)
    if kind == "reconciliation" and counts:
        *earlier, (_, this) = counts
        sources += [_source(e, "earlier_count", when) for when, e in earlier]
        sources.append(_source(this, "count", at, aggregate.on_hand))
    else:
        sources += [_source(e, "count", when) for when, e in counts]
    if kind == "claim":
        sources.append(_source(str(aggregate.price_event_id), "price_drop", at))
        previous = _previous_price(stores, aggregate)
        if previous is not None:
            sources.append(previous)
    return {"sources": sources, "complete": complete}


def _previous_price(stores: ChannelStores, claim: PriceProtection) -> dict[str, Any] | None:
    """The price whose cost the drop is measured against (the latest earlier one at old_cost)."""
    history = stores.prices.get(claim.sku)
    if history is None:
        return None
    earlier = [
        entry
        for entry in history.entries
        if entry.effective_from < claim.effective_from
        and entry.distributor_cost == claim.old_cost
        and entry.currency == claim.currency
        and entry.distributor_id in (None, claim.distributor_id)
    ]
    if not earlier:
        return None
    entry = earlier[-1]
    return _source(str(entry.event_id), "previous_price", entry.effective_from, None,
                   entry.distributor_cost)  # fmt: skip
