"""A stock rotation request's cost as the history grows, beside a shipment line's.

`projections.rotation_inputs.apply_request` reads what one request needs (its distributor's
timeline, its skus' aging, inventory and prices, the period's sell-in buckets and ledger,
the distributor's open returns) and writes its record, ledger and open returns. This
applies requests through `apply_message` (in-memory stores, a position each) to one
distributor that already has N decided requests, either all returned (closed: only their
records remain) or all still awaiting their return (open: an `ExpectedReturn` each, read
by key by its return shipment; a request reads the distributor's reservations per sku), and
prints CPU µs a request; a shipment line of the same distributor (the path every return
shipment takes) is the baseline of the same run.

    .venv/bin/python -m bench.rotation_cost --rounds 3
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import orjson

from bench.common import cpu_best_of
from projections.channel import apply_event, apply_message
from projections.positions import message_position
from projections.stores import ChannelStores
from schemas.agreements import RotationLine, StockRotationRequested
from schemas.codec import event_to_dict
from schemas.envelope import Envelope
from schemas.events import PriceChanged, ProductDefined, ShipmentRecorded
from tests.unit.agreement_events import signed

DAY = datetime(2026, 5, 20, 12, tzinfo=UTC)
SKU = "X"


def raw(event: Envelope) -> bytes:
    return orjson.dumps(event_to_dict(event))


def shipment(n: int, units: int, shipment_id: str | None = None) -> bytes:
    return raw(ShipmentRecorded(
        event_id=uuid.UUID(int=10**6 + n, version=4), occurred_at=DAY, source="erp",
        shipment_id=shipment_id or f"S-{n}", distributor_id="D01", sku=SKU, quantity=units,
        unit_price=Decimal("1.00"), currency="USD", shipped_at=DAY,
    ))  # fmt: skip


def request(n: int) -> bytes:
    return raw(StockRotationRequested(
        event_id=uuid.UUID(int=2 * 10**6 + n, version=4), occurred_at=DAY, recorded_at=DAY,
        source="api", request_id=f"R{n}", distributor_id="D01", requested_at=DAY,
        returns=[RotationLine(sku=SKU, quantity=1)],
    ))  # fmt: skip


def channel(earlier: int, returned: bool) -> tuple[ChannelStores, int]:
    """D01 with a generous allowance, 10^6 units of X, and `earlier` accepted requests."""
    stores, offset = ChannelStores(), 0
    at = datetime(2026, 1, 1, tzinfo=UTC)
    apply_event(stores, ProductDefined(event_id=uuid.uuid4(), occurred_at=at, source="erp",
                                       sku=SKU, base_unit="EA"), None)  # fmt: skip
    apply_event(stores, PriceChanged(
        event_id=uuid.uuid4(), occurred_at=at, source="erp", sku=SKU,
        distributor_cost=Decimal("1.00"), floor_price=Decimal("2.00"), currency="USD",
        effective_from=at,
    ), None)  # fmt: skip
    terms = {"rotation_allowance": "1"}
    apply_event(stores, signed(distributor_id="D01", inventory=terms), None)
    for message in (shipment(0, 10**6), *(request(n) for n in range(earlier))):
        apply_message(stores, message, "D01", message_position("in:0", offset))
        offset += 1
    if returned:
        for key in [key for key, _ in stores.rotation_returns.scan("D01|")]:
            shipment_id = key.split("|", 1)[1]
            apply_message(stores, shipment(offset, -1, shipment_id), "D01",
                          message_position("in:0", offset))  # fmt: skip
            offset += 1
    return stores, offset


def per_message(stores: ChannelStores, offset: int, messages: list[bytes]) -> Callable[[], None]:
    def run() -> None:
        for n, message in enumerate(messages):
            apply_message(stores, message, "D01", message_position("in:0", offset + n))

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure (best kept)")
    parser.add_argument("--count", type=int, default=200, help="messages timed per figure")
    args = parser.parse_args(argv)
    count = args.count
    print(f"CPU µs a message, best of {args.rounds}, {count} messages each")
    print(f"{'earlier requests':>16} {'state':>9} {'shipment':>9} {'request':>9} {'ratio':>7}")
    for earlier in (0, 100, 1000, 5000):
        for returned in (True, False):

            def shipments(e: int = earlier, r: bool = returned) -> Callable[[], None]:
                stores, offset = channel(e, r)
                return per_message(stores, offset, [shipment(10**5 + n, 1) for n in range(count)])

            def requests(e: int = earlier, r: bool = returned) -> Callable[[], None]:
                stores, offset = channel(e, r)
                return per_message(stores, offset, [request(10**5 + n) for n in range(count)])

            base = cpu_best_of(args.rounds, shipments) / count
            asked = cpu_best_of(args.rounds, requests) / count
            state = "returned" if returned else "open"
            print(f"{earlier:>16,} {state:>9} {base * 1e6:>9.1f} {asked * 1e6:>9.1f} "
                  f"{asked / base:>7.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
