"""`channelflow ingest FILE` straight to Kafka with its check on two processes and on one:
the same answers and the same events on the raw topics, in the same order."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.codec import encode_event
from streams.config import Settings
from streams.kafka.io import delete_topics
from streams.runners.kafka_replay import raw_history
from tests.integration.conftest import isolated_settings
from tests.integration.test_ingest_kafka import cli
from tests.unit.api.ingest_api import catalog
from tests.unit.api.test_ingest_parallel import HEADER, lines

pytestmark = pytest.mark.kafka

#: about 1.5 MB: over the size from which the check is spread over processes
COUNT = 18_000
#: set by the gateway at receipt, so different in two uploads of the same file
RECEIPT_TIMES = ("recorded_at", "occurred_at", "submitted_at")
#: the time of receipt in a future date's detail
RECEIPT_IN_DETAIL = re.compile(rb"recorded \(\d{4}-[0-9T:.+Z-]+\)")


def without_receipt(data: bytes) -> Any:
    """JSON with the time of receipt left out of the details that name it."""
    return orjson.loads(RECEIPT_IN_DETAIL.sub(b"recorded (then)", data))


@pytest.fixture
def other_settings(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Settings]:
    isolated = isolated_settings(kafka_bootstrap, tmp_path / "other")
    yield isolated
    asyncio.run(delete_topics(kafka_bootstrap, isolated.topic_prefix))


def published(settings: Settings) -> list[tuple[str, int | None, dict[str, Any]]]:
    """Every event on the raw topics, per topic and partition in order (bundles opened),
    its times of receipt left out."""

    async def read() -> list[tuple[str, int | None, dict[str, Any]]]:
        found = []
        async for item in raw_history(settings):
            value = without_receipt(item.raw)
            for event in value if isinstance(value, list) else [value]:
                receipt = event["event_type"] in ("ReportSubmitted", "LineRejected")
                left_out = RECEIPT_TIMES if receipt else ("recorded_at",)
                kept = {k: v for k, v in event.items() if k not in left_out}
                if "original_b64" in kept:  # a valid line's event as read, received then
                    original = base64.b64decode(kept.pop("original_b64"))
                    kept["original"] = re.sub(rb'"recorded_at":"[^"]*"', b"", original)
                found.append(
                    (item.source.removeprefix(settings.topic_prefix), item.partition, kept)
                )
        # partitions are merged by broker time, which differs between runs: each on its own
        return sorted(found, key=lambda found: (found[0], found[1] or 0))

    return asyncio.run(read())


def test_a_csv_checked_on_two_processes_publishes_what_one_process_does(
    settings: Settings, other_settings: Settings, tmp_path: Path
) -> None:
    products = tmp_path / "catalog.json"
    products.write_bytes(
        orjson.dumps([orjson.loads(encode_event(product)) for product in catalog()])
    )
    report = tmp_path / "w.csv"
    report.write_bytes(("\n".join([HEADER, *lines(count=COUNT)]) + "\n").encode())
    assert report.stat().st_size > 1024 * 1024
    answers = []
    for where, processes in ((settings, "1"), (other_settings, "2")):
        loaded = cli(where, "ingest", str(products))
        assert loaded.returncode == 0, loaded.stderr
        done = cli(where, "ingest", str(report), "--json", "--check-processes", processes)
        assert done.returncode == 1, done.stderr  # lines rejected, duplicates, conflicts
        answer = without_receipt(done.stdout)
        answer.pop("received_at")
        answers.append(answer)
    assert answers[0] == answers[1]
    summary = answers[0]["summary"]
    assert summary["duplicate"] > 50 and summary["conflict"] > 50, summary
    assert summary["rejected_by_reason"]["unknown_sku"] > 50, summary
    alone = published(settings)
    assert len(alone) == summary["published"] + 2  # and the catalog's two products
    assert published(other_settings) == alone
