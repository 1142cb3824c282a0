"""Time you can trust: "now" is the latest time the system recorded an input at.

Business dates (sold_at, shipped_at, ...) come from distributors: they are evidence, not
a clock, and a distributor that sends a sale dated 2062 must not move anyone's "now".
`recorded_at` is set by the system (the broker's append time on Kafka, the gateway's
receive time), so the clock is the latest recorded_at applied, kept per source partition
("topic:partition"; "" for inputs from a file or the embedded runner). A replay of the
same inputs reaches the same clock; an as-of replay sets "now" itself. The clock of one
source partition also tells how far it has been read in recorded time: appends are in
order, so everything recorded before it has been applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from projections.keyvalue import KeyValue
from projections.positions import Position


@dataclass(frozen=True, slots=True)
class Clock:
    """A maximum: applying the same input twice changes nothing, so it needs no position."""

    recorded: datetime

    def to_json(self) -> str:
        return self.recorded.isoformat()

    @classmethod
    def from_json(cls, data: str) -> Clock:
        return cls(datetime.fromisoformat(data))


def clock_key(position: Position | None) -> str:
    """One clock per source partition ("topic:partition")."""
    return "" if position is None else position.source


def tick(clocks: KeyValue[Clock], recorded: datetime, position: Position | None) -> None:
    """Advance the clock of the input's partition to `recorded` (it never goes back)."""
    key = clock_key(position)
    known = clocks.get(key)
    if known is None or recorded > known.recorded:
        clocks.put(key, Clock(recorded))


def recorded_now(clocks: KeyValue[Clock]) -> datetime | None:
    """The latest recorded time over the partitions held here (None before any input)."""
    return max((clock.recorded for clock in clocks.values()), default=None)
