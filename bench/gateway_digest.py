"""What the ingest gateway publishes and answers for fixed files, as digests: the check
that a change meant to make the gateway cheaper changed no byte it sends.

Fixed files (the same on every tree: seeded lines, fixed receipt time and upload digest):
a CSV report of sale lines of every kind the check answers (valid lines, a line sent
again, a key sent again with other content, every CSV line error, an unknown SKU, UPCs
and part numbers, units, a future date, end customers and personal columns, CR LF
endings, quoted cells), checked on one process and on two (the parallel check, its
parts small); an X12 867 of the same sales; and a JSON batch of valid and invalid events;
the CSV again with a period that cannot be (the report rejected as a whole).
Each goes through `Gateway.check` (or `check_upload`) and `Gateway.publish`, the
messages bundled as the Kafka publisher sends them. Printed, as JSON: per upload, the
count and the sha256 of every Kafka message (topic, key, value) in order, of every line's
answer, and the answer document. Run it on two trees and compare:

    .venv/bin/python -m bench.gateway_digest --out /tmp/before.json
    .venv/bin/python -m bench.gateway_digest --expect /tmp/before.json   # exit 1 if not
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from bench.ingest_throughput import write_867
from domain.roles import Role
from streams.auth import Principal
from streams.generator import generate_sales, sales_catalog
from streams.ingest import parallel_check
from streams.ingest.formats import read
from streams.ingest.formats.upload import SOURCES, Format, Stored, Upload
from streams.ingest.gateway import Gateway, offline_view
from streams.ingest.spool import Spool
from streams.kafka.io import send_messages
from streams.kafka.messages import Message

RECEIVED_AT = datetime(2026, 10, 1, 9, tzinfo=UTC)
HEADER = (
    "distributor_id,transaction_id,reseller_id,sku,upc,vendor_part,quantity,unit,unit_price,"
    "currency,sold_at,end_customer,end_customer_name,end_customer_contact,report_id"
)


#: the line kinds other than a plain valid one, by the line's number modulo 41: the
#: column changed and its new value, from the line's cells and its sale time
_KINDS: Final[dict[int, tuple[int, Callable[[list[str], str], str]]]] = {
    3: (6, lambda cells, sold: '"1,000"'),
    4: (3, lambda cells, sold: "NOPE-1"),
    5: (10, lambda cells, sold: "2062-01-01T00:00:00Z"),
    6: (8, lambda cells, sold: "12.5000001"),
    7: (9, lambda cells, sold: "usd"),
    8: (10, lambda cells, sold: sold[:10]),  # a date without a time
    9: (10, lambda cells, sold: sold[:19]),  # no time zone
    10: (2, lambda cells, sold: ""),
    11: (12, lambda cells, sold: "Jane Roe"),  # personal: dropped (no key store)
    12: (1, lambda cells, sold: cells[1] + "|x"),
    13: (2, lambda cells, sold: '"RES"-1'),  # not CSV
    14: (14, lambda cells, sold: "R-DIGEST,"),  # a column too many
    15: (3, lambda cells, sold: f'"{cells[3]}"'),
    16: (14, lambda cells, sold: "R-OTHER"),
    17: (7, lambda cells, sold: "CA"),
    18: (10, lambda cells, sold: sold.replace("Z", "+02:00")),
    19: (6, lambda cells, sold: "-3"),
    20: (8, lambda cells, sold: "0"),
    21: (6, lambda cells, sold: "10.0"),
    22: (0, lambda cells, sold: ""),
    23: (1, lambda cells, sold: " " + cells[1]),  # stripped
    24: (10, lambda cells, sold: "1999-12-31T00:00:00Z"),
    25: (11, lambda cells, sold: '"EC, quoted"'),
    26: (14, lambda cells, sold: "R-DIGEST\r"),  # CR LF
    27: (13, lambda cells, sold: "jane@example.com"),
    28: (11, lambda cells, sold: f"EC-{cells[1]}"),
}


def csv_rows(count: int) -> list[str]:
    """`count` sale lines of one distributor, every few of them of another kind: the same
    line again (1), an earlier key with other content (2), then `_KINDS`."""
    rows: list[str] = []
    for n, sale in enumerate(generate_sales(count, seed=11, distributors=1)):
        sold = sale.sold_at.isoformat().replace("+00:00", "Z")
        cells = [sale.distributor_id, sale.transaction_id, sale.reseller_id, sale.sku, "", ""]
        cells += [str(sale.quantity), "", str(sale.unit_price), sale.currency, sold, "", "", ""]
        cells.append("R-DIGEST")
        kind = n % 41
        if kind == 1 and n > 300:
            rows.append(rows[n - 300])
            continue
        if kind == 2 and n > 50:
            cells[1] = rows[n - 50].split(",")[1]
        elif kind in _KINDS:
            column, value = _KINDS[kind]
            cells[column] = value(cells, sold)
        rows.append(",".join(cells))
    return rows


def events_batch(count: int) -> bytes:
    """A JSON batch: valid sales, and every few an invalid one."""
    events: list[dict[str, Any]] = []
    for n, sale in enumerate(generate_sales(count, seed=13, distributors=2)):
        event = orjson.loads(sale.model_dump_json(exclude_none=True))
        if n % 7 == 3:
            event["unit_price"] = "1e3"
        elif n % 7 == 5:
            event["sold_at"] = "2062-01-01T00:00:00Z"
        events.append(event)
    return orjson.dumps(events)


def an_upload(fmt: Format, name: str, period: tuple[date, date] | None = None) -> Upload:
    principal = Principal("digest", Role.ADMIN)
    return Upload(fmt, name, principal, RECEIVED_AT, "0" * 64, SOURCES[fmt], period=period)


async def run(
    fmt: Format, path: Path, processes: int, period: tuple[date, date] | None = None
) -> dict[str, Any]:
    """The upload through the gateway: what it publishes and answers, as digests (with a
    `period`: the report's, given with the upload)."""
    upload = an_upload(fmt, path.name, period)
    sent: list[tuple[str, bytes, bytes]] = []

    async def send(topic: str, key: bytes, value: bytes) -> asyncio.Future[None]:
        sent.append((topic, key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def publish(messages: Sequence[Message]) -> None:
        await send_messages(send, "channelflow", messages)

    with Spool() as spool:
        gateway = Gateway(upload, offline_view(sales_catalog()), spool)
        if fmt == "csv":
            await parallel_check.check_upload(gateway, Stored(path), processes)
        else:
            await gateway.check(read(upload, Stored(path)))
        await gateway.publish(publish)
        answers = [line.to_json() for line in gateway.answer_lines(every=True)]
        document = gateway.document()
    messages = hashlib.sha256()
    for topic, key, value in sent:
        messages.update(orjson.dumps([topic, key.decode(), value.decode()]))
    return {
        "messages": len(sent),
        "messages_sha256": messages.hexdigest(),
        "answers": len(answers),
        "answers_sha256": hashlib.sha256(orjson.dumps(answers)).hexdigest(),
        "document": document,
    }


def digests(lines: int) -> dict[str, Any]:
    small = {"PART_BYTES": 64 * 1024, "SMALLEST_PART": 64 * 1024, "PARALLEL_BYTES": 0}
    vars(parallel_check).update(small)  # many parts, many boundaries
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gateway-digest-") as directory:
        csv_path = Path(directory) / "w.csv"
        csv_path.write_bytes(("\n".join([HEADER, *csv_rows(lines)]) + "\n").encode())
        edi_path = Path(directory) / "w.edi"
        write_867(edi_path, lines // 4, 11)
        json_path = Path(directory) / "events.json"
        json_path.write_bytes(events_batch(lines // 10))
        out["csv, 1 process"] = asyncio.run(run("csv", csv_path, 1))
        out["csv, 2 processes"] = asyncio.run(run("csv", csv_path, 2))
        cannot_be = (date(2062, 1, 1), date(2062, 1, 31))  # the report rejected as a whole
        out["csv, rejected as a whole"] = asyncio.run(run("csv", csv_path, 2, cannot_be))
        out["867"] = asyncio.run(run("867", edi_path, 1))
        out["events"] = asyncio.run(run("events", json_path, 1))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--out", type=Path, help="write the digests here")
    parser.add_argument("--expect", type=Path, help="compare with digests written before")
    args = parser.parse_args(argv)
    found = digests(args.lines)
    text = orjson.dumps(found, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    if args.out is not None:
        args.out.write_bytes(text)
    if args.expect is None:
        sys.stdout.write(text.decode() + "\n")
        return 0
    expected = orjson.loads(args.expect.read_bytes())
    differ = [
        name
        for name in sorted(found.keys() | expected.keys())
        if found.get(name) != expected.get(name)
    ]
    for name in differ:
        sys.stderr.write(f"differs: {name}\n")
    sys.stdout.write("same bytes published, same answers\n" if not differ else "")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
