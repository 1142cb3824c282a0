"""The check of a CSV report on several processes (streams/ingest/parallel_check.py): the
same answers, line for line, the same report and the same published messages as the
check on one process, whatever the parts' boundaries cut."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.roles import Role
from streams.auth import Forbidden, Principal
from streams.ingest import parallel_check
from streams.ingest.formats.upload import Stored, Upload
from streams.ingest.gateway import Gateway, offline_view
from streams.ingest.parsers.csv_report import MAX_LINE_CHARS, CsvFormatError
from streams.ingest.spool import Spool, SpoolPart
from streams.kafka.messages import Message
from tests.unit.api.ingest_api import catalog

HEADER = (
    "distributor_id,transaction_id,reseller_id,sku,quantity,unit,unit_price,currency,"
    "sold_at,end_customer,report_id"
)
ADMIN = Principal("test", Role.ADMIN)
DISTRIBUTOR = Principal("d1", Role.DISTRIBUTOR, "DIST-001")
LINES = 3000


def sale(n: int, quantity: int | str = 1, sku: str = "WIDGET-100", when: str = "") -> str:
    sold = when or f"2026-04-0{1 + n % 5}T10:{n % 60:02d}:00Z"
    return f"DIST-001,T{n},RES-{n % 7},{sku},{quantity},,12.50,USD,{sold},,R-1"


def lines(quoted_from: int | None = None, count: int = LINES) -> list[str]:
    """Valid lines, and among them: copies of earlier lines (a duplicate, far back in
    another part or just before), an earlier line's key with other content (a conflict),
    unreadable lines, an unknown SKU, a future date, lines ended by CR LF or a lone CR,
    and from `quoted_from` on, quoted line breaks (a record on two lines)."""
    out: list[str] = []
    for n in range(count):
        if n == 0:
            line = sale(n)
        elif n % 97 == 0 and n >= 500:
            line = out[n - 500]  # the same line again, parts apart
        elif n % 211 == 0 and n:
            line = out[n - 1]
        elif n % 101 == 0 and n >= 700:
            line = sale(n - 700, quantity=5)
        elif n % 89 == 0:
            line = sale(n, quantity='"1,000"')
        elif n % 83 == 0:
            line = sale(n, sku="NOPE-1")
        elif n % 79 == 0:
            line = sale(n, when="2062-01-01T00:00:00Z")
        elif n % 53 == 0:
            line = sale(n).replace("RES-", '"RES"-')  # not CSV
        elif n % 61 == 0:
            line = sale(n) + "\r"  # CR LF
        else:
            line = sale(n)
        if quoted_from is not None and n >= quoted_from and n % 3 == 0:
            line = line.replace(",,R-1", ',"EC\n1",R-1')
        out.append(line)
    out[count // 2] += "\r" + sale(count)  # a lone CR ends a line
    return out


def write(path: Path, rows: list[str]) -> Stored:
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode())
    return Stored(path)


def an_upload(principal: Principal = ADMIN, **options: Any) -> Upload:
    return Upload(
        "csv",
        "w.csv",
        principal,
        datetime(2026, 4, 7, 10, tzinfo=UTC),
        "0" * 64,
        "csv",
        **options,
    )


def checked(upload: Upload, file: Stored, processes: int) -> tuple[int, dict[str, Any]]:
    """How many parts other processes checked, and everything the upload answers and
    publishes."""

    async def run() -> tuple[int, dict[str, Any]]:
        with Spool() as spool:
            gateway = Gateway(upload, offline_view(catalog()), spool)
            parts = await parallel_check.check_upload(gateway, file, processes)
            published: list[Message] = []

            async def publish(messages: Sequence[Message]) -> None:
                published.extend(messages)

            await gateway.publish(publish)
            answers = [line.to_json() for line in gateway.answer_lines(every=True)]
            return parts, {
                "document": gateway.document(),
                "answers": answers,
                "published": published,
            }

    return asyncio.run(run())


@pytest.fixture(autouse=True)
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file in parts of a few KiB: many parts, many boundaries."""
    monkeypatch.setattr(parallel_check, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel_check, "PART_BYTES", 4096)
    monkeypatch.setattr(parallel_check, "SMALLEST_PART", 4096)


