"""Personal fields at the doors: a CSV's name columns, an 867's end-customer N1 and a JSON
event's fields are sealed before anything is published; nothing the gateway publishes,
a dead letter included, holds the clear text; without a key store they are dropped."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from domain.personal_data import PERSONAL_FIELDS, parse_sealed, shown
from infra.personal_cipher import clear_texts
from streams.ingest.formats import Stored, read, read_events
from streams.ingest.gateway import Gateway, offline_view
from streams.ingest.personal import DoorProtection
from streams.ingest.spool import Spool
from streams.kafka.messages import Message
from tests.unit.api.ingest_api import catalog
from tests.unit.api.test_ingest_gateway import report, upload
from tests.unit.parsers.edi_builder import interchange
from tests.unit.test_personal_data import MemoryKeys

HEADER = "distributor_id,transaction_id,reseller_id,sku,quantity,unit_price,currency,sold_at"
CSV = (
    f"{HEADER},end_customer,end_customer_name,end_customer_contact\n"
    "DIST-001,T-1,RES-1,WIDGET-100,2,12.50,USD,2026-04-07,EC-7,Jane Doe,jane@example.com\n"
    "DIST-001,T-2,RES-1,WIDGET-100,x,12.50,USD,2026-04-07,EC-7,Jane Doe,jane@example.com\n"
    "DIST-001,T-3,RES-1,WIDGET-100,1,12.50,USD,2036-04-07,,Jane Doe,\n"  # a future date
)


def published(
    path: Path, fmt: str, keys: MemoryKeys | None, events: list[Any] | None = None
) -> list[Message]:
    sent: list[Message] = []

    async def sink(messages: Sequence[Message]) -> None:
        sent.extend(messages)

    with Spool() as spool:
        gateway = Gateway(
            upload(fmt, path.name), offline_view(catalog()), spool, protection=DoorProtection(keys)
        )
        if events is None:
            items = read(gateway.upload, Stored(path))
        else:
            items = read_events(gateway.upload, events)
        asyncio.run(gateway.check(items))
        asyncio.run(gateway.publish(sink))
    return sent


def everything(sent: list[Message]) -> bytes:
    """Every byte published, dead letters' originals decoded."""
    out = b""
    for message in sent:
        out += message.value
        data = orjson.loads(message.value)
        out += base64.b64decode(data.get("original_b64", ""))
    return out


def personal(sent: list[Message]) -> list[tuple[str, str]]:
    found = []
    for message in sent:
        data = orjson.loads(message.value)
        found += [(name, data[name]) for name in PERSONAL_FIELDS if data.get(name)]
    return found


def test_a_csv_is_sealed_and_no_clear_name_is_published(tmp_path: Path) -> None:
    path = tmp_path / "week.csv"
    path.write_text(CSV)
    keys = MemoryKeys()
    sent = published(path, "csv", keys)
    assert [m.event_type for m in sent] == [
        "ReportSubmitted", "SaleReported", "LineRejected", "LineRejected"
    ]  # fmt: skip
    assert b"Jane" not in everything(sent) and b"jane@" not in everything(sent)
    values = personal(sent)
    assert all(parse_sealed(value) is not None for _, value in values)
    clear = clear_texts(keys, values)
    assert {shown(value, clear) for _, value in values} == {"Jane Doe", "jane@example.com"}
    # the line that could not be read keeps its other cells; the one the precheck
    # refused travels as its sealed event
    unread = base64.b64decode(orjson.loads(sent[2].value)["original_b64"])
    assert unread == b"DIST-001,T-2,RES-1,WIDGET-100,x,12.50,USD,2026-04-07,EC-7,,\n"
    refused = orjson.loads(base64.b64decode(orjson.loads(sent[3].value)["original_b64"]))
    assert parse_sealed(refused["end_customer_name"]) is not None


