"""Business-duplicate detection by idempotency key, independent of Kafka offsets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from domain.frozen import quick_init
from projections.keyvalue import KeyValue
from projections.positions import Position


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # same key, same content, new envelope: counted, not applied
    REDELIVERY = "redelivery"  # the same event_id again: neither counted nor applied
    CONFLICT = "conflict"  # same key, different content: dead letter `conflicting_duplicate`


@dataclass(frozen=True, slots=True)
class Resend:
    """A later event under an already-accepted key, and what it was judged."""

    event_id: str
    verdict: Verdict
    source: str | None = None
    offset: int | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class SeenEntry:
    """What was first accepted under an idempotency key, from where, and what came after.

    `report_id` is the report the accepted line came in. When a replacement report
    reverses that line its key is `released`: the next line under the key is judged new,
    and its entry keeps this one's event ids in `previous`, so that neither the replaced
    line nor its resends count as anything when Kafka delivers them again.
    """

    event_id: str
    fingerprint: str
    source: str | None = None
    offset: int | None = None
    resends: tuple[Resend, ...] = ()
    report_id: str | None = None
    released: bool = False
    #: earlier occupants of a released key: the accepted line and its resends
    previous: tuple[Resend, ...] = ()

    def to_json(self) -> list[object]:
        """[event_id, fingerprint, source, offset, resends] as stored before replacements
        existed; report_id, released and previous follow only when set."""
        if not self.resends and self.report_id is None and not self.released and not self.previous:
            # nearly every entry (a line seen once, of no report): one list, once per line
            return [self.event_id, self.fingerprint, self.source, self.offset, []]
        data: list[object] = [
            self.event_id,
            self.fingerprint,
            self.source,
            self.offset,
            _resends_json(self.resends),
        ]
        extra = [self.report_id, self.released or None, _resends_json(self.previous) or None]
        while extra and extra[-1] is None:
            extra.pop()
        return data + extra

    @classmethod
    def from_json(cls, data: list[Any]) -> SeenEntry:
        event_id, fingerprint, source, offset, resends, *extra = data
        extra += [None] * (3 - len(extra))
        report_id, released, previous = extra
        return cls(
            event_id,
            fingerprint,
            source,
            offset,
            _resends_of(resends),
            report_id,
            bool(released),
            _resends_of(previous or ()),
        )

    def with_resend(self, event_id: str, verdict: Verdict, position: Position | None) -> SeenEntry:
        source, offset = (position.source, position.offset) if position else (None, None)
        return replace(self, resends=(*self.resends, Resend(event_id, verdict, source, offset)))

    def knows(self, event_id: str) -> bool:
        """Whether `event_id` was judged under this key already (now or before a release)."""
        return self.event_id == event_id or any(
            r.event_id == event_id for r in (*self.resends, *self.previous)
        )

    def release(self, event_id: str) -> SeenEntry:
        """The entry with its key freed, if `event_id` is the line that holds it."""
        return replace(self, released=True) if self.event_id == event_id else self

    def succeeded_by(self, successor: SeenEntry) -> SeenEntry:
        """The successor's entry, remembering this released one and everything before it."""
        accepted = Resend(self.event_id, Verdict.ACCEPTED, self.source, self.offset)
        return replace(successor, previous=(*self.previous, accepted, *self.resends))


def _resends_json(resends: tuple[Resend, ...]) -> list[list[object]]:
    return [[r.event_id, r.verdict.value, r.source, r.offset] for r in resends]


def _resends_of(data: Any) -> tuple[Resend, ...]:
    return tuple(Resend(r[0], Verdict(r[1]), r[2], r[3]) for r in data)


def _at(source: str | None, offset: int | None, position: Position | None) -> bool:
    return position is not None and source == position.source and offset == position.offset


def classify(
    seen: SeenEntry | None, event_id: str, fingerprint: str, position: Position | None
) -> Verdict:
    """Decide what an incoming event is, given what its key has seen.

    An input from the very position that was already judged means we crashed after
    recording the key but maybe before every state applied it: it gets its original
    verdict again, and each state's own position check decides whether to apply it.
    Any other arrival of an event_id already seen is a redelivery: never counted.
    A key released by a replacement report takes any other event as new.
    """
    if seen is None:
        return Verdict.ACCEPTED
    if _at(seen.source, seen.offset, position):
        return Verdict.ACCEPTED
    for resend in (*seen.resends, *seen.previous):
        if resend.event_id == event_id:
            return (
                resend.verdict
                if _at(resend.source, resend.offset, position)
                else Verdict.REDELIVERY
            )
    if seen.event_id == event_id:
        return Verdict.REDELIVERY
    if seen.released:
        return Verdict.ACCEPTED
    if seen.fingerprint == fingerprint:
        return Verdict.DUPLICATE
    return Verdict.CONFLICT


def remember(
    store: KeyValue[SeenEntry],
    key: str,
    seen: SeenEntry | None,
    verdict: Verdict,
    event_id: str,
    fingerprint: str,
    position: Position | None,
    report_id: str | None = None,
) -> None:
    """Record what `classify` judged under `key`: a new occupant of the key (a first
    arrival, or the successor of a released line), or a resend the key did not know."""
    if verdict is Verdict.ACCEPTED and (seen is None or not seen.knows(event_id)):
        entry = entry_for(event_id, fingerprint, position, report_id)
        store.put(key, entry if seen is None else seen.succeeded_by(entry))
    elif (
        seen is not None
        and verdict in (Verdict.DUPLICATE, Verdict.CONFLICT)
        and not any(resend.event_id == event_id for resend in seen.resends)
    ):
        store.put(key, seen.with_resend(event_id, verdict, position))


def entry_for(
    event_id: str, fingerprint: str, position: Position | None, report_id: str | None = None
) -> SeenEntry:
    if position is None:
        return SeenEntry(event_id, fingerprint, report_id=report_id)
    return SeenEntry(event_id, fingerprint, position.source, position.offset, report_id=report_id)


#: the detail of a conflict under a key that no report explains
CONFLICT_DETAIL = "same idempotency key as an accepted event, different content"


def conflict_detail(event: object, held: SeenEntry | None) -> str:
    """Why `event` is a conflicting duplicate of the line accepted under its key (`held`),
    and what its sender does about it: a sale line is named by its transaction id and the
    report the accepted line came in, and told that a correction of that report is a
    report replacing it (the gateway's precheck and the worker say the same words)."""
    transaction = getattr(event, "transaction_id", None)
    if not isinstance(transaction, str):
        return CONFLICT_DETAIL
    report = None if held is None else held.report_id
    if report is None:
        return (
            f"transaction_id {transaction!r} was accepted before with other content (the "
            "first stands): a new sale needs a transaction_id of its own"
        )
    return (
        f"transaction_id {transaction!r} was accepted before in report {report!r} with "
        f"other content: to correct report {report!r}, send the corrected report under a "
        f"new report id with replaces={report} (an 867: BPT01 05, BPT09 {report}); a new "
        "sale needs a transaction_id of its own"
    )
