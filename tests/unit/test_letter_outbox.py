"""A batch's dead letters go out once however often the batch is applied
(`streams.kafka.letter_outbox`): an attempt sends only what no attempt before it had
acknowledged, and a letter the broker refused is sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from domain.business_time import TimeRules
from projections.stores import ChannelStores
from schemas.deadletter import DeadLetter
from streams.health import Health
from streams.kafka.letter_outbox import LetterOutbox
from streams.runners.processing import Input
from streams.worker.app import ChannelWorker

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


class FailingOnce(ChannelStores):
    """A worker's stores whose first commit fails (Kafka away for the changelog, after the
    dead letters went out), in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.commits = 0

    def route_to(self, item: Input) -> None:
        pass

    def is_stored(self, item: Input) -> bool:
        return False

    async def commit(self, inputs: Sequence[Input]) -> int:
        self.commits += 1
        if self.commits == 1:
            raise ConnectionError("the changelog's broker went away")
        return len(inputs)

    def discard(self) -> None:
        pass


class Topic:
    def __init__(self) -> None:
        self.records: list[bytes] = []

    async def send(self, key: bytes, value: bytes) -> Any:
        self.records.append(value)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def get_topic_name(self) -> str:
        return "t.deadletters"


class Worker:
    """What `ChannelWorker`'s batch path uses, its own methods for the batch (apply, send
    the dead letters through one outbox, store: retried until stored)."""

    apply_durably = ChannelWorker.apply_durably
    stored = ChannelWorker.stored
    send_dead_letters = ChannelWorker.send_dead_letters
    letter_outbox = ChannelWorker.letter_outbox

    def __init__(self) -> None:
        self.stores = FailingOnce()
        self.dead_letter_topic = Topic()
        self.rules, self.rebalances, self.batches_stored = TimeRules(), 0, 0
        self.internal: dict[str, Any] = {}
        self.health = Health(None)
        self.applying = asyncio.Lock()
        self.settings = SimpleNamespace(retry_max_seconds=0.01)

    def steady(self) -> bool:
        return True

    async def send_cap_messages(self) -> None:
        pass


def test_the_worker_sends_a_batch_s_dead_letters_once_when_its_changelog_fails() -> None:
    """The worker's own batch path: the dead letters acknowledged, the commit fails, the
    batch is applied again and stored: the topic has each letter once (it had two)."""
    worker = Worker()
    inputs = [Input(b"{not json", "D1", "t.sales", 0, 7), Input(b"[]", "D1", "t.sales", 0, 8)]
    runs: Any = worker  # ChannelWorker's methods, on what they use of it
    assert asyncio.run(runs.apply_durably(inputs, 0))
    assert worker.stores.commits == 2 and worker.batches_stored == 1
    sent = [DeadLetter.model_validate_json(r) for r in worker.dead_letter_topic.records]
    assert sorted((letter.offset, letter.reason) for letter in sent) == [
        (7, "invalid_json"), (8, "invalid_bundle"),
    ]  # fmt: skip
