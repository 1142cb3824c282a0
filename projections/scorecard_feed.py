"""What the channel projection tells the distributor scorecard (docs/SCORECARD.md).

Each line applied becomes small scorecard inputs: its verdict if the distributor sent it
(`Judged`, with the severity of a sale's pricing violation; shipments, targets, ... are
the vendor's) and, once accepted, its movement (`Moved`, with the distributor cost in
effect at the line's time); a replacement's reversal of a line is a negative `Moved`; a
`DistributorTargetsSet` is applied as it is. Each input changes at most two cards (its
month's and its quarter's), under the position of the input that made it: the same code
in the worker, the embedded runner and every replay, so a replay builds the cards live
built.

A line's verdict counts in the period of the day it was sent (recorded), where a rejected
line counts too (its business date may be what is wrong); its movement in the period of
its business date, as sell-in and sell-through do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal

from domain.currency import round_money
from domain.timeutil import utc
from projections.costs import unit_cost
from projections.inventory import Move
from projections.positions import Position
from projections.scorecard import (
    Judged,
    Moved,
    ScorecardInput,
    Verdict,
    apply_inputs,
)
from projections.stores import ChannelStores
from schemas.envelope import Envelope
from schemas.events import InventoryCounted, LineRejected, SaleReported, ShipmentRecorded

#: the scorecard's currency: revenue and margin in another one are converted at the day's
#: rate when a card is read (a day without one: counted in `other_currency_lines`); a
#: target in another one is none
SCORECARD_CURRENCY: Final = "USD"
#: the lines a distributor sends, whose verdicts are its data quality
SENT_BY_DISTRIBUTORS: Final = (SaleReported, InventoryCounted, LineRejected)
Basis = Literal["sell_in", "sell_through"]


def sent_day(event: Envelope) -> date:
    """The day a line was sent: when the system recorded it (a file's: its business date)."""
    return utc(event.recorded_at or event.business_time).date()


def judged(
    event: Envelope, distributor_id: str, verdict: Verdict, severity: str | None
) -> list[ScorecardInput]:
    """The verdict on a line the distributor sent: a sale, a count, or one the gateway
    rejected (a shipment, targets, ... are the vendor's: none)."""
    if not isinstance(event, SENT_BY_DISTRIBUTORS):
        return []
    return [Judged(distributor_id, sent_day(event), verdict, severity)]


def rejudged(sale: SaleReported, severity: str | None) -> list[ScorecardInput]:
    """A waiting sale judged once its floor's rate is known: its first verdict (accepted,
    no violation: unpriced) taken out of the card and the new one's severity put in, in
    the period it was sent, so the card is the one a sale judged with the rate gives."""
    if severity is None:
        return []  # compliant: the verdict the sale was given stands
    day = sent_day(sale)
    return [
        Judged(sale.distributor_id, day, "accepted", None, -1),
        Judged(sale.distributor_id, day, "accepted", severity),
    ]


def moved(stores: ChannelStores, event: SaleReported | ShipmentRecorded) -> Moved:
    """An accepted line's movement (in sku and base units, as normalized), costed with the
    agreements recorded by the line (so a replay applying a later one first does it alike)."""
    if isinstance(event, SaleReported):
        return _movement(
            stores, event.distributor_id, event.sku, event.sold_at, "sell_through",
            event.quantity, event.unit_price, event.currency, event.recorded_at,
        )  # fmt: skip
    return _movement(
        stores, event.distributor_id, event.sku, event.shipped_at, "sell_in",
        event.quantity, event.unit_price, event.currency, event.recorded_at,
    )  # fmt: skip


def reversed_move(
    stores: ChannelStores, distributor_id: str, sku: str, move: Move, original: Move
) -> Moved:
    """A replacement's reversal of a line (`move`: the reversal, quantities negative),
    costed as the `original` line was: with what was recorded by it."""
    basis: Basis = "sell_in" if move.sell_in else "sell_through"
    units = move.sell_in or move.sell_through
    at = datetime.fromisoformat(move.at)
    price = Decimal(move.unit_price)
    known_at = datetime.fromisoformat(original.recorded)
    return _movement(stores, distributor_id, sku, at, basis, units, price, move.currency, known_at)


def _movement(
    stores: ChannelStores,
    distributor_id: str,
    sku: str,
    at: datetime,
    basis: Basis,
    units: int,
    unit_price: Decimal,
    currency: str,
    known_at: datetime | None,
) -> Moved:
    """The movement in its own currency, and a sale's cost in the distributor cost's own
    currency (in effect under the agreement as recorded by `known_at`): the card converts
    what is in another currency when it is read, at the day's rate then."""
    day = utc(at).date()
    revenue = round_money(unit_price * units, currency)
    cost = cost_currency = None
    if basis == "sell_through":
        each, cost_currency = unit_cost(stores, sku, distributor_id, at, known_at)
        if each is not None and cost_currency is not None:
            cost = round_money(each * units, cost_currency)
    return Moved(distributor_id, day, basis, units, revenue, currency, cost, 1, cost_currency)


def record_cards(
    stores: ChannelStores, facts: Sequence[ScorecardInput], position: Position | None
) -> bool:
    """Apply one input's scorecard facts to the cards, under its position; whether any card
    changed (none: the input was applied to them already, a redelivery)."""
    if not facts:
        return False
    changed = apply_inputs(stores.scorecards, facts, position, SCORECARD_CURRENCY)
    for key, card in changed.items():
        stores.scorecards.put(key, card)
    return bool(changed)
