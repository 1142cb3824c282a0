"""The gateway's check of a large CSV report on several processes.

A CSV report of at least PARALLEL_BYTES, checked on more than one process, is cut into
parts at line ends (a quarter of each process's share, within SMALLEST_PART and
PART_BYTES). A pool of forked processes checks each part as `Gateway.check` would (parse,
validate, precheck, spool) into a spool of its own inside the upload's, which also logs
every line's idempotency key. This process takes the parts in file order
(`Gateway.adopt`): their lines as spooled, each line whose key an earlier part sent
answered again against it (the precheck's own rule), so that every answer is the one the
single process gives. Then it closes the report, whose period is made of the parts' sale
days.

A part's first line is taken for the start of a record. It is one when the part before
ended with a whole record; a quoted field may hold a line break, and a part cut inside
one ends in a record that is not CSV. That part and all after it are then checked
here, line after line, as is a part whose process failed: an error (a line of another
distributor's in a distributor's upload, a line too long) is raised where the single
process raises it, after the same lines.
"""

from __future__ import annotations

import asyncio
import gc
import io
import multiprocessing
import multiprocessing.pool
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from schemas.events import PERSONAL_FIELDS
from streams.ingest.acks import AckWatch
from streams.ingest.formats import read
from streams.ingest.formats.csv_reports import CsvReport, csv_lines, csv_report
from streams.ingest.formats.report_header import SaleDays, report_closed
from streams.ingest.formats.upload import Stored, Upload
from streams.ingest.gateway import Gateway, StoreView
from streams.ingest.parsers.csv_report import MAX_LINE_CHARS, CsvLine, parse_csv_part
from streams.ingest.parsers.csv_source import CsvSource
from streams.ingest.parsers.csv_template import separator_line
from streams.ingest.personal import DoorProtection
from streams.ingest.spool import Spool, SpoolPart

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: a CSV report's size from which its check is spread over processes
PARALLEL_BYTES: Final = 1024 * 1024
#: the most of the file a process checks at a time (read into its memory), and the least
PART_BYTES: Final = 4 * 1024 * 1024
SMALLEST_PART: Final = 512 * 1024
_NAME: Final = re.compile(rb"\w")


def check_processes(wanted: int) -> int:
    """How many processes check an upload: `wanted`, or with 0 the cores available."""
    return wanted if wanted > 0 else len(os.sched_getaffinity(0))


async def check_upload(
    gateway: Gateway, file: Stored, processes: int = 1, watch: AckWatch | None = None
) -> int:
    """Check every line of the upload into the gateway's spool, as `Gateway.check` does,
    a large CSV report on up to `processes` processes; returns how many parts of it
    other processes checked (0: it was checked here alone). An X12 upload's items pass
    `watch` on their way, for its acknowledgement."""
    upload = gateway.upload
    directory = gateway.spool.directory
    header = None
    if processes > 1 and upload.format == "csv" and not file.gzipped and directory is not None:
        header = _plain_header(file.path)
    if header is None or file.path.stat().st_size < PARALLEL_BYTES:
        items = read(upload, file)
        await gateway.check(items if watch is None else watch.watch(items, gateway.upload.format))
        return 0
    if gateway.protection.seals and any(name.encode() in header for name in PERSONAL_FIELDS):
        await gateway.check(read(upload, file))  # sealing asks the key store: here only
        return 0
    report = csv_report(upload, file)
    assert directory is not None
    state = _State(upload, gateway.view, gateway.protection, report, file.path, header, directory)
    size = file.path.stat().st_size
    parts = _parts(file.path, len(header), _part_bytes(size, processes))
    days = SaleDays(upload)
    rest: _Part | None = None
    adopted = 0
    gc.freeze()  # the processes forked share this one's objects, which no collection moves
    try:
        pool = multiprocessing.get_context("fork").Pool(
            min(processes, len(parts)), initializer=_set_state, initargs=(state,)
        )
    finally:
        gc.unfreeze()
    with pool:
        results = _submitted(pool, parts)
        for part, result in zip(parts, results, strict=True):
            checked = await result
            if checked is None or (checked.ended_in_error and part is not parts[-1]):
                rest = part
                break
            gateway.adopt(checked.spool, checked.lines, checked.answers, checked.reasons)
            days.include(checked.first, checked.last)
            adopted += 1
    if rest is not None:  # from a record's start on, here alone
        with file.path.open("rb") as stream:
            _, rows = _part_rows(state, rest, stream, None)
            await gateway.check(csv_lines(upload, rows, days))
    closed = report_closed(upload, 1, report.distributor, report.report_id, gateway.lines, days)
    gateway.take(closed)
    return adopted


@dataclass(frozen=True)
class _State:
    """What every process checking a part knows (inherited on fork, never pickled)."""

    upload: Upload
    view: StoreView
    protection: DoorProtection
    report: CsvReport
    path: Path
    header: bytes
    directory: Path


@dataclass(frozen=True)
class _Part:
    index: int
    start: int
    end: int
    #: the file's physical lines before the part (the header's included)
    lines_before: int