def test_without_a_key_store_personal_fields_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "week.csv"
    path.write_text(CSV)
    sent = published(path, "csv", None)
    assert b"Jane" not in everything(sent) and b"jane@" not in everything(sent)
    assert personal(sent) == []
    assert orjson.loads(sent[1].value)["end_customer"] == "EC-7"  # the id stays


def test_an_867_end_customer_name_beside_its_id_is_sealed(tmp_path: Path) -> None:
    body = report("R-1")
    body.insert(body.index("LIN*1*VP*WIDGET-100") + 1, "N1*EN*Jane Doe*91*EC-7")
    body[body.index("QTY*39*1*EA")] = "QTY*39*x*EA"  # the second line cannot be read
    body.insert(body.index("LIN*2*VP*GADGET-200") + 1, "N1*EN*Jane Doe*91*EC-7")
    path = tmp_path / "r1.edi"
    path.write_bytes(interchange(body))
    keys = MemoryKeys()
    sent = published(path, "867", keys)
    assert [m.event_type for m in sent] == ["ReportSubmitted", "SaleReported", "LineRejected"]
    assert b"Jane" not in everything(sent)
    sale = orjson.loads(sent[1].value)
    assert sale["end_customer"] == "EC-7"
    values = personal(sent)
    assert [shown(v, clear_texts(keys, values)) for _, v in values] == ["Jane Doe"]


def test_a_json_event_is_sealed(tmp_path: Path) -> None:
    event = {
        "event_type": "SaleReported", "event_id": "00000000-0000-4000-8000-000000000001",
        "occurred_at": "2026-04-07T00:00:00Z", "source": "api", "distributor_id": "DIST-001",
        "transaction_id": "T-9", "reseller_id": "RES-1", "sku": "WIDGET-100", "quantity": 1,
        "unit_price": "12.50", "currency": "USD", "sold_at": "2026-04-07T00:00:00Z",
        "end_customer_name": "Jane Doe",
    }  # fmt: skip
    keys = MemoryKeys()
    sent = published(tmp_path / "events", "events", keys, [event])
    assert b"Jane" not in everything(sent)
    assert [shown(v, clear_texts(keys, personal(sent))) for _, v in personal(sent)] == ["Jane Doe"]


def test_no_message_quotes_a_refused_name(tmp_path: Path) -> None:
    path = tmp_path / "week.csv"
    long_name = "Jane " + "x" * 3000
    path.write_text(
        f"{HEADER},end_customer_name\n"
        "DIST-001,T-1,RES-1,WIDGET-100,2,12.50,USD,2026-04-07,Jane\u200bDoe\n"
        f"DIST-001,T-2,RES-1,WIDGET-100,2,12.50,USD,2026-04-07,{long_name}\n"
    )
    sent = published(path, "csv", MemoryKeys())
    rejected = [orjson.loads(m.value) for m in sent if m.event_type == "LineRejected"]
    assert [r["reason"] for r in rejected] == ["invalid_field", "invalid_field"]
    assert "U+200B" in rejected[0]["detail"]
    assert b"Jane" not in everything(sent)


def test_a_json_event_refused_unread_leaves_no_name_to_the_dead_letters(tmp_path: Path) -> None:
    event = {
        "event_type": "SaleReported", "event_id": "00000000-0000-4000-8000-000000000002",
        "occurred_at": "2026-04-07T00:00:00Z", "source": "api", "distributor_id": "DIST-001",
        "transaction_id": "T-9", "reseller_id": "RES-1", "sku": "WIDGET-100", "quantity": "x",
        "unit_price": "12.50", "currency": "USD", "sold_at": "2026-04-07T00:00:00Z",
        "end_customer": "EC-7", "end_customer_name": "Jane Doe",
    }  # fmt: skip
    sent = published(tmp_path / "events", "events", MemoryKeys(), [event])
    assert [m.event_type for m in sent] == ["LineRejected"]
    assert b"Jane" not in everything(sent)
    original = orjson.loads(base64.b64decode(orjson.loads(sent[0].value)["original_b64"]))
    assert (original["end_customer"], original["end_customer_name"]) == ("EC-7", None)
