"""/health shows a worker's reference replica progress; the embedded runner has none."""

from __future__ import annotations

import asyncio

from streams.health import Health


def test_the_reference_replica_progress_is_reported_when_there_is_one():
    progress = {"loaded": True, "lag_records": 3}
    report = asyncio.run(Health(None, None, lambda: progress).report())
    assert report["reference"] == progress
    assert "reference" not in asyncio.run(Health(None).report())
