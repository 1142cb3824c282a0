"""The gateway core: a large upload in bounded memory (lines wait on disk, not in RAM),
and several reports of one interchange published each header before its own lines."""

from __future__ import annotations

import asyncio
import io
import tempfile
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.roles import Role
from projections.ingest_check import Answer
from streams.auth import Forbidden, Principal
from streams.ingest.formats import read
from streams.ingest.formats.upload import SOURCES, Parsed, Stored, Unreadable, Upload, digest_of
from streams.ingest.gateway import Gateway, StoreView, offline_view
from streams.ingest.parsers.csv_report import CsvFormatError, CsvHeaderError
from streams.ingest.parsers.x12 import X12Error
from streams.ingest.spool import Spool, SpooledLine
from streams.kafka.messages import Message
from tests.unit.api.ingest_api import catalog
from tests.unit.parsers.edi_builder import interchange
from tests.unit.parsers.mutated_common import Mutated
from tests.unit.parsers.mutated_reports import mutated_reports
from tests.unit.parsers.test_csv_memory import GeneratedCsv

LINES = 30_000
WINDOW = 10_000
ADMIN = Principal("test", Role.ADMIN)
#: no catalog, nothing seen: every line is checked on its own
NOTHING_KNOWN = StoreView(None, lambda _: None)


def upload(fmt: str, name: str) -> Upload:
    return Upload(
        fmt,  # type: ignore[arg-type]
        name,
        ADMIN,
        datetime(2026, 5, 1, 9, tzinfo=UTC),  # after every generated line's sale
        "0" * 64,
        "csv" if fmt == "csv" else "edi867",
        distributor_id="DIST-001",
    )


def test_a_large_csv_is_checked_and_published_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:  # written as generated: the file never is in memory
        source = io.BufferedReader(GeneratedCsv(LINES))
        while chunk := source.read(1 << 16):
            handle.write(chunk)
    with Spool() as spool:
        gateway = Gateway(upload("csv", "big.csv"), NOTHING_KNOWN, spool)
        items = read(gateway.upload, Stored(path))
        for _ in range(LINES - 2 * WINDOW):
            gateway.take(next(items))
        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(WINDOW):
            gateway.take(next(items))
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        for item in items:
            gateway.take(item)
        # 10,000 checked lines leave nothing behind in memory (each is ~300 bytes spooled)
        assert held - start < 256 * 1024, held - start
        assert peak - start < 4 * 1024 * 1024, peak - start

        sent = 0

        async def sink(messages: Sequence[Message]) -> None:
            nonlocal sent
            sent += len(messages)

        tracemalloc.start()
        asyncio.run(gateway.publish(sink))
        _, publish_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert sent == LINES + 1  # the lines and the report's header
    assert gateway.summary()["accepted"] == LINES
    # publishing holds one batch at a time, not the upload (30,000 messages are ~12 MB)
    assert publish_peak < 6 * 1024 * 1024, publish_peak


def report(number: str, replaces: str = "") -> list[str]:
    purpose = "05" if replaces else "00"
    return [
        f"BPT*{purpose}*{number}*20260413*DD*****{replaces}".rstrip("*"),
        "DTM*090*20260406",
        "DTM*091*20260412",
        "N1*DS*ACME*91*DIST-001",
        "PTD*SS",
        "N1*ST*RES*91*RES-1",
        f"REF*IV*{number}",
        "DTM*003*20260407",
        "LIN*1*VP*WIDGET-100",
        "QTY*39*2*EA",
        "UIT*EA*12.50",
        "LIN*2*VP*GADGET-200",
        "QTY*39*1*EA",
        "UIT*EA*30.00",
        "CTT*2*3",
    ]


def test_each_report_of_an_interchange_is_published_header_first(tmp_path: Path) -> None:
    path = tmp_path / "two.edi"
    path.write_bytes(interchange(report("R-1"), report("R-2", replaces="R-1")))
    published: list[Message] = []

    async def sink(messages: Sequence[Message]) -> None:
        published.extend(messages)

    with Spool() as spool:
        gateway = Gateway(upload("867", "two.edi"), NOTHING_KNOWN, spool)
        items = list(read(gateway.upload, Stored(path)))
        assert sum(isinstance(item, Parsed) for item in items) == 4
        asyncio.run(gateway.check(iter(items)))
        asyncio.run(gateway.publish(sink))
    kinds = [m.event_type for m in published]
    assert kinds == ["ReportSubmitted", "SaleReported", "SaleReported"] * 2
    assert [m.key for m in published] == [b"DIST-001"] * 6
    assert b'"replaces_report_id":"R-1"' in published[3].value


UNREADABLE = (Unreadable, CsvHeaderError, CsvFormatError, X12Error)
FRAGMENTS = st.sampled_from(
    [b"ISA*00*", b"~", b"*", b"\n", b",", b'"', b"[", b"{", b"}", b"]", b"\xff", b"ST*867",
     b"distributor_id,transaction_id", b"LIN*1*VP*X", b"QTY*39*x", b'"event_type"', b"0"]
)  # fmt: skip


