"""The worker's consumer reads committed records only.

A distributor may write the raw topics with a transactional producer (docs/INGEST.md,
"Transactional producers"); an aborted transaction's records were never meant to be sent,
and the auditor's replay does not read them (streams/runners/kafka_replay.py). faust reads
committed only when it runs transactions itself (processing_guarantee "exactly_once", which
the worker does not use), so its aiokafka consumer is given the isolation level here: it
takes effect when the consumer starts (its fetcher and offset requests are made then). The
high watermarks it then reports (`end_offsets`, `last_stable_offset`) are the last stable
offsets: where a committed reader's input ends.

faust's commit drops the offsets of partitions no longer assigned and hands aiokafka the
rest; when a rebalance has just taken every one of them away, that is nothing, which
aiokafka refuses (`ValueError({})`), and faust crashes the worker on it (seen on the
survivor of a rebalance probe, bench/order_probe.py). Nothing to commit is not committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_kafka
from faust.types import TP

ISOLATION_LEVEL = "read_committed"


class CommittedConsumerThread(faust_kafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._isolation_level = ISOLATION_LEVEL  # no faust setting reaches it
        return consumer

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        assigned = self.assignment()
        if not any(tp in assigned for tp in offsets):  # a rebalance took them all away
            return False
        return bool(await super()._commit(offsets))


class CommittedConsumer(faust_kafka.Consumer):
    def _new_consumer_thread(self) -> faust_kafka.AIOKafkaConsumerThread:
        return CommittedConsumerThread(self, loop=self.loop, beacon=self.beacon)


def read_committed(app: faust.App) -> None:
    """Make the app's consumer (created on first use) read committed records only."""
    app.transport.Consumer = CommittedConsumer  # type: ignore[misc]
