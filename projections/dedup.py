"""Business-duplicate detection by idempotency key, independent of Kafka offsets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

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


@dataclass(frozen=True, slots=True)
class SeenEntry:
    """What was first accepted under an idempotency key, from where, and what came after."""

    event_id: str
    fingerprint: str
    source: str | None = None
    offset: int | None = None
    resends: tuple[Resend, ...] = ()

    def to_json(self) -> list[object]:
        resends = [[r.event_id, r.verdict.value, r.source, r.offset] for r in self.resends]
        return [self.event_id, self.fingerprint, self.source, self.offset, resends]

    @classmethod
    def from_json(cls, data: list[Any]) -> SeenEntry:
        event_id, fingerprint, source, offset, resends = data
        return cls(
            event_id,
            fingerprint,
            source,
            offset,
            tuple(Resend(r[0], Verdict(r[1]), r[2], r[3]) for r in resends),
        )

    def with_resend(self, event_id: str, verdict: Verdict, position: Position | None) -> SeenEntry:
        source, offset = (position.source, position.offset) if position else (None, None)
        return replace(self, resends=(*self.resends, Resend(event_id, verdict, source, offset)))


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
    """
    if seen is None:
        return Verdict.ACCEPTED
    if _at(seen.source, seen.offset, position):
        return Verdict.ACCEPTED
    for resend in seen.resends:
        if resend.event_id == event_id:
            return (
                resend.verdict
                if _at(resend.source, resend.offset, position)
                else Verdict.REDELIVERY
            )
    if seen.event_id == event_id:
        return Verdict.REDELIVERY
    if seen.fingerprint == fingerprint:
        return Verdict.DUPLICATE
    return Verdict.CONFLICT


def entry_for(event_id: str, fingerprint: str, position: Position | None) -> SeenEntry:
    if position is None:
        return SeenEntry(event_id, fingerprint)
    return SeenEntry(event_id, fingerprint, position.source, position.offset)
