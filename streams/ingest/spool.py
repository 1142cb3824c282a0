"""A temporary spool: an upload's checked lines on disk, in order.

The gateway checks every line before it publishes any (a report's header goes first,
and its line count is known only at the end), so the lines wait here instead of in
memory: a 1,000,000-line file costs disk, not RAM. They go to an append-only file of
length-prefixed `marshal` records (about 1 µs a line each way; an SQLite table cost 5-8
µs). Rejecting a report as a whole is noted per report and applied as the lines are read
back. The spool also remembers each idempotency key sent earlier in the same upload, in
an SQLite table written in batches, with a fixed-size Bloom filter in front that answers
"never sent" for most keys without asking it. It lives in a private temporary directory
and is deleted on `close`.

A part of the upload checked by another process (streams/ingest/parallel_check.py) is a
spool of its own in a directory inside this one, which also logs every keyed line;
`adopt` takes its lines as they are, after those spooled so far, and asks again of each
line whose key an earlier part sent (`sent_earlier`, the precheck's own rule): the new
answers go to a file of overrides, applied as the lines are read back.
"""

from __future__ import annotations

import io
import marshal
import shutil
import sqlite3
import struct
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO, Any, Final

from domain.frozen import quick_init
from projections.ingest_check import Answer, Earlier, sent_earlier
from streams.kafka.messages import Message

_KEYS_SCHEMA: Final = (
    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -8192;"
    "CREATE TABLE keys (key TEXT PRIMARY KEY, event_id TEXT NOT NULL, fingerprint TEXT NOT NULL)"
    # one b-tree, not a table and its key's index: ~0.2 µs less a key inserted in key order
    # (a report in invoice order), ~0.25 µs more in random order (bench/README.md)
    " WITHOUT ROWID;"
)
#: lines (and keys) buffered before they are written together
_BUFFERED: Final = 200
#: a part's keyed lines logged together
_LOGGED: Final = 1000
#: bytes read at a time when the lines are read back
_CHUNK: Final = 1 << 20
#: a record's length, before it
_SIZE: Final = struct.Struct("<I")
#: the Bloom filter's bits (2 MiB, two probes: about 1 % false "maybe" at 1,000,000 keys)
_FILTER_BITS: Final = 1 << 24
_FILTER_MASK: Final = _FILTER_BITS - 1
_ANSWERS: Final = {answer.value: answer for answer in Answer}
#: a line as written: seq, line, ref, report, answer, reason, field, detail, topic,
#: event_type, key, value, original, distributor
_Record = tuple[
    int, int, str, int, str, str | None, str | None, str | None, str | None, str | None,
    bytes | None, bytes | None, bytes | None, str | None,
]  # fmt: skip
_REJECTED: Final = Answer.REJECTED.value


@quick_init  # one per line checked, and per line read back
@dataclass(frozen=True, slots=True)
class LineAnswer:
    """What the gateway answers for one line."""

    line: int
    ref: str
    answer: Answer
    reason: str | None = None
    field: str | None = None
    detail: str | None = None

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {"line": self.line, "ref": self.ref, "answer": self.answer}
        for name in ("reason", "field", "detail"):
            value = getattr(self, name)
            if value is not None:
                document[name] = value
        return document


@quick_init  # one per line read back
@dataclass(frozen=True, slots=True)
class SpooledLine:
    """A line as spooled: its answer, its report (0: none), and what to publish for it.

    `message` None: the line was rejected (when read, or with its report afterwards);
    its `original` bytes go out in a rejection instead.
    """

    answer: LineAnswer
    report: int
    message: Message | None
    original: bytes | None
    #: whose line a rejection is, when the line itself said
    distributor: str | None


@dataclass(frozen=True, slots=True)
class _ReportRejection:
    """A report rejected as a whole: its lines spooled so far (up to `last`) are rejected
    for `reason`, unless rejected for their own already; none of them is published."""

    reason: str
    detail: str
    last: int


@dataclass(frozen=True)
class SpoolPart:
    """The lines of a part of the upload, spooled by another process (`Spool.part`)."""

    directory: Path
    lines: int
    #: per report: how many of its lines have each answer
    answers: dict[int, Counter[str]]


