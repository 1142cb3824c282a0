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
"""

from __future__ import annotations

import io
import marshal
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from projections.ingest_check import Answer, Earlier
from streams.kafka.messages import Message

_KEYS_SCHEMA: Final = (
    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -8192;"
    "CREATE TABLE keys (key TEXT PRIMARY KEY, event_id TEXT NOT NULL, fingerprint TEXT NOT NULL);"
)
#: lines (and keys) buffered before they are written together
_BUFFERED: Final = 200
#: bytes read at a time when the lines are read back
_CHUNK: Final = 1 << 20
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


class Spool:
    def __init__(self, in_memory: bool = False) -> None:
        self._dir = None if in_memory else tempfile.mkdtemp(prefix="channelflow-ingest-")
        self._path = None if self._dir is None else Path(self._dir) / "lines.bin"
        self._file: IO[bytes] = io.BytesIO() if self._path is None else self._path.open("w+b")
        keys = ":memory:" if self._dir is None else str(Path(self._dir) / "keys.sqlite")
        self._db = sqlite3.connect(keys, isolation_level=None)
        self._db.executescript(_KEYS_SCHEMA)
        self._db.execute("BEGIN")
        self._pending: list[bytes] = []
        self._seq = 0
        #: keys remembered and not written to the table yet
        self._keys: dict[str, Earlier] = {}
        self._filter = bytearray(_FILTER_BITS // 8)
        #: per report: how many of its lines have each answer
        self._answers: dict[int, Counter[str]] = {}
        #: per report: its rejections as a whole, in order
        self._rejections: dict[int, list[_ReportRejection]] = {}

    def add(
        self,
        answer: LineAnswer,
        report: int,
        message: Message | None,
        original: bytes | None,
        distributor: str | None = None,
    ) -> None:
        """Spool one line with what to publish for it (None: a rejection, see SpooledLine)."""
        self._seq += 1
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
                answer.answer.value,
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
        counts[answer.answer.value] += 1
        if len(self._pending) >= _BUFFERED:
            self._flush()

    def earlier(self, key: str) -> Earlier | None:
        found = self._keys.get(key)
        if found is not None or not self._maybe_sent(key):
            return found
        row = self._db.execute(
            "SELECT event_id, fingerprint FROM keys WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else Earlier(row[0], row[1])

    def remember(self, key: str, sent: Earlier) -> None:
        """Remember what a line sent under `key` (the first one sent under a key stands)."""
        if self.earlier(key) is not None:
            return
        self._keys[key] = sent
        digest = hash(key)
        for bit in (digest & _FILTER_MASK, (digest >> 24) & _FILTER_MASK):
            self._filter[bit >> 3] |= 1 << (bit & 7)
        if len(self._keys) >= _BUFFERED:
            self._db.executemany(
                "INSERT INTO keys VALUES (?, ?, ?)",
                [(k, e.event_id, e.fingerprint) for k, e in self._keys.items()],
            )
            self._keys.clear()

    def _maybe_sent(self, key: str) -> bool:
        digest = hash(key)
        first, second = digest & _FILTER_MASK, (digest >> 24) & _FILTER_MASK
        return bool(
            self._filter[first >> 3] & (1 << (first & 7))
            and self._filter[second >> 3] & (1 << (second & 7))
        )

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

    def lines(self, only_problems: bool = False) -> Iterator[SpooledLine]:
        """Spooled lines in order (only those not accepted, with `only_problems`)."""
        for record in self._records():
            (seq, line, ref, report, answer, reason, field, detail, topic, event_type, key, value,
             original, distributor) = record  # fmt: skip
            rejections = self._rejections.get(report)
            if rejections is not None:
                rejection = next((r for r in rejections if seq <= r.last), None)
                if rejection is not None:
                    topic = None
                    if answer != _REJECTED:
                        answer, reason, field = _REJECTED, rejection.reason, None
                        detail = rejection.detail
            if only_problems and answer == "accepted":
                continue
            message = None
            if topic is not None:
                assert event_type is not None and key is not None and value is not None
                message = Message(topic, key, value, event_type)
            yield SpooledLine(
                LineAnswer(line, ref, _ANSWERS[answer], reason, field, detail),
                report,
                message,
                original,
                distributor,
            )

    def _records(self) -> Iterator[_Record]:
        """Every record written, in order, read from a handle of its own."""
        self._flush()
        self._file.flush()
        stream: IO[bytes]
        if self._path is None:
            assert isinstance(self._file, io.BytesIO)
            stream = io.BytesIO(self._file.getvalue())
        else:
            stream = self._path.open("rb")
        with stream:
            rest = b""
            while chunk := stream.read(_CHUNK):
                data = memoryview(rest + chunk)
                at, end = 0, len(data)
                while end - at >= 4:
                    size = int.from_bytes(data[at : at + 4], "little")
                    if end - at - 4 < size:
                        break
                    yield marshal.loads(data[at + 4 : at + 4 + size])
                    at += 4 + size
                rest = bytes(data[at:])

    def _flush(self) -> None:
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._pending.clear()

    def close(self) -> None:
        self._file.close()
        self._db.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