@dataclass(frozen=True)
class _Checked:
    """A part as its process checked it."""

    spool: SpoolPart
    lines: int
    answers: Counter[str]
    reasons: Counter[str]
    first: date | None
    last: date | None
    #: the part's last record was not CSV: the part may have cut it
    ended_in_error: bool


_STATE: _State | None = None


def _set_state(state: _State) -> None:
    global _STATE  # a pool process checks parts of one upload
    _STATE = state


def _check_part(part: _Part) -> _Checked | None:
    """Check one part into a spool of its own (None: it failed; it is checked again,
    where the error is raised)."""
    state = _STATE
    assert state is not None
    try:
        with (
            state.path.open("rb") as stream,
            Spool(part_of=state.directory / f"part-{part.index}") as spool,
        ):
            gateway = Gateway(state.upload, state.view, spool, protection=state.protection)
            days = SaleDays(state.upload)
            source, rows = _part_rows(state, part, stream, part.end - part.start)
            protection = state.protection
            for item in csv_lines(state.upload, rows, days):
                gateway.take(protection.protected(item) if protection.needed(item) else item)
            return _Checked(
                spool.part(),
                gateway.lines,
                gateway.answers,
                gateway.reasons,
                days.first,
                days.last,
                source.ended_in_error,
            )
    except Exception:  # checked again in the parent, which raises it there
        return None


def _part_rows(
    state: _State, part: _Part, stream: IO[bytes], size: int | None
) -> tuple[CsvSource, Iterator[CsvLine]]:
    """The lines of the part from `stream` (`size` bytes of it; None: to the file's end)."""
    stream.seek(part.start)
    joined = io.BufferedReader(_HeaderThen(state.header, stream, size), 64 * 1024)
    upload, report = state.upload, state.report
    return parse_csv_part(
        joined,
        skipped_lines=part.lines_before - 1,
        received_at=upload.received_at,
        distributor_id=report.distributor,
        report_id=report.report_id,
        source_name=upload.name,
    )


def _submitted(
    pool: multiprocessing.pool.Pool, parts: list[_Part]
) -> list[asyncio.Future[_Checked | None]]:
    """Every part handed to the pool, in order: a future of each part's result, set from
    the pool's result thread when its process is done (None: it failed), so that this
    process waits for the parts without looking for them (a poll every 5 ms cost it
    CPU the processes checking could use, more the busier the machine)."""
    loop = asyncio.get_running_loop()
    return [_result(loop, pool, part) for part in parts]


def _result(
    loop: asyncio.AbstractEventLoop, pool: multiprocessing.pool.Pool, part: _Part
) -> asyncio.Future[_Checked | None]:
    done: asyncio.Future[_Checked | None] = loop.create_future()

    def settle(checked: _Checked | None) -> None:
        if not done.done():
            done.set_result(checked)

    def deliver(checked: object) -> None:  # in the pool's result thread
        if not loop.is_closed():
            loop.call_soon_threadsafe(settle, checked if isinstance(checked, _Checked) else None)

    pool.apply_async(_check_part, (part,), callback=deliver, error_callback=deliver)
    return done


def _plain_header(path: Path) -> bytes | None:
    """The file's first line when it is the whole header (no quotes, no line break but
    its end, a column name), else None: the file is then checked on one process."""
    with path.open("rb") as stream:
        line = stream.readline(MAX_LINE_CHARS)
    body = line.removesuffix(b"\n").removesuffix(b"\r")
    if not line.endswith(b"\n") or b'"' in line or b"\r" in body or not _NAME.search(body):
        return None
    if separator_line(body.decode("latin-1")) is not None:  # Excel's `sep=,` before it
        return None
    return line


def _part_bytes(size: int, processes: int) -> int:
    """About a quarter of each process's share of the file, within SMALLEST_PART and
    PART_BYTES: parts enough to keep every process busy to the end."""
    return max(min(PART_BYTES, size // (4 * processes)), SMALLEST_PART)


def _parts(path: Path, start: int, part_bytes: int) -> list[_Part]:
    """The file after its header in parts of about `part_bytes`, each ending at a line
    feed, with the physical lines before each (LF, CR LF and a lone CR end a line)."""
    parts: list[_Part] = []
    lines = 1
    with path.open("rb") as stream:
        stream.seek(start)
        at = start
        while data := stream.read(part_bytes):
            if not data.endswith(b"\n"):
                data += stream.readline()
            parts.append(_Part(len(parts), at, at + len(data), lines))
            lines += data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
            at += len(data)
    return parts


class _HeaderThen(io.RawIOBase):
    """The header line, then `size` bytes of a stream (None: to its end)."""

    def __init__(self, header: bytes, stream: IO[bytes], size: int | None) -> None:
        super().__init__()
        self._header = header
        self._stream = stream
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._header:
            data, self._header = self._header[: len(view)], self._header[len(view) :]
        else:
            wanted = len(view) if self._left is None else min(len(view), self._left)
            data = self._stream.read(wanted)
            if self._left is not None:
                self._left -= len(data)
        view[: len(data)] = data
        return len(data)
