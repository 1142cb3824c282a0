"""The decisions relay's throughput beside the raw producer's, and its cost after a long history.

In a fresh PostgreSQL database, each step records violations with one lifecycle step each
(2 audit events a violation) and a new relay publishes what is new, in this one run:

1. **short history**: `--late` violations, then a relay from position 0;
2. **raw producer**: the idempotent producer (acks=all) sends 2 × `--violations` documents of
   the relay's size, keyed, already serialized, and awaits every ack: the floor of publishing;
3. **relay**: `--violations` violations, then a relay (reads the store's log page by page,
   maps every event to its document, publishes, stores the position): beside (2);
4. **after the history**: `--late` more violations and a relay, now after the whole history:
   beside (1), the same work, it shows whether a page costs more once the store is long (it
   should not: pages are read by position).

Figures are printed, never asserted; exit 1 only when something broke.

    python -m bench.decisions_relay [--violations 10000] [--late 2000] [--pg DSN] [--kafka H:P]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.common import (
    DEFAULT_KAFKA,
    fresh_database,
    positive_int,
    progress,
    rate,
    remove_topics,
    revision,
)
from domain.violation import PricingViolation
from infra.decision_log import DecisionSource
from infra.eventstore import AuditLog, open_audit_log
from projections.price_rules import Severity, ViolationDetected, violation_id_for
from schemas.topics import topic_name
from streams.config import Settings
from streams.kafka.io import ensure_topics, start_producer
from streams.runners.decisions_relay import DecisionRelay

DEFAULT_PG = os.environ.get(
    "CHANNELFLOW_TEST_PG_DSN",
    "postgresql://channelflow:channelflow@127.0.0.1:5433/channelflow_test",
)
T0 = datetime(2026, 7, 1, tzinfo=UTC)


def record(audit: AuditLog, first: int, count: int) -> None:
    """`count` violations of ten distributors, each detected and acknowledged."""
    for start in range(first, first + count, 500):
        violations = []
        for n in range(start, min(start + 500, first + count)):
            fact = violation_fact(f"D{n % 10:02d}", f"T-{n}")
            violation = PricingViolation(**dataclasses.asdict(fact))
            violation.acknowledge(
                actor_id="ann", role="admin", at=T0 + timedelta(days=1), reason="bench"
            )
            violations.append(violation)
        audit.save(*violations)


def violation_fact(distributor: str, transaction: str) -> ViolationDetected:
    return ViolationDetected(
        violation_id=violation_id_for(distributor, transaction), distributor_id=distributor,
        transaction_id=transaction, reseller_id="R01", sku="SKU-1", sold_at=T0, quantity=3,
        unit_price=Decimal("12.50"), floor_price=Decimal("15.00"), currency="USD",
        severity=Severity.MAJOR, event_id=uuid.uuid4(), scope="list", price_event_id=uuid.uuid4(),
    )  # fmt: skip


async def raw_producer(settings: Settings, count: int, size: int) -> float:
    """Seconds to send `count` keyed documents of `size` bytes and have every ack."""
    producer = start_producer(settings)
    await producer.start()
    value = b"x" * size
    topic = topic_name(settings.topic_prefix, "rawbaseline")
    try:
        started = time.perf_counter()
        sent = [
            await producer.send(topic, value, key=f"D{n % 10:02d}".encode()) for n in range(count)
        ]
        for delivery in sent:
            await delivery
        return time.perf_counter() - started
    finally:
        await producer.stop()


def relay_seconds(settings: Settings, audit: AuditLog) -> float:
    started = time.perf_counter()
    asyncio.run(DecisionRelay(settings, audit).run(once=True))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.decisions_relay", description=__doc__)
    parser.add_argument("--violations", type=positive_int, default=10_000)
    parser.add_argument("--late", type=positive_int, default=2_000)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--kafka", default=DEFAULT_KAFKA)
    args = parser.parse_args(argv)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    events, late = 2 * args.violations, 2 * args.late
    with fresh_database(args.pg, f"relay{uuid.uuid4().hex[:10]}") as store:
        settings = Settings(kafka_bootstrap=args.kafka, topic_prefix=prefix, eventstore_url=store)
        try:
            asyncio.run(ensure_topics(settings))
            audit = open_audit_log(store)
            progress(f"short history: {late:,} events, relayed")
            record(audit, 0, args.late)
            short = relay_seconds(settings, audit)
            size = len(sample_document(audit))
            progress(f"raw producer: {events:,} documents of {size} bytes")
            raw = asyncio.run(raw_producer(settings, events, size))
            progress(f"relay: {events:,} events")
            record(audit, args.late, args.violations)
            relay = relay_seconds(settings, audit)
            progress(f"after the history: {late:,} more events, relayed")
            record(audit, args.late + args.violations, args.late)
            tail = relay_seconds(settings, audit)
        finally:
            remove_topics(args.kafka, prefix)
    print(f"decisions relay, {revision()}, {events:,} events; {late:,} before and after them")
    print(f"  raw idempotent producer    {rate(events, raw):>10,.0f} documents/s")
    print(f"  relay                      {rate(events, relay):>10,.0f} events/s"
          f"   {raw / relay:.2f} × raw")  # fmt: skip
    print(f"  relay, short history       {rate(late, short):>10,.0f} events/s")
    print(f"  relay, after the history   {rate(late, tail):>10,.0f} events/s"
          f"   {short / tail:.2f} × short history")  # fmt: skip
    return 0


def sample_document(audit: AuditLog) -> bytes:
    """One document as the relay publishes it (for the baseline's message size)."""
    (document, *_) = DecisionSource(audit).page(0, 1).documents
    return document.model_dump_json().encode()


if __name__ == "__main__":
    sys.exit(main())
