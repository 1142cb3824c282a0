"""Waiting for the servers as a long-running command starts (streams/worker/start_wait.py)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError

from streams.worker import start_wait
from streams.worker.start_wait import GaveUpLines, StartWait, next_wait, postgres_address


class Clock:
    """A clock moved by the waits the code asks for (time.sleep, asyncio.sleep)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(start_wait.time, "sleep", moved.sleep)
    monkeypatch.setattr(start_wait.asyncio, "sleep", moved.asleep)
    return moved


def test_the_waits_double_up_to_the_longest_and_end_at_the_bound() -> None:
    waited = 0.0
    waits: list[float] = []
    while (wait := next_wait(len(waits) + 1, waited, 100)) is not None:
        waits.append(wait)
        waited += wait
    assert waits == [1, 2, 4, 8, 16, 30, 30, 9]
    assert waited == 100


def test_no_wait_with_a_bound_of_zero() -> None:
    assert next_wait(1, 0.0, 0) is None


def test_the_last_wait_is_cut_to_the_bound() -> None:
    assert next_wait(3, 299.5, 300) == 0.5
    assert next_wait(3, 300.0, 300) is None


def test_postgres_address_leaves_the_credentials_out() -> None:
    url = "postgresql://channelflow:secret@db.example:5433/channelflow"
    assert postgres_address(url) == "db.example:5433/channelflow"
    assert postgres_address("postgresql://u:p@db/x") == "db:5432/x"


def refused(times: int, then: Any = "opened") -> Any:
    calls = []

    def attempt() -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise psycopg.OperationalError("connection failed: Connection refused")
        return then

    return attempt


def test_postgres_is_tried_again_until_it_answers(clock: Clock, caplog) -> None:
    caplog.set_level(logging.WARNING)
    wait = StartWait(300, clock)
    assert wait.postgres("postgresql://u:pw@db:5433/x", refused(3)) == "opened"
    assert clock.waits == [1, 2, 4]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("waiting for PostgreSQL at db:5433/x (CHANNELFLOW_EVENTSTORE_URL)")
    assert "connection failed: Connection refused; next try in 1 s" in lines[0]
    assert "pw" not in "".join(lines)
    assert wait.gave_up is None


def test_postgres_gives_up_at_the_bound_with_the_last_failure(clock: Clock) -> None:
    wait = StartWait(5, clock)
    with pytest.raises(psycopg.OperationalError):
        wait.postgres("postgresql://db/x", refused(100))
    assert clock.waits == [1, 2, 2]
    assert isinstance(wait.gave_up, psycopg.OperationalError)


@pytest.mark.parametrize(
    "answer",
    [  # as libpq words them (no SQLSTATE): the settings are wrong, no wait mends them
        'FATAL:  password authentication failed for user "channelflow"',
        'FATAL:  database "nope" does not exist',
        'FATAL:  no pg_hba.conf entry for host "10.0.0.9", user "u", database "x"',
    ],
)
def test_a_server_refusing_the_settings_is_not_waited_for(clock: Clock, answer: str) -> None:
    def attempt() -> None:
        raise psycopg.OperationalError(f'connection to server at "db", port 5432 failed: {answer}')

    wait = StartWait(300, clock)
    with pytest.raises(psycopg.OperationalError, match=answer.split(":  ")[1]):
        wait.postgres("postgresql://db/x", attempt)
    assert clock.waits == []
    assert isinstance(wait.gave_up, psycopg.OperationalError)  # the command's one-line error


def test_a_server_starting_up_is_waited_for(clock: Clock) -> None:
    answers = iter(["FATAL:  the database system is starting up"])

    def attempt() -> str:
        for answer in answers:
            raise psycopg.OperationalError(answer)
        return "opened"

    assert StartWait(300, clock).postgres("postgresql://db/x", attempt) == "opened"
    assert clock.waits == [1]


def test_zero_fails_at_once(clock: Clock) -> None:
    with pytest.raises(psycopg.OperationalError):
        StartWait(0, clock).postgres("postgresql://db/x", refused(1))
    assert clock.waits == []


def test_other_errors_are_not_waited_for(clock: Clock) -> None:
    def broken() -> None:
        raise psycopg.ProgrammingError("syntax error")

    with pytest.raises(psycopg.ProgrammingError):
        StartWait(300, clock).postgres("postgresql://db/x", broken)
    assert clock.waits == []


def test_once_started_a_failure_is_not_waited_for(clock: Clock) -> None:
    wait = StartWait(300, clock)
    wait.done()
    with pytest.raises(psycopg.OperationalError):
        wait.postgres("postgresql://db/x", refused(1))
    assert clock.waits == []
    assert wait.gave_up is None  # not the command's error: it had started


def test_kafka_clients_bootstrap_again_while_the_block_runs(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries = []

    async def bootstrap(client: AIOKafkaClient) -> None:
        tries.append(1)
        if len(tries) <= 2:
            raise KafkaConnectionError("Unable to bootstrap from [('k1', 9092, <F: 2>)]")

    async def started() -> None:
        await AIOKafkaClient(bootstrap_servers="k1:9092").bootstrap()

    monkeypatch.setattr(AIOKafkaClient, "bootstrap", bootstrap)
    with StartWait(300, clock).kafka_clients():
        asyncio.run(started())
    assert (len(tries), clock.waits) == (3, [1, 2])
    tries.clear()  # outside the block: as aiokafka does
    with pytest.raises(KafkaConnectionError):
        asyncio.run(started())
    assert len(tries) == 1


def test_the_line_of_the_failure_given_up_on_is_dropped(clock: Clock) -> None:
    wait = StartWait(0, clock)
    lines = GaveUpLines(wait)
    try:
        raise KafkaConnectionError("Unable to bootstrap")
    except KafkaConnectionError as exc:
        failure = exc
        record = logging.LogRecord("faust.worker", logging.ERROR, "", 0, "Error", (), (
            type(exc), exc, exc.__traceback__))  # fmt: skip
    assert lines.filter(record)  # not given up on (yet): a crash like any
    wait.gave_up = failure
    assert not lines.filter(record)
    other = logging.LogRecord("faust.worker", logging.ERROR, "", 0, "Error", (), None)
    assert lines.filter(other)


def test_clients_failing_together_say_it_once(clock: Clock, caplog) -> None:
    caplog.set_level(logging.WARNING)
    wait = StartWait(300, clock)
    failure = KafkaConnectionError("Unable to bootstrap from [k1:9092]")
    for tries in (1, 1, 2, 2):  # a producer and a consumer, side by side
        wait.retry_in("Kafka", "k1:9092", "CHANNELFLOW_KAFKA_BOOTSTRAP", failure, tries)
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(";")[1] for line in lines] == [
        " next try in 1 s, giving up 300 s after the start (CHANNELFLOW_START_WAIT_SECONDS)",
        " next try in 2 s, giving up 300 s after the start (CHANNELFLOW_START_WAIT_SECONDS)",
    ]