@pytest.mark.parametrize("processes", [2, 3])
def test_parts_checked_in_processes_answer_as_one_process(tmp_path: Path, processes: int) -> None:
    file = write(tmp_path / "w.csv", lines())
    alone, once = checked(an_upload(), file, 1)
    parts, spread = checked(an_upload(), file, processes)
    assert alone == 0 and parts > 20  # every part checked by another process
    assert spread == once
    summary = once["document"]["summary"]
    assert summary["duplicate"] > 10 and summary["conflict"] > 10, summary
    assert set(summary["rejected_by_reason"]) == {
        "csv_syntax",
        "bad_quantity",
        "future_date",
        "unknown_sku",
    }
    assert once["document"]["reports"][0]["line_count"] == LINES + 1


def test_a_report_rejected_as_a_whole_publishes_none_of_its_events(tmp_path: Path) -> None:
    file = write(tmp_path / "w.csv", lines())
    period = (date(2062, 1, 1), date(2062, 1, 31))  # a period that cannot be
    _, once = checked(an_upload(period=period), file, 1)
    parts, spread = checked(an_upload(period=period), file, 2)
    assert parts > 20 and spread == once
    assert once["document"]["summary"]["accepted"] == 0
    assert {message.event_type for message in once["published"]} == {"LineRejected"}


def test_a_record_cut_by_a_part_is_read_whole_and_what_follows_on_one_process(
    tmp_path: Path,
) -> None:
    file = write(tmp_path / "w.csv", lines(quoted_from=LINES // 2))
    _, once = checked(an_upload(), file, 1)
    parts, spread = checked(an_upload(), file, 2)
    assert 10 < parts < len(parallel_check._parts(file.path, len(HEADER) + 1, 4096)) - 10
    assert spread == once
    assert once["document"]["summary"]["rejected_by_reason"]["invalid_field"] > 100


def test_another_distributors_line_in_a_later_part_refuses_the_upload(tmp_path: Path) -> None:
    rows = lines()
    rows[2500] = rows[2500].replace("DIST-001", "DIST-002", 1)
    file = write(tmp_path / "w.csv", rows)
    for processes in (1, 2):
        with pytest.raises(Forbidden, match="DIST-002"):
            checked(an_upload(DISTRIBUTOR), file, processes)


def test_a_line_too_long_in_a_later_part_stops_the_file_where_one_process_does(
    tmp_path: Path,
) -> None:
    rows = lines()
    rows[2000] = sale(2000, sku="X" * MAX_LINE_CHARS)
    file = write(tmp_path / "w.csv", rows)
    errors = []
    for processes in (1, 2):
        with pytest.raises(CsvFormatError) as raised:
            checked(an_upload(), file, processes)
        errors.append(str(raised.value))
    assert errors[0] == errors[1]
    assert errors[0].startswith("line 2003:")  # after the header and the lone CR's line


def _checked_or_raising(part: Any) -> Any:
    """A part's check that raises out of the pool's process for part 1, and whose result
    for the others is a `_Checked` naming the part."""
    if part.index == 1:
        raise RuntimeError("the process checking part 1 failed")
    return parallel_check._Checked(
        SpoolPart(Path(f"part-{part.index}"), part.index, {}),
        0,
        Counter(),
        Counter(),
        None,
        None,
        False,
    )


def test_each_parts_result_is_awaited_in_order_and_a_failed_process_gives_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel_check, "_check_part", _checked_or_raising)
    parts = [parallel_check._Part(index, 0, 0, 1) for index in range(5)]

    async def run() -> list[Any]:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = parallel_check._submitted(pool, parts)
            async with asyncio.timeout(120):  # a result never settled fails, not hangs
                return [await result for result in results]

    got = asyncio.run(run())
    assert got[1] is None
    assert [checked.spool.lines for checked in got if checked is not None] == [0, 2, 3, 4]
