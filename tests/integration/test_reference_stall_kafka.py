"""A stuck reference replica degrades /health on the real broker (docs/OPERATIONS.md,
"Reference data"): a worker's replica that reads nothing while a batch waits for it, past
`CHANNELFLOW_REFERENCE_STALL_SECONDS`, makes /health `degraded` with its reason in `failing`;
once it reads on, the batch goes and /health is `ok` again."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from projections.stores import ChannelStores
from streams.health import Health
from streams.kafka.io import ensure_topics, publish_events
from streams.kafka.reference import ReferenceReplica
from tests.integration.helpers import catalog

pytestmark = pytest.mark.kafka


def test_a_replica_stuck_behind_degrades_health_until_it_reads_on(settings):
    settings = settings.model_copy(update={"reference_stall_seconds": 0.5})

    async def run() -> None:
        await ensure_topics(settings)
        await publish_events(settings, catalog("SKU-A"))
        replica = ReferenceReplica(settings, ChannelStores())
        health = Health(None, None, replica.progress)
        reducer_hangs = asyncio.Event()  # set: the reducer goes on
        reducer_hangs.set()
        real_apply = replica.apply

        async def apply(batches: Any) -> None:  # a reducer that hangs on what comes next
            if batches:
                await reducer_hangs.wait()
            await real_apply(batches)

        replica.apply = apply  # type: ignore[method-assign]
        task = asyncio.create_task(replica.run())
        try:
            await asyncio.wait_for(replica.ready.wait(), 60)
            assert (await health.report())["status"] == "ok"
            reducer_hangs.clear()
            await publish_events(settings, catalog("SKU-B"))
            batch = asyncio.create_task(replica.caught_up(replica.moment(), lambda: False))
            reports: list[dict[str, Any]] = []
            async with asyncio.timeout(60):  # a bound on the wait, not a timed assertion
                while True:
                    reports.append(await health.report())
                    if reports[-1]["status"] == "degraded":
                        break
                    await asyncio.sleep(0.05)
            stuck = reports[-1]
            assert stuck["reference"]["lag_records"] == 1
            assert "read nothing" in stuck["failing"]["reference_replica"]
            assert "1 records behind" in stuck["failing"]["reference_replica"]
            assert not batch.done()  # the batch waits for the replica all along
            reducer_hangs.set()  # it reads on
            assert await asyncio.wait_for(batch, 60)
            again = await health.report()
            assert again["status"] == "ok" and again["failing"] == {}
            assert again["reference"] == {"loaded": True, "lag_records": 0}
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(run())
