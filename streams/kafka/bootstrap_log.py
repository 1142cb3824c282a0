"""aiokafka's line for each bootstrap server it cannot reach, held while a command first
connects.

When no bootstrap server answers, aiokafka logs `Unable connect to "HOST:PORT": ...` at
ERROR for each, then raises `KafkaConnectionError("Unable to bootstrap from [...]")`, which
the command reports as its one line with the setting to check (`streams/cli/support.py`,
`server_problem`): the log lines before it say the same thing again, as a stray ERROR.
Held here, they are dropped when the connection fails that way (or is cancelled because a
client started beside it failed so), and passed on as they were when it succeeds (a
bootstrap list of which one server is down still says which) or fails otherwise. Only
aiokafka's bootstrap line is held; a node lost later is logged as always.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from aiokafka.errors import KafkaConnectionError

#: aiokafka's client logger and its bootstrap line's format (aiokafka/client.py)
AIOKAFKA_LOGGER: Final = "aiokafka"
BOOTSTRAP_LINE: Final = 'Unable connect to "%s:%s": %s'


class _Held(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == BOOTSTRAP_LINE:
            self.records.append(record)
            return False
        return True


@contextmanager
def bootstrap_lines_held() -> Iterator[None]:
    """Hold aiokafka's bootstrap lines while the block connects (see the module)."""
    logger = logging.getLogger(AIOKAFKA_LOGGER)
    held = _Held()
    # first: a block within another's (a bootstrap tried again, streams/worker/start_wait.py)
    # holds its own lines, and drops them when its own try fails
    logger.filters.insert(0, held)
    unreachable = False
    try:
        yield
    except (KafkaConnectionError, asyncio.CancelledError):
        # cancelled: a client started beside it gave up (the command's one line says why)
        unreachable = True
        raise
    finally:
        logger.removeFilter(held)
        if not unreachable:
            for record in held.records:
                logger.handle(record)


def kafka_reason(exc: KafkaConnectionError) -> str:
    """aiokafka's message, its hosts named HOST:PORT (it names them as tuples:
    `('127.0.0.1', 9092, <AddressFamily.AF_INET: 2>)`)."""
    return re.sub(r"\('([^']*)', (\d+), <[^>]*>\)", r"\1:\2", str(exc.args[0] if exc.args else exc))
