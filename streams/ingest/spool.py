"""A temporary SQLite spool: an upload's checked lines on disk, in order.

The gateway checks every line before it publishes any (a report's header goes first,
and its line count is known only at the end), so the lines wait here instead of in
memory: a 1,000,000-line file costs disk, not RAM. The spool also remembers each
idempotency key sent earlier in the same upload. It lives in a private temporary
directory and is deleted on `close`.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from projections.ingest_check import Answer, Earlier
from streams.kafka.messages import Message

_SCHEMA = """
CREATE TABLE lines (
    seq INTEGER PRIMARY KEY,
    line INTEGER NOT NULL,
    ref TEXT NOT NULL,
    report INTEGER NOT NULL,
    answer TEXT NOT NULL,
    reason TEXT,
    field TEXT,
    detail TEXT,
    topic TEXT,
    event_type TEXT,
    key BLOB,
    value BLOB,
    original BLOB,
    distributor TEXT
);
CREATE INDEX lines_report ON lines (report, seq);
CREATE TABLE keys (key TEXT PRIMARY KEY, event_id TEXT NOT NULL, fingerprint TEXT NOT NULL);
"""
_INSERT = "INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#: rows written to SQLite together (an orjson-encoded value holds a 4-8 KiB block until
#: written: the buffer is kept small)
_BUFFERED = 200


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


class Spool:
    def __init__(self, in_memory: bool = False) -> None:
        self._dir = None if in_memory else tempfile.mkdtemp(prefix="channelflow-ingest-")
        path = ":memory:" if self._dir is None else str(Path(self._dir) / "spool.sqlite")
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -8192;"
            + _SCHEMA
        )
        self._db.execute("BEGIN")
        self._pending: list[tuple[object, ...]] = []
        self._seq = 0

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
        self._pending.append(
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
        if len(self._pending) >= _BUFFERED:
            self._flush()

    def earlier(self, key: str) -> Earlier | None:
        row = self._db.execute(
            "SELECT event_id, fingerprint FROM keys WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else Earlier(row[0], row[1])

    def remember(self, key: str, sent: Earlier) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO keys VALUES (?, ?, ?)", (key, sent.event_id, sent.fingerprint)
        )

    def reject_report(self, report: int, reason: str, detail: str) -> dict[str, int]:
        """Reject every line of a report: none of its events is published, each line goes
        out as a rejection (for `reason`, unless it was rejected for its own); returns how
        many lines of each former answer changed."""
        self._flush()
        self._db.execute(
            "UPDATE lines SET topic = NULL WHERE report = ? AND answer = ?",
            (report, Answer.REJECTED.value),
        )
        changed = dict(
            self._db.execute(
                "SELECT answer, count(*) FROM lines WHERE report = ? AND answer != ? "
                "GROUP BY answer",
                (report, Answer.REJECTED.value),
            ).fetchall()
        )
        self._db.execute(
            "UPDATE lines SET answer = ?, reason = ?, field = NULL, detail = ?, topic = NULL "
            "WHERE report = ? AND answer != ?",
            (Answer.REJECTED.value, reason, detail, report, Answer.REJECTED.value),
        )
        return changed

    def lines(self, only_problems: bool = False) -> Iterator[SpooledLine]:
        """Spooled lines in order (only those not accepted, with `only_problems`)."""
        self._flush()
        where = "WHERE answer != 'accepted' " if only_problems else ""
        cursor = self._db.execute(
            "SELECT line, ref, answer, reason, field, detail, report, topic, event_type, key, "
            f"value, original, distributor FROM lines {where}ORDER BY seq"
        )
        for row in cursor:
            line, ref, answer, reason, field, detail, report, topic, event_type, key = row[:10]
            value, original, distributor = row[10:]
            message = None if topic is None else Message(topic, key, value, event_type)
            yield SpooledLine(
                LineAnswer(line, ref, Answer(answer), reason, field, detail),
                report,
                message,
                original,
                distributor,
            )

    def _flush(self) -> None:
        if self._pending:
            self._db.executemany(_INSERT, self._pending)
            self._pending.clear()

    def close(self) -> None:
        self._db.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
