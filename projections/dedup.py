"""Business-duplicate detection by idempotency key, independent of Kafka offsets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from projections.positions import Position


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # same key, same content, new envelope: counted, not applied
    REDELIVERY = "redelivery"  # the same event_id again: neither counted nor applied
    CONFLICT = "conflict"  # same key, different content: dead letter `conflicting_duplicate`


@dataclass(frozen=True, slots=True)
class SeenEntry:
    """What was first accepted under an idempotency key, and from where."""

    event_id: str
    fingerprint: str
    source: str | None = None
    offset: int | None = None

    def to_json(self) -> list[object]:
        return [self.event_id, self.fingerprint, self.source, self.offset]

    @classmethod
    def from_json(cls, data: list[object]) -> SeenEntry:
        event_id, fingerprint, source, offset = data
        return cls(str(event_id), str(fingerprint), source, offset)  # type: ignore[arg-type]


def classify(
    seen: SeenEntry | None, event_id: str, fingerprint: str, position: Position | None
) -> Verdict:
    """Decide what an incoming event is, given what its key first accepted.

    An entry written from this very position means we crashed after recording the key
    but maybe before every state applied the event: it is still the accepted original,
    and each state's own position check decides whether to apply it again.
    """
    if seen is None:
        return Verdict.ACCEPTED
    if position is not None and seen.source == position.source and seen.offset == position.offset:
        return Verdict.ACCEPTED
    if seen.event_id == event_id:
        return Verdict.REDELIVERY
    if seen.fingerprint == fingerprint:
        return Verdict.DUPLICATE
    return Verdict.CONFLICT


def entry_for(event_id: str, fingerprint: str, position: Position | None) -> SeenEntry:
    if position is None:
        return SeenEntry(event_id, fingerprint)
    return SeenEntry(event_id, fingerprint, position.source, position.offset)
