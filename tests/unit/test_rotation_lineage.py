"""`audit history|lineage rotation DISTRIBUTOR/REQUEST`: a rotation's events and the source
events that decided it (the request, the agreement version, the price, the stock read)
and the return shipment received, in the embedded runner."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.agreements import RotationLine
from streams.audit.lineage import lineage
from streams.audit.trail import history
from streams.runners.embedded import EmbeddedChannel
from tests.unit.catalog import product
from tests.unit.price_events import price
from tests.unit.rotation_cases import request, returned, stocked
from tests.unit.test_rotation_cancel import cancel
from tests.unit.test_rotation_exchange import sent as sent_exchange


def test_a_returned_rotation_names_every_source() -> None:
    channel = EmbeddedChannel()
    listed = price(1, "12.50", "20.00", datetime(2026, 1, 1, tzinfo=UTC), sku="X")
    agreement, *receipts = stocked()
    channel.feed_events([product("X"), listed, agreement, *receipts])
    asked = request("R1", {"X": 40})
    channel.feed_events([asked])
    shipment_id = channel.snapshot()["rotations"][0]["return_shipment_id"]
    back = returned(50, shipment_id, 40)
    channel.feed_events([back])

    events = history(channel.audit, "rotation", "D01/R1")["events"]
    assert [e["what"] for e in events] == ["Requested", "Decided", "ReturnReceived"]
    document = lineage(channel.audit, channel.stores, "rotation", "D01/R1")
    roles = [(s["role"], s["event_id"]) for s in document["sources"]]
    assert roles == [
        ("request", str(asked.event_id)),
        ("agreement", str(agreement.event_id)),
        ("price", str(listed.event_id)),
        *(("stock", str(r.event_id)) for r in receipts),
        ("return", str(back.event_id)),
    ]
    assert document["complete"]


def test_an_exchange_and_a_cancellation_are_in_the_history_and_the_lineage() -> None:
    channel = EmbeddedChannel()
    listed = price(1, "12.50", "20.00", datetime(2026, 1, 1, tzinfo=UTC), sku="X")
    other = price(2, "25.00", "30.00", datetime(2026, 1, 1, tzinfo=UTC), sku="Y")
    agreement, *receipts = stocked()
    channel.feed_events([product("X"), product("Y"), listed, other, agreement, *receipts])
    orders = [RotationLine(sku="Y", quantity=30)]
    channel.feed_events([request("R1", {"X": 40}, orders=orders), request("R2", {"X": 10}, n=2)])
    rows = {row["request_id"]: row for row in channel.snapshot()["rotations"]}
    sent = sent_exchange(60, rows["R1"]["exchange_shipment_id"], 30)
    withdrawn = cancel("R2")
    channel.feed_events([sent, withdrawn])

    exchanged = history(channel.audit, "rotation", "D01/R1")["events"]
    assert [e["what"] for e in exchanged] == ["Requested", "Decided", "ExchangeShipped"]
    roles = [s["role"] for s in lineage(channel.audit, channel.stores, "rotation", "D01/R1")
             ["sources"]]  # fmt: skip
    assert roles[-1] == "exchange"
    cancelled = history(channel.audit, "rotation", "D01/R2")["events"]
    assert [e["what"] for e in cancelled] == ["Requested", "Decided", "Cancelled"]
    sources = lineage(channel.audit, channel.stores, "rotation", "D01/R2")["sources"]
    assert (sources[-1]["role"], sources[-1]["event_id"]) == ("cancel", str(withdrawn.event_id))
