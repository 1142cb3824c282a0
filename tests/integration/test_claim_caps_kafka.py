"""A cap two distributors share, through Kafka and a worker on PostgreSQL (docs/CLAIMS.md,
"The cap, in a worker"): the distributors' keys in different partitions, so each line's
units go through the `claim-caps` ledger and its grant comes back on `claim-grants`;
a worker killed while a request is in flight loses and grants twice nothing, and the
worker's snapshot equals the replay's, which reads the logs as recorded (in one process
and in jobs); each grant carries the number of the request it answers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from schemas.topics import CLAIM_CAPS_TOPIC, CLAIM_GRANTS_TOPIC, topic_name
from streams.kafka.io import kafka_partition_of
from tests.integration.conftest import wait_until
from tests.integration.helpers import catalog, matches_replay, publish, publish_reference_first
from tests.integration.test_claims_kafka import SKU, book, claim, deal, line, lines_of, sale
from tests.integration.test_decisions_relay import read_keyed
from tests.integration.test_parallel_replay_kafka import assert_alike, replay

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def apart(partitions: int) -> tuple[str, str]:
    """Two distributor ids whose keys land on different partitions."""
    first = f"D-{uuid.uuid4().hex[:8]}"
    home = kafka_partition_of(first, partitions)
    while True:
        second = f"D-{uuid.uuid4().hex[:8]}"
        if kafka_partition_of(second, partitions) != home:
            return first, second


def decision(worker: Any, distributor: str, claim_id: str) -> Any:
    """The line's decision, once it is final: the claims and POS topics are read side by
    side, so a claim may meet its sale's partition before the sale and wait for it
    (`pending_pos`, decided again when the sale arrives)."""
    row = lines_of(worker, distributor).get((claim_id, 1))
    if row is None or row["status"] in ("waiting", "pending_pos"):
        return None
    return row["status"], row["reasons"], row["quantity_accepted"]


def shared_deal(settings: Any, worker: Any) -> tuple[str, str, str]:
    """Two distributors on different partitions, (a, b), and the deal they share (cap 100),
    known to the worker."""
    a, b = apart(settings.partitions)
    shared = f"SPA-{uuid.uuid4().hex[:8]}"
    publish_reference_first(settings, worker, [*catalog(SKU), book()])
    terms = deal(shared, a, "70.00").model_copy(update={"distributor_ids": [a, b]})
    publish(settings, [terms])
    known = f"/api/authorizations?authorization_id={shared}"
    wait_until(lambda: len(worker.get(known)["rows"]) == 2, 60, "the deal known")
    return a, b, shared


def test_a_shared_cap_given_out_across_partitions_and_a_restart(settings, worker_factory, pg_dsn):
    first = worker_factory(eventstore_url=pg_dsn).start()
    a, b, shared = shared_deal(settings, first)
    publish(settings, [sale(a, "T1", 70), sale(a, "T2", 10), sale(b, "T1", 50)])

    publish(settings, [claim(a, "C1", line(1, "T1", 70, shared))])
    found = wait_until(lambda: decision(first, a, "C1"), 90, "A's 70 decided")
    assert found == ("accepted", [], 70)

    publish(settings, [claim(b, "C2", line(1, "T1", 50, shared))])
    first.kill()  # while B's request may be on its way: nothing lost, nothing twice
    second = worker_factory(eventstore_url=pg_dsn).start()
    found = wait_until(lambda: decision(second, b, "C2"), 120, "B's 50 decided")
    assert found == ("adjusted", ["cap_partial"], 30)

    publish(settings, [claim(a, "C3", line(1, "T2", 10, shared))])
    found = wait_until(lambda: decision(second, a, "C3"), 90, "A's 10 more decided")
    assert found == ("rejected", ["cap_exhausted"], 0)

    # each line's units went through the ledger's log, and came back to its distributor
    caps = read_keyed(settings, topic_name(settings.topic_prefix, CLAIM_CAPS_TOPIC), 3)
    asked = {tuple(m["request"]["ref"][:2]) for _, m in caps if "request" in m}
    assert {key for key, _ in caps} == {shared}
    assert asked == {(a, "C1"), (b, "C2"), (a, "C3")}
    grants = read_keyed(settings, topic_name(settings.topic_prefix, CLAIM_GRANTS_TOPIC), 3)
    assert {(key, m["granted"]) for key, m in grants} == {(a, 70), (b, 30), (a, 0)}
    # each grant answers a request by its number (a line takes only the one it waits for)
    numbered = {(str(m["request"]["ref"]), m["request"]["seq"]) for _, m in caps if "request" in m}
    assert {(str(m["ref"]), m["seq"]) for _, m in grants} <= numbered
    assert all(isinstance(seq, int) for _, seq in numbered)

    matches_replay(settings, second)  # the claims section included
    assert_alike(replay(settings, 2), replay(settings, 1))  # jobs: the partitions' logs


def test_a_claim_before_its_sales_waits_for_them_then_takes_from_the_shared_cap(
    settings, worker_factory, pg_dsn
):
    """The other order on purpose: a claim read before the sales it names waits for them
    (`pending_pos`) and, when they come, is decided through the shared cap as if they had
    come first; the replay, reading the topics in the order they were recorded, agrees."""
    worker = worker_factory(eventstore_url=pg_dsn).start()
    a, b, shared = shared_deal(settings, worker)

    publish(settings, [claim(a, "C1", line(1, "T1", 70, shared))])
    waiting = wait_until(lambda: lines_of(worker, a).get(("C1", 1)), 60, "C1 read")
    assert (waiting["status"], waiting["reasons"]) == ("pending_pos", ["pending_pos"])

    publish(settings, [sale(a, "T1", 70), sale(b, "T1", 50)])
    found = wait_until(lambda: decision(worker, a, "C1"), 90, "C1 decided")
    assert found == ("accepted", [], 70)
    publish(settings, [claim(b, "C2", line(1, "T1", 50, shared))])
    found = wait_until(lambda: decision(worker, b, "C2"), 90, "C2 decided")
    assert found == ("adjusted", ["cap_partial"], 30)
    matches_replay(settings, worker)
