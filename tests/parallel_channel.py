"""Histories for the parallel replay's tests: distributor ids whose orders disagree, and a
JSON Lines file with bundles, dead letters, a close with late lines after it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import orjson

from schemas.codec import encode_event
from schemas.events import Envelope, RebatePeriodClosed, SaleReported
from streams.generator import generate_channel, malformed_lines
from streams.kafka.messages import bundled, message_of

#: ids that sort before "D01" as ids but after it as store keys ("D01|" < "D0|"), and
#: after it as ids but before it as keys ("D01-B|" < "D01|")
LOOKALIKES = ("D0", "D01-B")


def with_lookalike_distributors(events: Sequence[Envelope]) -> list[Envelope]:
    """The events, and a copy of D01's movements for each of `LOOKALIKES`."""
    copies = [
        event.model_copy(
            update={
                "distributor_id": name,
                "event_id": uuid.uuid5(event.event_id, name),
            }
        )
        for name in LOOKALIKES
        for event in events
        if getattr(event, "distributor_id", None) == "D01"
    ]
    return [*events, *copies]


CLOSED_AT = datetime(2026, 10, 8, tzinfo=UTC)
LATE = datetime(2026, 10, 10, 9, tzinfo=UTC)  # before Q3's grace ends (10-15)


def late_sale(
    distributor: str, number: int, quantity: int, recorded: datetime = LATE
) -> SaleReported:
    """A Q3 sale recorded after the close of Q3 (a return when `quantity` < 0)."""
    sold = datetime(2026, 9, 20, 12, tzinfo=UTC)
    return SaleReported(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"late:{distributor}:{number}"),
        occurred_at=sold, recorded_at=recorded, source="api", distributor_id=distributor,
        transaction_id=f"LATE-{number}", reseller_id=f"{distributor}-R001", sku="SKU-0001",
        quantity=quantity, unit_price=Decimal("5000.00"), currency="USD", sold_at=sold,
    )  # fmt: skip


def awkward_history(weeks: int = 13) -> list[bytes]:
    """JSON Lines of a generated channel (with lookalike distributors) that runs into Q4:
    movements in bundles (a run of one topic and key per line), every malformed line of the
    generator (some name a distributor, some cannot be read), an invalid program (a
    reference dead letter), a close of Q3 by hand and late Q3 lines recorded after it. The
    last line, D02's, moves the clock past Q3's grace, so the other program's Q3 closes by
    itself, for D01 too: a job's own clock never gets there (D02 and D01 are in different
    jobs of 2 and of 3)."""
    events = with_lookalike_distributors(generate_channel(seed=5, weeks=weeks, distributors=4))
    lines = [message.value for message in bundled(map(message_of, events))]
    for n, (raw, _) in enumerate(malformed_lines()):
        lines.insert(40 + 97 * n, raw)
    program = next(orjson.loads(line) for line in lines if b'"VPA-2026-ST"' in line)
    program.update(program_id="BROKEN", tiers=[{"threshold": "10", "rate": "0.5"}] * 2)
    lines.insert(3, orjson.dumps(program))
    close = RebatePeriodClosed(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, "close:VPA-2026-ST"),
        occurred_at=CLOSED_AT, recorded_at=CLOSED_AT, source="erp", program_id="VPA-2026-ST",
        period="2026-Q3", closed_at=CLOSED_AT, closed_by="finance-carol",
    )  # fmt: skip
    lines.append(encode_event(close))
    late = [late_sale(d, n, q) for n, (d, q) in enumerate([("D01", 90), ("D02", -40), ("D0", 75)])]
    last = late_sale("D02", 9, 5, recorded=datetime(2026, 11, 12, 8, tzinfo=UTC))
    lines += [encode_event(sale) for sale in [*late, last]]
    return lines