@settings(max_examples=150)
@given(
    fmt=st.sampled_from(["events", "csv", "867", "852"]),
    parts=st.lists(FRAGMENTS | st.binary(max_size=40), max_size=30),
)
def test_any_bytes_are_answered_or_refused_as_unreadable(fmt: str, parts: list[bytes]) -> None:
    """Whatever arrives, the gateway answers it line by line or refuses it as unreadable
    (a 422): it never fails otherwise."""
    with tempfile.TemporaryDirectory() as directory, Spool() as spool:
        path = Path(directory) / "upload"
        path.write_bytes(b"".join(parts))
        gateway = Gateway(upload(fmt, "upload"), NOTHING_KNOWN, spool)
        try:
            asyncio.run(gateway.check(read(gateway.upload, Stored(path))))
        except UNREADABLE:
            return
        assert sum(gateway.answers.values()) == gateway.lines


# --- line accounting on realistic files ----------------------------------------------

#: who uploads: an admin on DIST-001's behalf, or DIST-001's own token
UPLOADERS = {
    "admin": ADMIN,
    "distributor": Principal("d1", Role.DISTRIBUTOR, "DIST-001"),
}
#: the catalog knows WIDGET-100 and GADGET-200 (tests/unit/api/ingest_api.py)
KNOWN = offline_view(catalog())


def names_another(sent: Mutated) -> bool:
    """Whether a line of the file names another distributor than DIST-001, as far as the
    gateway can tell: a CSV line whose first cell is not DIST-001 (one written with
    another separator too: the cell is then the whole line), an X12 N1*DS naming another."""
    if sent.format != "csv":
        text = sent.data.decode("utf-8", "replace")
        segments = [segment.strip().split("*") for segment in text.split("~")]
        named = {s[4] for s in segments if s[0] == "N1" and s[1:2] == ["DS"] and len(s) > 4}
        return bool(named - {"DIST-001", ""})
    lines = sent.data.decode("utf-8", "replace").replace("\r\n", "\n").split("\n")
    first_cells = {lines[number - 1].split(",")[0].strip() for number in sent.csv_lines}
    return bool(first_cells - {"DIST-001", ""})


def answer_upload(sent: Mutated, principal: Principal) -> tuple[Gateway, list[SpooledLine]] | None:
    """The file through the gateway's check and publish passes, as an upload would go:
    the gateway and its answered lines, or None when it refused the file as a whole (a
    422 or 403) for a reason the file gives."""
    published: list[Message] = []

    async def sink(messages: Sequence[Message]) -> None:
        published.extend(messages)

    with tempfile.TemporaryDirectory() as directory, Spool(in_memory=True) as spool:
        path = Path(directory) / "upload"
        path.write_bytes(sent.data)
        sent_as = Upload(
            sent.format,
            "upload",
            principal,
            datetime(2026, 5, 1, 9, tzinfo=UTC),
            digest_of(sent.data),
            SOURCES[sent.format],
            distributor_id="DIST-001" if principal.role is Role.ADMIN else None,
        )
        gateway = Gateway(sent_as, KNOWN, spool)
        try:
            asyncio.run(gateway.check(read(sent_as, Stored(path))))
        except Forbidden:  # a distributor sending another's data
            assert principal.role is Role.DISTRIBUTOR and names_another(sent), sent.done
            return None
        except UNREADABLE as error:
            assert sent.structural, (sent.done, error)
            if sent.unreadable_segment is not None:
                assert isinstance(error, X12Error) and not isinstance(error, Unreadable)
                assert error.segment_index == sent.unreadable_segment, (sent.done, error)
            return None
        rows = list(spool.lines())
        asyncio.run(gateway.publish(sink))
    # every line answered is published once: its event, or a LineRejected with its bytes
    published_lines = [m for m in published if m.event_type != "ReportSubmitted"]
    assert len(published_lines) == len(rows) == gateway.lines, sent.done
    return gateway, rows


@settings(max_examples=300)
@given(sent=mutated_reports(), uploader=st.sampled_from(sorted(UPLOADERS)))
def test_every_line_of_a_mutated_report_is_answered_exactly_once(
    sent: Mutated, uploader: str
) -> None:
    """A valid report, then lines deleted, repeated, swapped, fields corrupted, cut short:
    unless a mutation broke the file as a whole, each of its input lines is answered once
    (accepted, duplicate, conflict or rejected with a reason), and the answers add up."""
    answered = answer_upload(sent, UPLOADERS[uploader])
    if answered is None:
        return
    gateway, rows = answered
    for row in rows:  # one of the four answers; a rejection says why
        answer = row.answer
        assert answer.answer in set(Answer), sent.done
        assert answer.answer is not Answer.REJECTED or answer.reason, (sent.done, answer)
        assert answer.answer is not Answer.ACCEPTED or answer.reason is None, (sent.done, answer)
    summary = gateway.summary()
    assert sum(summary[answer.value] for answer in Answer) == summary["lines"] == len(rows)
    assert sum(summary["rejected_by_reason"].values()) == summary["rejected"]
    if sent.format == "csv":
        assert sorted(row.answer.line for row in rows) == list(sent.csv_lines), sent.done
    elif sent.format == "867":
        for report, count in enumerate(sent.report_lines, start=1):
            lines = sorted(row.answer.line for row in rows if row.report == report)
            assert lines == list(range(1, count + 1)), (sent.done, report)
    else:
        for report, segments in enumerate(sent.report_segments, start=1):
            mine = [row for row in rows if row.report == report]
            if not segments:  # no line: what rejects the report as a whole, if anything
                assert all(row.answer.answer is Answer.REJECTED for row in mine), sent.done
                continue
            lines = sorted(row.answer.line for row in mine)
            assert lines == sorted(segments), (sent.done, report, [r.answer for r in mine])
