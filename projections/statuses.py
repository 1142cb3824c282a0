"""Violation lifecycle statuses, as the audit event store knows them.

The projection detects violations; people acknowledge, dispute and resolve them, and
only the event store records that. The few violations with such steps are `decided`;
every other one is simply "detected". Reads ask through this interface, so a replay
(which consults no event store) and a live worker answer the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

DETECTED = "detected"


@dataclass(frozen=True, slots=True)
class Decided:
    """A violation some person has taken a lifecycle step on."""

    violation_id: UUID
    distributor_id: str
    transaction_id: str
    status: str
    resolution: str | None = None


class Statuses(Protocol):
    def of(self, violation_id: UUID) -> tuple[str, str | None]:
        """(status, resolution) of a violation; ("detected", None) without steps."""
        ...

    def decided(self) -> Iterable[Decided]:
        """Every violation with lifecycle steps."""
        ...


class DetectedOnly:
    """Statuses when no event store is consulted (a replay from raw events alone)."""

    def of(self, violation_id: UUID) -> tuple[str, str | None]:
        return DETECTED, None

    def decided(self) -> Iterable[Decided]:
        return ()


class KnownStatuses:
    """Statuses from a list of decided violations (what a status follower has read)."""

    def __init__(self, decided: Iterable[Decided]) -> None:
        self._decided = {d.violation_id: d for d in decided}

    def of(self, violation_id: UUID) -> tuple[str, str | None]:
        found = self._decided.get(violation_id)
        return (DETECTED, None) if found is None else (found.status, found.resolution)

    def decided(self) -> Iterable[Decided]:
        return self._decided.values()


DETECTED_ONLY = DetectedOnly()