class Spool:
    def __init__(self, in_memory: bool = False, part_of: Path | None = None) -> None:
        """A spool in a private temporary directory (in memory: `in_memory`), or, with
        `part_of`, a part's in that directory (kept on `close`, for `adopt`)."""
        self._part = part_of is not None
        if part_of is not None:
            self._dir: str | None = str(part_of)
            part_of.mkdir()
        else:
            self._dir = None if in_memory else tempfile.mkdtemp(prefix="channelflow-ingest-")
        self._path = None if self._dir is None else Path(self._dir) / "lines.bin"
        self._file: IO[bytes] = io.BytesIO() if self._path is None else self._path.open("w+b")
        #: a part's log of its keyed lines; the overrides of adopted parts' answers
        self._extra: IO[bytes] = io.BytesIO()
        if self._dir is not None:
            self._extra = (Path(self._dir) / "extra.bin").open("w+b")
        self._extra_pending: list[bytes] = []
        #: a part's keyed lines not logged yet: seq, report, key, event_id, fingerprint,
        #: answer (logged in batches, a record each)
        self._keyed: list[tuple[int, int, str, str, str, str]] = []
        #: the adopted parts' line files (their records numbered from 1) and the lines
        #: before each; this spool's own lines follow them
        self._segments: list[tuple[Path, int]] = []
        keys = ":memory:" if self._dir is None else str(Path(self._dir) / "keys.sqlite")
        self._db = sqlite3.connect(keys, isolation_level=None)
        self._db.executescript(_KEYS_SCHEMA)
        self._db.execute("BEGIN")
        self._pending: list[bytes] = []
        self._seq = 0
        #: keys remembered and not written to the table yet
        self._keys: dict[str, Earlier] = {}
        self._filter = bytearray(_FILTER_BITS // 8)
        #: the adopted parts' keys (read only) and their filters' union
        self._adopted: list[sqlite3.Connection] = []
        self._adopted_filter = bytearray(_FILTER_BITS // 8)
        #: per report: how many of its lines have each answer
        self._answers: dict[int, Counter[str]] = {}
        #: per report: its rejections as a whole, in order
        self._rejections: dict[int, list[_ReportRejection]] = {}

    @property
    def directory(self) -> Path | None:
        """Where the spool's files are (None: in memory)."""
        return None if self._dir is None else Path(self._dir)

    def add(
        self,
        answer: LineAnswer,
        report: int,
        message: Message | None,
        original: bytes | None,
        distributor: str | None = None,
        keyed: tuple[str, Earlier] | None = None,
    ) -> None:
        """Spool one line with what to publish for it (None: a rejection, see SpooledLine);
        `keyed`: its idempotency key and what it sends under it (a part logs it)."""
        self._seq += 1
        said = answer.answer.value  # once: an enum's `value` is a property
        if self._part and keyed is not None:
            held, sent = keyed
            self._keyed.append((self._seq, report, held, sent.event_id, sent.fingerprint, said))
            if len(self._keyed) >= _LOGGED:
                self._log(marshal.dumps(self._keyed))
                self._keyed.clear()
        topic = event_type = key = value = None
        if message is not None:
            topic, event_type, key, value = (
                message.topic,
                message.event_type,
                message.key,
                message.value,
            )
        record = marshal.dumps(
            (
                self._seq,
                answer.line,
                answer.ref,
                report,
                said,
                answer.reason,
                answer.field,
                answer.detail,
                topic,
                event_type,
                key,
                value,
                original,
                distributor,
            )
        )
        self._pending.append(len(record).to_bytes(4, "little") + record)
        counts = self._answers.get(report)
        if counts is None:
            counts = self._answers[report] = Counter()
        counts[said] += 1
        if len(self._pending) >= _BUFFERED:
            self._flush()

    def earlier(self, key: str) -> Earlier | None:
        """What the first line of the upload sent under `key` (None: none sent it)."""
        found = self._keys.get(key)
        if found is not None:
            return found
        if self._adopted and _maybe(self._adopted_filter, key):
            found = self._in_parts(key)
            if found is not None:
                return found
        if not _maybe(self._filter, key):
            return None
        return _held(self._db, key)

    def remember(self, key: str, sent: Earlier) -> None:
        """Remember what a line sent under `key` (the first one sent under a key stands)."""
        if self.earlier(key) is None:
            self.remember_first(key, sent)

    def remember_first(self, key: str, sent: Earlier) -> None:
        """Remember what a line sent under a `key` that `earlier` just said no line sent
        (a line the precheck accepted: not asked again)."""
        self._keys[key] = sent
        _mark(self._filter, key)
        if len(self._keys) >= _BUFFERED:
            self._write_keys()

    def _write_keys(self) -> None:
        self._db.executemany(
            "INSERT INTO keys VALUES (?, ?, ?)",
            [(k, e.event_id, e.fingerprint) for k, e in self._keys.items()],
        )
        self._keys.clear()

    def _in_parts(self, key: str) -> Earlier | None:
        """What the adopted parts sent under `key`: the first part's that did."""
        for db in self._adopted:
            found = _held(db, key)
            if found is not None:
                return found
        return None

    def reject_report(self, report: int, reason: str, detail: str) -> dict[str, int]:
        """Reject every line of a report: none of its events is published, each line goes
        out as a rejection (for `reason`, unless it was rejected for its own); returns how
        many lines of each former answer changed."""
        counts = self._answers.get(report, Counter())
        changed = {answer: n for answer, n in counts.items() if answer != _REJECTED and n}
        self._answers[report] = Counter({_REJECTED: sum(counts.values())})
        rejection = _ReportRejection(reason, detail, self._seq)
        self._rejections.setdefault(report, []).append(rejection)
        return changed

    def part(self) -> SpoolPart:
        """This part's lines, for the spool that adopts them (written out now, with the
        keys it sent and their filter)."""
        assert self._part and self._dir is not None
        if self._keyed:
            self._log(marshal.dumps(self._keyed))
        self._flush()
        self._file.flush()
        self._extra.flush()
        self._write_keys()
        self._db.execute("COMMIT")
        (Path(self._dir) / "filter.bin").write_bytes(self._filter)
        return SpoolPart(Path(self._dir), self._seq, self._answers)

    def adopt(self, part: SpoolPart) -> Counter[str]:
        """Take a part's lines after those spooled so far. A line whose key an earlier
        line of another part sent is answered again against it (a duplicate or a
        conflict, never accepted: what it publishes stays the same); returns how the
        answers changed (+1 for the new answer, -1 for the former)."""
        self._flush()
        assert self._dir is not None and self._file.tell() == 0, "parts come first"
        base = self._seq
        self._segments.append((part.directory / "lines.bin", base))
        self._seq += part.lines
        changed: Counter[str] = Counter()
        for report, counts in part.answers.items():
            self._answers.setdefault(report, Counter()).update(counts)
        logged = _read((part.directory / "extra.bin").open("rb")) if self._adopted else ()
        for seq, report, key, event_id, fingerprint, answer in chain.from_iterable(logged):
            if not _maybe(self._adopted_filter, key):
                continue
            before = self._in_parts(key)
            if before is not None:
                again = sent_earlier(key, Earlier(event_id, fingerprint), before)
                new = again.answer.value
                self._log(marshal.dumps((base + seq, new, again.reason, again.detail)))
                changed[answer] -= 1
                changed[new] += 1
                counts = self._answers[report]
                counts[answer] -= 1
                counts[new] += 1
        keys = part.directory / "keys.sqlite"
        self._adopted.append(sqlite3.connect(f"file:{keys}?mode=ro", uri=True))
        bits = (part.directory / "filter.bin").read_bytes()
        merged = int.from_bytes(self._adopted_filter, "little") | int.from_bytes(bits, "little")
        self._adopted_filter = bytearray(merged.to_bytes(len(bits), "little"))
        return changed

    def lines(self, only_problems: bool = False) -> Iterator[SpooledLine]:
        """Spooled lines in order (only those not accepted, with `only_problems`)."""
        for record in self._decided():
            if only_problems and record[4] == "accepted":
                continue
            yield _spooled(record)

    def outgoing(self) -> Iterator[tuple[int, Message | SpooledLine]]:
        """What each line publishes, in order, with its report: its message, or the line
        itself when it goes out as a rejection (made of it). Publishing reads every line:
        a message is built without the line's answer (~0.5 µs less a line)."""
        for record in self._decided():
            topic, event_type, key, value = record[8:12]
            if topic is None:
                yield record[3], _spooled(record)
            else:
                assert event_type is not None and key is not None and value is not None
                yield record[3], Message(topic, key, value, event_type)

    def _decided(self) -> Iterator[_Record]:
        """Every record in order, as answered in the end: an adopted line answered again
        (its override), a line of a report rejected as a whole rejected (and not
        published)."""
        self._flush()
        overrides = self._overrides()
        override = next(overrides, None)
        rejections = self._rejections
        for record in self._records():
            seq, report = record[0], record[3]
            if override is not None and override[0] == seq:
                _, answer, reason, detail = override
                record = (*record[:4], answer, reason, record[6], detail, *record[8:])
                override = next(overrides, None)
            whole = rejections.get(report)
            if whole is not None:
                rejection = next((r for r in whole if seq <= r.last), None)
                if rejection is not None:
                    record = _rejected(record, rejection)
            yield record

    def _records(self) -> Iterator[_Record]:
        """Every record written, in order (the adopted parts' first, each record numbered
        in the whole upload), read from handles of their own."""
        for path, base in self._segments:
            for record in _read(path.open("rb")):
                yield (base + record[0], *record[1:])
        self._flush()
        yield from _read(self._reopened(self._file, self._path))

    def _overrides(self) -> Iterator[tuple[int, str, str | None, str | None]]:
        """The adopted lines answered again, in order: seq, answer, reason, detail."""
        if self._part:
            return iter(())
        path = None if self._dir is None else Path(self._dir) / "extra.bin"
        return _read(self._reopened(self._extra, path))

    def _log(self, record: bytes) -> None:
        self._extra_pending.append(len(record).to_bytes(4, "little") + record)
        if len(self._extra_pending) >= _BUFFERED:
            self._extra.write(b"".join(self._extra_pending))
            self._extra_pending.clear()

    @staticmethod
    def _reopened(file: IO[bytes], path: Path | None) -> IO[bytes]:
        """A handle of its own on what `file` holds (flushed)."""
        file.flush()
        if path is None:
            assert isinstance(file, io.BytesIO)
            return io.BytesIO(file.getvalue())
        return path.open("rb")

    def _flush(self) -> None:
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._pending.clear()
        if self._extra_pending:
            self._extra.write(b"".join(self._extra_pending))
            self._extra_pending.clear()

    def close(self) -> None:
        self._file.close()
        self._extra.close()
        self._db.close()
        for db in self._adopted:
            db.close()
        if self._dir is not None and not self._part:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _rejected(record: _Record, rejection: _ReportRejection) -> _Record:
    """A line of a report rejected as a whole: not published, and rejected for the
    report's reason unless it was for its own."""
    if record[4] == _REJECTED:
        return (*record[:8], None, *record[9:])
    return (*record[:4], _REJECTED, rejection.reason, None, rejection.detail, None, *record[9:])


def _spooled(record: _Record) -> SpooledLine:
    (_, line, ref, report, answer, reason, field, detail, topic, event_type, key, value,
     original, distributor) = record  # fmt: skip
    message = None
    if topic is not None:
        assert event_type is not None and key is not None and value is not None
        message = Message(topic, key, value, event_type)
    answered = LineAnswer(line, ref, _ANSWERS[answer], reason, field, detail)
    return SpooledLine(answered, report, message, original, distributor)


def _mark(bits: bytearray, key: str) -> None:
    """Set the key's two bits in a Bloom filter."""
    digest = hash(key)  # the same in the processes forked to check parts
    for bit in (digest & _FILTER_MASK, (digest >> 24) & _FILTER_MASK):
        bits[bit >> 3] |= 1 << (bit & 7)


def _maybe(bits: bytearray, key: str) -> bool:
    """False: the key was never marked in the filter."""
    digest = hash(key)
    first, second = digest & _FILTER_MASK, (digest >> 24) & _FILTER_MASK
    return bool(bits[first >> 3] & (1 << (first & 7)) and bits[second >> 3] & (1 << (second & 7)))


def _held(db: sqlite3.Connection, key: str) -> Earlier | None:
    row = db.execute("SELECT event_id, fingerprint FROM keys WHERE key = ?", (key,)).fetchone()
    return None if row is None else Earlier(row[0], row[1])


def _read(stream: IO[bytes]) -> Iterator[Any]:
    """The length-prefixed `marshal` records of a stream, in order (closed at the end)."""
    with stream:
        rest = b""
        while chunk := stream.read(_CHUNK):
            data = memoryview(rest + chunk)
            at, end = 0, len(data)
            while end - at >= 4:
                (size,) = _SIZE.unpack_from(data, at)
                if end - at - 4 < size:
                    break
                at += 4
                yield marshal.loads(data[at : at + size])
                at += size
            rest = bytes(data[at:])
