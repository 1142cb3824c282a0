"""Source positions: how a state value knows which input it has already applied.

Kafka redelivers after a crash or a rebalance. Each state value keeps, per source
(topic:partition), the highest offset it applied; an input at or below it is skipped.
The value and its position travel together in one changelog message, so they never
disagree. Inputs without a position (embedded runner, file replay) are always applied.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    source: str  # e.g. "channelflow.sales:3"
    offset: int


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
