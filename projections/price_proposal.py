"""A proposed price list for `channelflow simulate --prices`: its entries, read and checked,
and which published prices it leaves standing (pure; the replay that applies it is
streams/runners/proposed_prices.py).

A proposal is a list of prices shaped like `PriceChanged` events without their envelope
(sku, distributor_cost, floor_price, currency, effective_from, and optionally distributor_id,
reseller_id). Beside the published prices, a proposed one replaces the published price of the
same SKU, scope (list, distributor or reseller) and effective time; with `instead`, it
replaces every published price of its SKU. A proposed price counts as announced and recorded
at the earliest time a replay accepts: it is never "arrived late", and it moves no clock
(a proposal for next year must not make the replay's "now" next year).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import orjson
from pydantic import ValidationError

from domain.timeutil import utc
from schemas.codec import error_message
from schemas.events import PriceChanged

#: the namespace of a proposed price's event id (derived from the entry's content)
PROPOSAL_NAMESPACE: Final = uuid.UUID("6f1d3c52-3b0e-4e55-9d55-2a4f6b9c1e07")
#: fields the proposal sets itself: an entry that gives one is refused
SET_HERE: Final = ("event_id", "occurred_at", "recorded_at", "published_at", "source")

Scope = tuple[str, str | None, str | None]


class InvalidProposal(ValueError):
    """A proposal that cannot be used: the message names the entry and the field."""


@dataclass(frozen=True, slots=True)
class PriceProposal:
    """The proposed prices, and whether they replace their SKUs' published prices whole."""

    prices: tuple[PriceChanged, ...]
    instead: bool = False

    def keeps(self, published: PriceChanged) -> bool:
        """Whether a published price stays in the book beside the proposal."""
        if self.instead:
            return published.sku not in {price.sku for price in self.prices}
        return _point(published) not in {_point(price) for price in self.prices}


def _point(price: PriceChanged) -> tuple[Scope, str]:
    """Where a price sits in the book: its SKU and scope, and when it takes effect."""
    scope = (price.sku, price.distributor_id, price.reseller_id)
    return scope, utc(price.effective_from).isoformat()


def proposal_of(raw: bytes, announced: datetime, instead: bool = False) -> PriceProposal:
    """The proposal in a file's bytes: a JSON list of prices, or an object whose `prices`
    is one, each counted as announced and recorded at `announced`. Raises InvalidProposal
    naming the first bad entry (from 1) and its fields."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidProposal(f"not JSON: {exc}") from None
    if isinstance(data, dict) and set(data) == {"prices"}:
        data = data["prices"]
    if not isinstance(data, list) or not data:
        raise InvalidProposal('expected a non-empty JSON list of prices (or {"prices": [...]})')
    prices = tuple(_price(n, entry, announced) for n, entry in enumerate(data, start=1))
    points: dict[tuple[Scope, str], int] = {}
    for number, price in enumerate(prices, start=1):
        first = points.setdefault(_point(price), number)
        if first != number:
            raise InvalidProposal(
                f"entry {number} (sku {price.sku}): the same SKU, scope and effective_from "
                f"as entry {first}"
            )
    return PriceProposal(prices, instead)


def _price(number: int, entry: object, announced: datetime) -> PriceChanged:
    """One entry as a `PriceChanged`, its envelope filled in deterministically."""
    if not isinstance(entry, dict):
        raise InvalidProposal(f"entry {number}: a price must be a JSON object")
    sku = entry.get("sku")
    where = f"entry {number}" + (f" (sku {sku})" if isinstance(sku, str) else "")
    if (given := entry.get("event_type", "PriceChanged")) != "PriceChanged":
        raise InvalidProposal(f"{where}: event_type: a proposal holds prices, not {given!r}")
    if set_here := [name for name in SET_HERE if name in entry]:
        raise InvalidProposal(f"{where}: {', '.join(set_here)}: set by the simulation, leave out")
    content = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS).decode()
    envelope = {
        "event_type": "PriceChanged",
        "event_id": str(uuid.uuid5(PROPOSAL_NAMESPACE, content)),
        "occurred_at": announced,
        "recorded_at": announced,
        "source": "api",
    }
    try:
        return PriceChanged.model_validate({**entry, **envelope})
    except ValidationError as exc:
        problems = (
            f"{'.'.join(str(p) for p in error['loc']) or '(price)'}: {error_message(error)}"
            for error in exc.errors(include_url=False)
        )
        raise InvalidProposal(f"{where}: {'; '.join(problems)}") from None
