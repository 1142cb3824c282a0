"""What /health says: each dependency, and the background jobs that are failing.

A worker keeps answering while PostgreSQL or Kafka is away (its batches wait and retry,
ingest keeps publishing), so /health is where an operator sees which one is down: the
event store is asked on the spot (with a short timeout), Kafka through the jobs that
use it, and every job that failed last time says why.
"""

from __future__ import annotations

import asyncio
from typing import Any

from infra.eventstore import AuditLog

#: how long /health waits for the event store before calling it down
PING_SECONDS = 2.0


class Health:
    def __init__(self, audit: AuditLog | None) -> None:
        self.audit = audit
        #: job -> why it failed last time (jobs that succeeded since are not listed)
        self.failing: dict[str, str] = {}

    def failed(self, job: str, exc: BaseException) -> None:
        self.failing[job] = f"{type(exc).__name__}: {exc}"[:500]

    def recovered(self, job: str) -> None:
        self.failing.pop(job, None)

    async def report(self) -> dict[str, Any]:
        dependencies: dict[str, str] = {}
        if self.audit is not None:
            dependencies["event_store"] = await self._event_store()
        if "kafka" in self.failing:
            dependencies["kafka"] = f"down: {self.failing['kafka']}"
        degraded = bool(self.failing) or any(v != "up" for v in dependencies.values())
        return {
            "status": "degraded" if degraded else "ok",
            "dependencies": dependencies,
            "failing": dict(sorted(self.failing.items())),
        }

    async def _event_store(self) -> str:
        audit = self.audit
        assert audit is not None
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.run_in_executor(None, audit.recorder.max_notification_id), PING_SECONDS
            )
        except TimeoutError:
            return f"down: no answer within {PING_SECONDS:g} s"
        except Exception as exc:  # any failure to answer is "down", with what it said
            return f"down: {type(exc).__name__}: {exc}"[:300]
        return "up"
