"""Events ready for their raw topic, bundled as they go on the wire, and the publishing
callback every runner provides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from domain.frozen import quick_init
from schemas.codec import bundle_bytes, encode_event
from schemas.events import Envelope
from schemas.topics import KEY_FIELD, TOPIC_OF


@quick_init  # one per event published
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


#: events per bundle the publishers send (a report's lines, in order, in one message)
BUNDLE_EVENTS: Final = 500
#: a bundle's size limit, well under the producer's batch and the broker's message limits
BUNDLE_BYTES: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class Bundle:
    """One Kafka message: consecutive messages of one topic and key, in order (a single
    message goes as it is, a JSON object; several as a JSON array of them)."""

    topic: str
    key: bytes
    members: tuple[Message, ...]

    @property
    def value(self) -> bytes:
        if len(self.members) == 1:
            return self.members[0].value
        return bundle_bytes([m.value for m in self.members])


def bundled(messages: Iterable[Message], most: int = BUNDLE_EVENTS) -> Iterator[Bundle]:
    """The messages as bundles, in order: a run of one topic and key goes in one message,
    up to `most` events and BUNDLE_BYTES. Order is kept within each partition, since a
    key always lands on the same one."""
    run: list[Message] = []
    size = 0
    for message in messages:
        if run and (
            (message.topic, message.key) != (run[0].topic, run[0].key)
            or len(run) >= most
            or size + len(message.value) > BUNDLE_BYTES
        ):
            yield Bundle(run[0].topic, run[0].key, tuple(run))
            run, size = [], 0
        run.append(message)
        size += len(message.value) + 1
    if run:
        yield Bundle(run[0].topic, run[0].key, tuple(run))
