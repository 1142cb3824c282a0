"""Source positions: how a state value knows which input it has already applied.

Kafka redelivers after a crash or a rebalance. Each state value keeps, per source
(topic:partition), the highest offset it applied; an input at or below it is skipped.
The value and its position travel together in one changelog message, so they never
disagree. Inputs without a position (embedded runner, file replay) are always applied.

A message may carry a bundle of events: line i of the message at offset o is at position
o * LINE_SLOTS + i, so every line has a position of its own, in order, and a message of
one event is at o * LINE_SLOTS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from domain.frozen import quick_init
from schemas.codec import MAX_BUNDLE

#: positions per message: room for the largest bundle
LINE_SLOTS: Final = 1024
assert MAX_BUNDLE <= LINE_SLOTS


@quick_init
@dataclass(frozen=True, slots=True)
class Position:
    source: str  # e.g. "channelflow.sales:3"
    offset: int


def message_position(source: str, offset: int) -> Position:
    """The position of a message's first (or only) event."""
    return Position(source, offset * LINE_SLOTS)


def line_position(message: Position | None, index: int) -> Position | None:
    """The position of a message's `index`-th event."""
    return None if message is None else Position(message.source, message.offset + index)


def advance(applied: dict[str, int], position: Position | None) -> dict[str, int] | None:
    """The applied map after `position`, or None when it was applied already (skip it)."""
    if position is None:
        return applied
    source, offset = position.source, position.offset
    last = applied.get(source)
    if last is not None and offset <= last:
        return None
    return {**applied, source: offset}


def already_applied(applied: dict[str, int], position: Position | None) -> bool:
    if position is None:
        return False
    last = applied.get(position.source)
    return last is not None and position.offset <= last
