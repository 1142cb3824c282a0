"""Stock rotation: a distributor's request to return slow stock, decided pure.

A request returns units of some skus and may order others in exchange. `decide_rotation`
takes everything the decision reads, already looked up (the agreement version in effect
on the request's day, the held lots per sku, each sku's unit value in the agreement's
currency and the price event that set it, the rotation period's purchases and the
allowance already used), and collects every problem, so a rejection names all of them:

- `no_agreement`: no agreement governs the request's day (nothing else is judged);
- per returned sku: `unknown_sku`; `more_than_held` (more units than held); `too_young` /
  `too_old` (the units returned are the oldest held, FIFO, and one of them is younger
  than `rotation_min_age_days` or older than `rotation_max_age_days`); `no_cost` (no
  distributor cost in effect); `unconverted` (the cost is in a currency with no rate);
- per ordered sku: `unknown_sku`, `no_cost`, `unconverted`;
- `purchases_unconverted`: the period's purchases hold lines with no rate, so the
  allowance is unknown (never guessed);
- `over_allowance`: the value returned, with what earlier rotations of the period used,
  exceeds the allowance = `rotation_allowance` × the period's purchases (by value);
- `exchange_short`: the agreement asks for an exchange and the order is worth less than
  the return.

Units are valued at the distributor cost in effect on the request's day, converted at
that day's rate; values are rounded half-up to the minor unit of the agreement's
currency (`domain.currency.round_money`). An accepted request expects a
return shipment (negative quantities, under a shipment id derived from the request) and,
with orders, the exchange shipment.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final, Literal
from uuid import UUID

from domain.aging import Lot, age_days, is_older_than, oldest_units
from domain.agreements import AgreementVersion
from domain.calendar_periods import period_key
from domain.currency import Converted, MixedTotal, Unconverted, round_money
from domain.identity import derived_id
from schemas.agreements import InventoryObligations, RotationLine, StockRotationRequested

RotationStatus = Literal["accepted", "rejected"]
#: the start of every expected return shipment's id (`_shipment`)
RETURN_SHIPMENT_PREFIX: Final = "ROT-RET-"
EXCHANGE_SHIPMENT_PREFIX: Final = "ROT-EXC-"
#: every reason, in the order they are checked
REASONS: Final = (
    "no_agreement",
    "unknown_sku",
    "more_than_held",
    "too_young",
    "too_old",
    "no_cost",
    "unconverted",
    "purchases_unconverted",
    "over_allowance",
    "exchange_short",
)


@dataclass(frozen=True, slots=True)
class RotationProblem:
    """One reason a request fails; `side` and `sku` name the line (None: the request)."""

    reason: str
    detail: str
    side: Literal["returns", "orders"] | None = None
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class ExpectedShipment:
    """A shipment the rotation expects: returned units negative, exchanged ones positive."""

    shipment_id: str
    distributor_id: str
    lines: tuple[tuple[str, int], ...]
    value: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class RotationInputs:
    """Everything one request's decision reads, looked up by the caller."""

    request: StockRotationRequested
    version: AgreementVersion | None
    known_skus: Collection[str]
    #: held lots per sku on the request's day, oldest first (less units reserved by
    #: accepted rotations not shipped back yet)
    held: Mapping[str, Sequence[Lot]]
    #: per sku, one unit's distributor cost in the agreement's currency (absent: no cost)
    unit_values: Mapping[str, Converted | Unconverted]
    #: the rotation period's purchases, in the agreement's currency
    purchases: MixedTotal
    #: the value of the rotations accepted earlier in the same rotation period
    used: Decimal
    #: per sku, the price event that set its cost (lineage)
    cost_event_ids: Mapping[str, UUID] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RotationDecision:
    """The answer to a request, its figures and what it was decided against."""

    distributor_id: str
    request_id: str
    status: RotationStatus
    problems: tuple[RotationProblem, ...]
    period: str | None
    currency: str | None
    return_value: Decimal
    order_value: Decimal
    allowance: Decimal | None
    used_before: Decimal
    agreement_event_id: UUID | None
    rate_event_ids: tuple[UUID, ...]
    #: the price events whose distributor cost valued the lines
    price_event_ids: tuple[UUID, ...] = ()
    expected_return: ExpectedShipment | None = None
    expected_exchange: ExpectedShipment | None = None

    @property
    def reasons(self) -> tuple[str, ...]:
        """The distinct reasons, in check order."""
        found = {problem.reason for problem in self.problems}
        return tuple(reason for reason in REASONS if reason in found)


