"""The channel projection: routes one input to the reducers it concerns.

Everything here is deterministic: the same inputs in the same order give the same
stores and the same audit facts, in a Faust worker, the embedded runner or a replay.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Final, get_args

from domain.business_time import TimeRules, date_problem
from domain.rebate_programs import period_kind, terms_of, validate_program
from projections.agreement_inputs import AgreementEvent, apply_agreement, apply_rate_event
from projections.authorization_inputs import AuthorizationEvent, apply_authorization
from projections.catalog import alias, define_product
from projections.claim_inputs import apply_claim, expire_due
from projections.clock import tick
from projections.dedup import Verdict
from projections.identity_inputs import apply_identity
from projections.match_inputs import match_onboarding
from projections.movement_lines import CONFLICTING_DUPLICATE, apply_movement, judge_waiting
from projections.outcome import AuditFact as AuditFact  # its old home, still imported so
from projections.outcome import Outcome
from projections.pending_moves import PendingMoves, PendingRun
from projections.positions import Position, line_position
from projections.price_book import PriceHistory, apply_price
from projections.rebate_accruals import (
    INVALID_PROGRAM,
    UNKNOWN_PROGRAM,
    ClosedPeriod,
    closed_key,
)
from projections.rejections import count_dead_letter_of, first_rejection, reject_input
from projections.rematch import rematch_due
from projections.replacement import submit_report
from projections.resellers import ResellerState, onboard, reseller_key
from projections.rotation_cancels import apply_cancel
from projections.rotation_inputs import apply_request, receive_shipment
from projections.scorecard_feed import record_cards
from projections.stores import ChannelStores
from schemas.claims import DebitClaimSubmitted
from schemas.codec import InvalidEvent, bundle_elements, event_of, message_values
from schemas.events import (
    DistributorTargetsSet,
    Envelope,
    ExchangeRatePublished,
    InventoryCounted,
    LineRejected,
    PriceChanged,
    ProductDefined,
    RebatePeriodClosed,
    RebateProgramDefined,
    ReportSubmitted,
    ResellerOnboarded,
    SaleReported,
    ShipmentRecorded,
    StockRotationCancelled,
    StockRotationRequested,
)
from schemas.parties import PartyEvent
from schemas.topics import KEY_FIELD

DEFAULT_RULES = TimeRules()

#: the vendor's terms (agreements, rates, authorizations), the stock rotation requests
#: under them and reseller identity: event type -> what applies it
_TERMS_STEPS: Final[dict[type[Any], Callable[..., Outcome]]] = {
    **{kind: apply_agreement for kind in get_args(AgreementEvent)},
    ExchangeRatePublished: apply_rate_event,
    **{kind: apply_authorization for kind in get_args(AuthorizationEvent)},
    StockRotationRequested: apply_request,
    StockRotationCancelled: apply_cancel,
    **{kind: apply_identity for kind in get_args(PartyEvent)},
}
WRONG_KEY = "wrong_message_key"


def distributor_of(event: Envelope) -> str | None:
    distributor = getattr(event, "distributor_id", None)
    return distributor if isinstance(distributor, str) else None


def apply_message(
    stores: ChannelStores,
    raw: bytes,
    message_key: str | None,
    position: Position | None,
    until: datetime | None = None,
    recorded_at: datetime | None = None,
    rules: TimeRules = DEFAULT_RULES,
    run: PendingRun | None = None,
) -> list[Outcome]:
    """Decode one message - an event, or a bundle of events - and apply each event in
    order, each at a position of its own; one outcome per event (an outcome of a bundle
    carries its index). Anything invalid is counted and named, never dropped: a message
    that is not JSON, or an empty or oversized bundle, is one rejection; a bad event of a
    bundle is rejected alone, with its own bytes, and the others are applied. The moves
    its lines keep are recorded when it ends, or, in a `run` of messages without
    positions, with the run's (projections/pending_moves.py).

    `message_key` is the Kafka key (None for files): it must be each event's routing key,
    or the event sits in a partition whose worker does not own its state. `recorded_at`
    is when the system recorded the message (the broker's append time): it replaces
    whatever the producer wrote there. A business date it cannot mean (after it was
    recorded, beyond a tolerance; before the floor or past the horizon) is rejected by
    `rules`, as the ingest gateway does. Events dated after `until` (an as-of replay)
    have not happened yet and are left out, and so are the lines of a report submitted
    after it (a replacement's corrected lines are dated at their sale, but were not
    known before the replacement was).
    """
    try:
        values, bundle = message_values(raw)
    except InvalidEvent as exc:
        if run is not None:
            run.flush(stores)  # the rejection may count against a distributor kept there
        reject_input(stores, exc.reason, message_key, position)
        return [Outcome(None, exc.reason, detail=exc.detail)]
    pending = PendingMoves() if run is None else run.message()
    stores.claims_checked = None  # what `expire_due` knows holds within one message
    outcomes = []
    for index, value in enumerate(values):
        where = line_position(position, index)
        outcome, event = _apply_value(
            stores, value, message_key, where, until, recorded_at, rules, pending
        )
        # built once, directly (not with dataclasses.replace): this runs once per event
        outcomes.append(
            Outcome(
                outcome.verdict, outcome.dead_letter_reason, outcome.facts, outcome.detail,
                event, outcome.original, index if bundle else None, outcome.rate_wait_refused,
            )
        )  # fmt: skip
    if bundle:
        outcomes = _with_originals(outcomes, raw)
    pending.end(stores)  # the last step: a run keeps the lines of a message that ended
    return outcomes


def _apply_value(
    stores: ChannelStores,
    value: object,
    message_key: str | None,
    position: Position | None,
    until: datetime | None,
    recorded_at: datetime | None,
    rules: TimeRules,
    pending: PendingMoves,
) -> tuple[Outcome, Envelope | None]:
    """One event's outcome, and the event (None: not a valid one)."""
    try:
        event = event_of(value, recorded_at)
    except InvalidEvent as exc:
        return reject_input(
            stores, exc.reason, message_key, position, pending, None, exc.detail
        ), None
    if until is not None and _not_yet(stores, event, until):
        return Outcome(None), event
    if message_key is not None:
        expected_key = getattr(event, KEY_FIELD[event.event_type])
        if message_key != expected_key:
            reject_input(stores, WRONG_KEY, distributor_of(event), position, pending, event)
            field_name = KEY_FIELD[event.event_type]
            detail = f"message key {message_key!r} is not the event's {field_name} {expected_key!r}"
            return Outcome(None, WRONG_KEY, detail=detail), event
    problem = date_problem(event, event.recorded_at or event.business_time, rules)
    if problem is not None:
        reason, detail = problem
        distributor = distributor_of(event)
        return reject_input(stores, reason, distributor, position, pending, event, detail), event
    return apply_event(stores, event, position, pending, rules), event


def _with_originals(outcomes: list[Outcome], raw: bytes) -> list[Outcome]:
    """A bundle's outcomes, a rejected event's with its own bytes (what is dead-lettered)."""
    elements: list[bytes] | None = None
    for index, outcome in enumerate(outcomes):
        if outcome.dead_letter_reason is not None and outcome.original is None:
            elements = bundle_elements(raw) if elements is None else elements
            outcomes[index] = replace(outcome, original=elements[index])
    return outcomes


def _not_yet(stores: ChannelStores, event: Envelope, until: datetime) -> bool:
    """Whether an as-of replay leaves the event out (its header precedes a report's lines)."""
    if event.business_time > until:
        if isinstance(event, ReportSubmitted):
            stores.reports_after_cut.add(f"{event.distributor_id}|{event.report_id}")
        return True
    return (
        isinstance(event, SaleReported)
        and event.report_id is not None
        and f"{event.distributor_id}|{event.report_id}" in stores.reports_after_cut
    )


def apply_event(
    stores: ChannelStores,
    event: Envelope,
    position: Position | None,
    pending: PendingMoves | None = None,
    rules: TimeRules = DEFAULT_RULES,
) -> Outcome:
    """Apply one valid event: reference data to the catalog and price book; a movement is
    normalized to sku + base units, deduplicated by business key, then projected. Every
    event moves the clock (an event from a file may carry no recorded time: it counts as
    recorded at its business date). A sale's or shipment's moves wait in `pending` until
    its message ends (or, without one, are recorded at once). A distributor's sale or
    claim first ends the waits of its claim lines that `rules.claim_wait` has run out."""
    if pending is None:
        pending = PendingMoves()
        stores.claims_checked = None
        outcome = apply_event(stores, event, position, pending, rules)
        pending.flush(stores)
        return outcome
    recorded = event.recorded_at or event.business_time
    tick(stores.clock, recorded, position)
    if isinstance(event, REMATCHED_BY):  # masters and rates known since: what waited
        rematched = rematch_due(stores, event.distributor_id, recorded, position)
        priced = judge_waiting(
            stores, event.distributor_id, recorded, position, pending, rules.rate_wait
        )
        return _with_facts(
            _apply_kind(stores, event, position, pending, recorded, rules), rematched + priced
        )
    return _apply_kind(stores, event, position, pending, recorded, rules)


#: a distributor's inputs that move its re-matching clock (`projections.rematch`) and judge
#: its sales waiting for a rate (`projections.rate_waits`)
REMATCHED_BY = (
    SaleReported, ShipmentRecorded, InventoryCounted, ReportSubmitted, ResellerOnboarded,
    DebitClaimSubmitted,
)  # fmt: skip


def _apply_kind(
    stores: ChannelStores,
    event: Envelope,
    position: Position | None,
    pending: PendingMoves,
    recorded: datetime,
    rules: TimeRules,
) -> Outcome:
    """`apply_event`'s step for the event's kind."""
    if isinstance(event, SaleReported | ShipmentRecorded):  # first: nearly every input is one
        return _movement(stores, event, position, pending, recorded, rules)
    pending.flush(stores)  # what follows may read the moves kept so far
    if isinstance(event, InventoryCounted):
        return apply_movement(stores, event, position, pending)
    if isinstance(event, ProductDefined):
        _define_product(stores, event, position)
        return Outcome(Verdict.ACCEPTED)
    if isinstance(event, PriceChanged):
        history = stores.prices.get(event.sku) or PriceHistory(event.sku)
        # a price announced after effective_from governs from its announcement (never
        # back-dated over sales judged before it was known)
        announced = event.published_at or event.recorded_at
        stores.prices.put(event.sku, apply_price(history, event, position, announced)[0])
        return Outcome(Verdict.ACCEPTED)
    if isinstance(event, RebateProgramDefined):
        problems = validate_program(event)
        if problems:
            return reject_input(stores, INVALID_PROGRAM, None, position, detail="; ".join(problems))
        stores.programs.put(event.program_id, terms_of(event))
        return Outcome(Verdict.ACCEPTED)
    if isinstance(event, RebatePeriodClosed):
        return _close_period(stores, event, position)
    if isinstance(event, LineRejected):
        return _line_rejected(stores, event, position)
    if isinstance(event, ReportSubmitted):
        return _report_submitted(stores, event, position)
    if isinstance(event, DistributorTargetsSet):  # a redelivery changes no card
        return Outcome(
            Verdict.ACCEPTED if record_cards(stores, [event], position) else Verdict.REDELIVERY
        )
    if isinstance(event, ResellerOnboarded):
        key = reseller_key(event.distributor_id, event.reseller_id)
        state = stores.resellers.get(key) or ResellerState(event.distributor_id, event.reseller_id)
        stores.resellers.put(key, onboard(state, event.name, event.onboarded_at, position))
        return Outcome(Verdict.ACCEPTED, facts=match_onboarding(stores, event, position))
    if isinstance(event, DebitClaimSubmitted):
        expired = expire_due(stores, event.distributor_id, recorded, rules.claim_wait)
        return _with_facts(apply_claim(stores, event, position), expired)
    terms_step = _TERMS_STEPS.get(type(event))
    if terms_step is not None:
        return terms_step(stores, event, position)
    return Outcome(Verdict.ACCEPTED)  # recorded on its raw topic; no projection reads it yet


def _movement(
    stores: ChannelStores,
    event: SaleReported | ShipmentRecorded,
    position: Position | None,
    pending: PendingMoves,
    recorded: datetime,
    rules: TimeRules,
) -> Outcome:
    if isinstance(event, ShipmentRecorded):
        outcome = apply_movement(stores, event, position, pending)
        if outcome.verdict is Verdict.ACCEPTED:  # a rotation's return or exchange, if expected
            return receive_shipment(stores, event, position, outcome)
        return outcome
    expired = expire_due(stores, event.distributor_id, recorded, rules.claim_wait)
    return _with_facts(apply_movement(stores, event, position, pending), expired)


def _with_facts(outcome: Outcome, before: tuple[AuditFact, ...]) -> Outcome:
    """The outcome with facts that came before its own (expired claim lines)."""
    if not before:
        return outcome
    return replace(outcome, facts=(*before, *outcome.facts))


def close_refusal(stores: ChannelStores, event: RebatePeriodClosed) -> tuple[str, str] | None:
    """Why a close cannot apply (its reason and detail), or None: the program is not
    defined, or the period is not one of its length. Every door asks it before it takes a
    close (the API, `channelflow rebates close`), and the worker before it applies one."""
    terms = stores.programs.get(event.program_id)
    if terms is None:
        return UNKNOWN_PROGRAM, f"program_id: {event.program_id!r} is not defined"
    if period_kind(event.period) != terms.period:
        return INVALID_PROGRAM, (
            f"period: {event.period!r} is not a {terms.period} of {event.program_id}"
        )
    return None


def _close_period(
    stores: ChannelStores, event: RebatePeriodClosed, position: Position | None
) -> Outcome:
    refusal = close_refusal(stores, event)
    if refusal is not None:
        reason, detail = refusal
        reject_input(stores, reason, None, position)
        return Outcome(None, reason, detail=detail)
    key = closed_key(event.program_id, event.period)
    if stores.closed_periods.get(key) is None:  # the first close stands
        closed = ClosedPeriod(
            event.program_id, event.period, event.closed_at, event.closed_by, event.recorded_at
        )
        stores.closed_periods.put(key, closed)
    return Outcome(Verdict.ACCEPTED)


def _define_product(
    stores: ChannelStores, event: ProductDefined, position: Position | None
) -> None:
    product = define_product(stores.products.get(event.sku), event, position)
    stores.products.put(event.sku, product)
    for identifier in product.identifiers.values():
        named = alias(stores.aliases.get(identifier), identifier, event.sku, position)
        stores.aliases.put(identifier, named)


def _line_rejected(
    stores: ChannelStores, event: LineRejected, position: Position | None
) -> Outcome:
    """Count a line the gateway rejected and dead-letter the line itself, once per event."""
    if not first_rejection(stores, event, position):
        return Outcome(Verdict.REDELIVERY)
    reject_input(stores, event.reason, event.distributor_id, position, sent=event)
    detail = event.detail if event.source_ref is None else f"{event.source_ref}: {event.detail}"
    try:
        original = base64.b64decode(event.original_b64, validate=True)
    except binascii.Error:
        original = None  # not base64 after all: the LineRejected itself is what we have
        detail += " (original_b64 is not valid base64: the rejection event is kept instead)"
    return Outcome(None, event.reason, detail=detail, original=original)


def _report_submitted(
    stores: ChannelStores, event: ReportSubmitted, position: Position | None
) -> Outcome:
    verdict, facts = submit_report(stores, event, position)
    if verdict is not Verdict.CONFLICT:
        return Outcome(verdict, facts=facts)
    count_dead_letter_of(stores, event.distributor_id, CONFLICTING_DUPLICATE, position)
    detail = (
        f"report_id: {event.report_id!r} was already submitted with another period, "
        "line count or replaced report"
    )
    return Outcome(verdict, CONFLICTING_DUPLICATE, detail=detail)
