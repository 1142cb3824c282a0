"""aiokafka's bootstrap lines, held while a command connects (streams/kafka/bootstrap_log.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka.errors import KafkaConnectionError

from streams.kafka.bootstrap_log import AIOKAFKA_LOGGER, BOOTSTRAP_LINE, bootstrap_lines_held

aiokafka_log = logging.getLogger(AIOKAFKA_LOGGER)


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_dropped_when_the_bootstrap_fails_as_a_whole(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(KafkaConnectionError), bootstrap_lines_held():
        aiokafka_log.error(BOOTSTRAP_LINE, "127.0.0.1", 1, "refused")
        aiokafka_log.warning("something else")  # never held
        raise KafkaConnectionError("Unable to bootstrap from [127.0.0.1:1]")
    assert _said(caplog) == ["something else"]
    assert not aiokafka_log.filters


def test_passed_on_when_another_server_answered(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with bootstrap_lines_held():
        aiokafka_log.error(BOOTSTRAP_LINE, "127.0.0.1", 1, "refused")
        assert _said(caplog) == []
    assert _said(caplog) == ['Unable connect to "127.0.0.1:1": refused']
    aiokafka_log.error(BOOTSTRAP_LINE, "127.0.0.1", 2, "refused")  # outside: as always
    assert len(caplog.records) == 2


def test_passed_on_when_the_start_fails_otherwise(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(RuntimeError), bootstrap_lines_held():
        aiokafka_log.error(BOOTSTRAP_LINE, "127.0.0.1", 1, "refused")
        raise RuntimeError("no")
    assert _said(caplog) == ['Unable connect to "127.0.0.1:1": refused']


def test_a_failed_try_within_a_held_start_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    """A bootstrap tried again as a command starts (streams/worker/start_wait.py): the lines of the
    failed try go with it, though the start around it succeeds."""
    caplog.set_level(logging.INFO)
    with bootstrap_lines_held():
        with pytest.raises(KafkaConnectionError), bootstrap_lines_held():
            aiokafka_log.error(BOOTSTRAP_LINE, "127.0.0.1", 1, "refused")
            raise KafkaConnectionError("Unable to bootstrap from [127.0.0.1:1]")
        with bootstrap_lines_held():  # the next try succeeds
            pass
    assert _said(caplog) == []
    assert not aiokafka_log.filters


def test_dropped_when_the_start_is_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    """A client started beside one that gave up is cancelled (`channelflow api`: the replica's
    consumers, the publisher): its lines say again what the command's one line says."""
    caplog.set_level(logging.INFO)
    with pytest.raises(asyncio.CancelledError), bootstrap_lines_held():
        aiokafka_log.error(BOOTSTRAP_LINE, "127.0.0.1", 1, "refused")
        raise asyncio.CancelledError
    assert _said(caplog) == []
