"""A batch's dead letters go out once however often the batch is applied
(`streams.kafka.letter_outbox`): an attempt sends only what no attempt before it had
acknowledged, and a letter the broker refused is sent again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.deadletter import DeadLetter
from streams.kafka.letter_outbox import LetterOutbox

AT = datetime(2026, 7, 7, 10, tzinfo=UTC)


def letters(attempt: int) -> list[DeadLetter]:
    """What applying the batch makes, attempt after attempt: the same inputs and reasons,
    recorded at another time."""
    at = AT + timedelta(seconds=attempt)
    return [
        DeadLetter.of(b"{", "invalid_json", "not JSON", "sales", at, 0, 7, "D1"),
        DeadLetter.of(b"[]", "invalid_bundle", "bad", "sales", at, 0, 9, "D1", index=2),
        DeadLetter.of(b"[]", "unknown_sku", "sku", "sales", at, 0, 9, "D1", index=3),
    ]


class Broker:
    """Acknowledges every record, except the ones it is told to refuse."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []
        self.refuse: set[int] = set()  # offsets (in `records`) whose delivery fails
        self.reject_send_at: int | None = None  # the producer itself raises here

    async def send(self, key: bytes, value: bytes) -> Any:
        if self.reject_send_at == len(self.records):
            raise ConnectionError("producer closed")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if len(self.records) in self.refuse:
            future.set_exception(ConnectionError("broker away"))
        else:
            future.set_result(len(self.records))
        self.records.append((key, value))
        return future

    def offsets(self) -> list[tuple[int | None, int | None]]:
        found = [DeadLetter.model_validate_json(value) for _, value in self.records]
        return [(letter.offset, letter.index) for letter in found]


def test_a_batch_applied_again_after_its_letters_went_out_sends_none_again() -> None:
    async def run() -> Broker:
        broker = Broker()
        outbox = LetterOutbox(broker.send)
        assert await outbox.send(letters(1)) == 3
        # the batch fails later (claim caps, the changelog) and is applied again, twice
        assert await outbox.send(letters(2)) == 0
        assert await outbox.send(letters(3)) == 0
        return broker

    assert asyncio.run(run()).offsets() == [(7, None), (9, 2), (9, 3)]


def test_a_refused_letter_is_sent_again_and_only_it() -> None:
    async def run() -> Broker:
        broker = Broker()
        broker.refuse = {1}
        outbox = LetterOutbox(broker.send)
        with pytest.raises(ConnectionError, match="broker away"):
            await outbox.send(letters(1))
        assert await outbox.send(letters(2)) == 1
        return broker

    # the refused record (index 2) is in the log once acknowledged: the second attempt's
    assert asyncio.run(run()).offsets() == [(7, None), (9, 2), (9, 3), (9, 2)]


def test_a_producer_failing_mid_batch_keeps_what_was_acknowledged() -> None:
    async def run() -> Broker:
        broker = Broker()
        broker.reject_send_at = 2
        outbox = LetterOutbox(broker.send)
        with pytest.raises(ConnectionError, match="producer closed"):
            await outbox.send(letters(1))
        broker.reject_send_at = None
        assert await outbox.send(letters(2)) == 1
        return broker

    assert asyncio.run(run()).offsets() == [(7, None), (9, 2), (9, 3)]


def test_another_reason_or_place_is_another_letter() -> None:
    async def run() -> int:
        outbox = LetterOutbox(Broker().send)
        await outbox.send(letters(1))
        other = letters(2)[0]
        moved = other.model_copy(update={"offset": 8})
        reason = other.model_copy(update={"reason": "schema_violation"})
        return await outbox.send([moved, reason, other])

    assert asyncio.run(run()) == 2
