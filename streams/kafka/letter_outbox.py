"""A batch's dead letters on their way to the dead-letter topic, each sent once for all the
times the batch is applied.

A batch that cannot be stored (the event store or Kafka away after its dead letters went
out) is discarded and applied again, which makes the same dead letters again (the same
input, reason and place; only their `recorded_at` differs). The outbox lives as long as the
batch's attempts and remembers which letters the broker acknowledged, so an attempt sends
only those no attempt before it had acknowledged: a reader of the topic sees each input's
dead letter once, as the counts (`projections.rejections`) count it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from schemas.deadletter import DeadLetter

#: a letter's identity: what it was made of, not when (see `letter_id`)
LetterId = tuple[str, int | None, int | None, int | None, str]

#: sends one record (key, value) to the dead-letter topic; the awaitable it returns is done
#: when the broker has acknowledged it
SendLetter = Callable[[bytes, bytes], Awaitable[Awaitable[Any]]]


def letter_id(letter: DeadLetter) -> LetterId:
    """The same input dead-lettered again for the same reason has the same id: its source,
    place (partition, offset, index in its bundle) and reason."""
    return letter.source, letter.partition, letter.offset, letter.index, letter.reason


class LetterOutbox:
    """One batch's dead letters: those acknowledged by the broker in any attempt so far."""

    def __init__(self, send: SendLetter) -> None:
        self._send = send
        self.acknowledged: set[LetterId] = set()

    async def send(self, letters: Sequence[DeadLetter]) -> int:
        """Send the letters no attempt had acknowledged and wait for the broker to
        acknowledge each; returns how many it did. When one fails, those acknowledged are
        remembered all the same, and the failure is raised."""
        sending: dict[LetterId, Awaitable[Any]] = {}
        failure: BaseException | None = None
        for letter in letters:
            ident = letter_id(letter)
            if ident in self.acknowledged or ident in sending:
                continue
            try:
                key = (letter.key or "").encode()
                sending[ident] = await self._send(key, letter.model_dump_json().encode())
            except Exception as exc:  # the producer refused it: wait for those sent
                failure = exc
                break
        results = await asyncio.gather(*sending.values(), return_exceptions=True)
        for ident, result in zip(sending, results, strict=True):
            if isinstance(result, BaseException):
                failure = failure or result
            else:
                self.acknowledged.add(ident)
        if failure is not None:
            raise failure
        return len(sending)
