"""Which raw inputs a known-at replay reads: those the system had recorded by that moment.

`recorded_at` is the system's own time (docs/DESIGN.md, "Time"): a Kafka message's is the
broker's append time, whatever its producer wrote; a file line's is its events' own
`recorded_at`, or their business time when they carry none. A message is applied whole or
not at all (a bundle is never split), so a file line bundling events recorded at
different times counts as recorded when its latest one was. A line whose recorded time
cannot be read (not JSON, no valid event) is kept, so that its dead letter shows as in a
full replay (it changes no figure). Every replay path (one process or jobs, Kafka or a file, and
`simulate`) asks `is_known`.
"""

from __future__ import annotations

from datetime import datetime

from schemas.codec import InvalidEvent, event_of, message_values


def is_known(recorded_at: datetime | None, known_at: datetime | None) -> bool:
    """Whether an input recorded at `recorded_at` was known at `known_at` (None: no cut)."""
    return known_at is None or recorded_at is None or recorded_at <= known_at


def line_recorded_at(raw: bytes) -> datetime | None:
    """When the system recorded a file line: the latest recorded time of its events (each
    one's `recorded_at`, else its business time); None when no event can be read."""
    try:
        values, _ = message_values(raw)
    except InvalidEvent:
        return None
    latest = None
    for value in values:
        recorded = _stated_recorded_at(value)
        if recorded is None:
            try:
                event = event_of(value)
            except InvalidEvent:
                continue
            recorded = event.recorded_at or event.business_time
        latest = recorded if latest is None else max(latest, recorded)
    return latest


def _stated_recorded_at(value: object) -> datetime | None:
    """An event's own `recorded_at` read without validating the whole event (the common
    case, and a replay reads every line); None when it has none, or none with a zone."""
    text = value.get("recorded_at") if isinstance(value, dict) else None
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