def rotation_key(distributor_id: str, request_id: str) -> str:
    """The idempotency key of a request: a resend under it is a duplicate."""
    return f"rotation|{distributor_id}|{request_id}"


def is_return_shipment(shipment_id: str) -> bool:
    """Whether a shipment id is one an accepted rotation expects its returned units under."""
    return shipment_id.startswith(RETURN_SHIPMENT_PREFIX)


def is_exchange_shipment(shipment_id: str) -> bool:
    """Whether a shipment id is one an accepted rotation expects its ordered units under."""
    return shipment_id.startswith(EXCHANGE_SHIPMENT_PREFIX)


def rotation_period(obligations: InventoryObligations, day: date) -> str:
    """The key of the rotation period (quarter or year) holding `day`."""
    return period_key(day, obligations.rotation_period)


def decide_rotation(inputs: RotationInputs) -> RotationDecision:
    """The decision on one request (the module docstring gives the checks)."""
    request, version = inputs.request, inputs.version
    if version is None:
        problem = RotationProblem("no_agreement", "no agreement governs the request's day")
        return _decision(inputs, "rejected", (problem,), None, Decimal(0), Decimal(0), None)
    if inputs.purchases.currency != version.currency:
        raise ValueError(
            f"purchases in {inputs.purchases.currency}, the agreement is in {version.currency}"
        )
    obligations = version.terms.inventory
    day = request.requested_at.date()
    problems = [p for line in request.returns for p in _return_problems(inputs, line, day)]
    problems += [p for line in request.orders for p in _order_problems(inputs, line)]
    return_value = _value(inputs, request.returns, version.currency)
    order_value = _value(inputs, request.orders, version.currency)
    allowance = None
    if not inputs.purchases.complete:
        problems.append(
            RotationProblem(
                "purchases_unconverted", "the period's purchases hold lines with no rate"
            )
        )
    else:
        allowance = round_money(
            obligations.rotation_allowance * inputs.purchases.converted, version.currency
        )
        if inputs.used + return_value > allowance:
            problems.append(_over_allowance(inputs.used, return_value, allowance))
    if obligations.rotation_requires_exchange and order_value < return_value:
        detail = f"the order is worth {order_value}, the return {return_value}"
        problems.append(RotationProblem("exchange_short", detail))
    status: RotationStatus = "rejected" if problems else "accepted"
    return _decision(inputs, status, tuple(problems), allowance, return_value, order_value, version)


def _return_problems(
    inputs: RotationInputs, line: RotationLine, day: date
) -> list[RotationProblem]:
    if line.sku not in inputs.known_skus:
        return [RotationProblem("unknown_sku", f"unknown sku {line.sku!r}", "returns", line.sku)]
    assert inputs.version is not None
    problems = []
    lots = inputs.held.get(line.sku, ())
    held = sum(lot.quantity for lot in lots)
    if line.quantity > held:
        detail = f"returns {line.quantity}, holds {held}"
        problems.append(RotationProblem("more_than_held", detail, "returns", line.sku))
    problems += _age_problems(
        inputs.version.terms.inventory, oldest_units(lots, line.quantity), day, line.sku
    )
    return problems + _value_problems(inputs, line, "returns")


