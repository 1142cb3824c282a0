"""Events ready for their raw topic, and the publishing callback every runner provides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from schemas.codec import encode_event
from schemas.events import Envelope
from schemas.topics import KEY_FIELD, TOPIC_OF


@dataclass(frozen=True, slots=True)
class Message:
    """One event as it goes on the wire: logical topic ("sales"), key and JSON value."""

    topic: str
    key: bytes
    value: bytes
    event_type: str


def message_of(event: Envelope) -> Message:
    key = str(getattr(event, KEY_FIELD[event.event_type]))
    return Message(TOPIC_OF[event.event_type], key.encode(), encode_event(event), event.event_type)


#: Publishes messages in order and returns once the broker (or the runner) has them all.
Publish = Callable[[Sequence[Message]], Awaitable[None]]
