"""/health shows a worker's reference replica progress, degraded when the replica is stuck
(behind, reading nothing, past `CHANNELFLOW_REFERENCE_STALL_SECONDS`); the embedded runner has
none."""

from __future__ import annotations

import asyncio
import time

from aiokafka import TopicPartition

from projections.stores import ChannelStores
from streams.config import Settings
from streams.health import Health
from streams.kafka.reference import ReferenceReplica
from streams.kafka.sync_points import StallWatch


def test_the_reference_replica_progress_is_reported_when_there_is_one():
    progress = {"loaded": True, "lag_records": 3}
    report = asyncio.run(Health(None, None, lambda: progress).report())
    assert report["reference"] == progress
    assert "reference" not in asyncio.run(Health(None).report())


def test_a_stuck_reference_replica_degrades_health_with_its_reason():
    stuck = {"loaded": True, "lag_records": 40, "stalled": "read nothing for 75 s"}
    report = asyncio.run(Health(None, None, lambda: stuck).report())
    assert report["status"] == "degraded"
    assert report["failing"] == {"reference_replica": "read nothing for 75 s"}
    behind = {"loaded": True, "lag_records": 40}  # behind, reading on: not degraded
    assert asyncio.run(Health(None, None, lambda: behind).report())["status"] == "ok"


def test_the_stall_watch_counts_from_the_last_record_read_while_behind():
    watch = StallWatch(patience=60.0)
    watch.seen(read=100, behind=0, now=0.0)
    assert watch.stuck_for(1000.0) is None  # not behind: never stuck
    watch.seen(read=100, behind=5, now=1000.0)  # a batch waits: behind from here
    watch.seen(read=100, behind=5, now=1059.0)
    assert watch.stuck_for(1059.0) is None
    assert watch.stuck_for(1060.0) == 60.0
    watch.seen(read=103, behind=2, now=1070.0)  # it read: counts again from here
    assert watch.stuck_for(1100.0) is None
    assert watch.stuck_for(1130.0) == 60.0
    watch.seen(read=105, behind=0, now=1131.0)  # caught up
    watch.seen(read=105, behind=9, now=2000.0)  # behind again, long after: not stuck yet
    assert watch.stuck_for(2001.0) is None


def test_the_replica_reports_itself_stalled_once_behind_past_its_patience():
    replica = ReferenceReplica(
        Settings(kafka_bootstrap="127.0.0.1:1", reference_stall_seconds=0.01), ChannelStores()
    )
    ends = {TopicPartition("t.prices", 0): 10}
    replica.sync.answered(replica.sync.issue(), ends)
    replica.positions = {TopicPartition("t.prices", 0): 4}
    first = replica.progress()
    assert first == {"loaded": False, "lag_records": 6}
    time.sleep(0.02)  # past the patience of 0.01 s, with no record read
    later = replica.progress()
    assert "6 records behind" in later["stalled"]
    replica.positions = {TopicPartition("t.prices", 0): 10}  # read to the end
    assert "stalled" not in replica.progress()