def _age_problems(
    obligations: InventoryObligations, returned: Sequence[Lot], day: date, sku: str
) -> list[RotationProblem]:
    problems = []
    youngest = obligations.rotation_min_age_days
    if youngest is not None:
        ages = [age_days(lot, day) for lot in returned]
        if any(age is not None and age < youngest for age in ages):
            detail = f"returns units younger than {youngest} days"
            problems.append(RotationProblem("too_young", detail, "returns", sku))
    oldest = obligations.rotation_max_age_days
    if oldest is not None and any(is_older_than(lot, oldest, day) for lot in returned):
        detail = f"returns units older than {oldest} days"
        problems.append(RotationProblem("too_old", detail, "returns", sku))
    return problems


def _order_problems(inputs: RotationInputs, line: RotationLine) -> list[RotationProblem]:
    if line.sku not in inputs.known_skus:
        return [RotationProblem("unknown_sku", f"unknown sku {line.sku!r}", "orders", line.sku)]
    return _value_problems(inputs, line, "orders")


def _value_problems(
    inputs: RotationInputs, line: RotationLine, side: Literal["returns", "orders"]
) -> list[RotationProblem]:
    value = inputs.unit_values.get(line.sku)
    if value is None:
        return [RotationProblem("no_cost", "no distributor cost in effect", side, line.sku)]
    if isinstance(value, Unconverted):
        detail = f"no {value.currency} → {value.target} rate on {value.on}"
        return [RotationProblem("unconverted", detail, side, line.sku)]
    return []


def _value(inputs: RotationInputs, lines: Sequence[RotationLine], currency: str) -> Decimal:
    """The lines' units at their unit values in `currency` (lines without a converted
    value count 0)."""
    total = Decimal(0)
    for line in lines:
        value = inputs.unit_values.get(line.sku)
        if isinstance(value, Converted):
            total += value.amount * line.quantity
    return round_money(total, currency)


def _over_allowance(used: Decimal, value: Decimal, allowance: Decimal) -> RotationProblem:
    detail = f"returns {value} with {used} used of an allowance of {allowance}"
    return RotationProblem("over_allowance", detail)


def _decision(
    inputs: RotationInputs,
    status: RotationStatus,
    problems: tuple[RotationProblem, ...],
    allowance: Decimal | None,
    return_value: Decimal,
    order_value: Decimal,
    version: AgreementVersion | None,
) -> RotationDecision:
    request = inputs.request
    rates = {
        value.rate.event_id
        for value in inputs.unit_values.values()
        if isinstance(value, Converted) and value.rate is not None
    }
    expected_return = expected_exchange = None
    if status == "accepted" and version is not None:
        expected_return = _shipment(request, "return", return_value, version.currency)
        if request.orders:
            expected_exchange = _shipment(request, "exchange", order_value, version.currency)
    day = request.requested_at.date()
    return RotationDecision(
        distributor_id=request.distributor_id,
        request_id=request.request_id,
        status=status,
        problems=problems,
        period=None if version is None else rotation_period(version.terms.inventory, day),
        currency=None if version is None else version.currency,
        return_value=return_value,
        order_value=order_value,
        allowance=allowance,
        used_before=inputs.used,
        agreement_event_id=None if version is None else version.event_id,
        rate_event_ids=tuple(sorted(rates | set(inputs.purchases.rate_event_ids))),
        price_event_ids=tuple(sorted(set(inputs.cost_event_ids.values()))),
        expected_return=expected_return,
        expected_exchange=expected_exchange,
    )


def _shipment(
    request: StockRotationRequested,
    kind: Literal["return", "exchange"],
    value: Decimal,
    currency: str,
) -> ExpectedShipment:
    sign = -1 if kind == "return" else 1
    lines = request.returns if kind == "return" else request.orders
    shipment = derived_id(f"rotation-{kind}", request.distributor_id, request.request_id)
    return ExpectedShipment(
        shipment_id=f"ROT-{kind[:3].upper()}-{shipment.hex[:20]}",
        distributor_id=request.distributor_id,
        lines=tuple(sorted((line.sku, sign * line.quantity) for line in lines)),
        value=value,
        currency=currency,
    )
