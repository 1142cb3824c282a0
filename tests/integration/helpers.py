"""Shared steps of the integration tests: publish, compute the expected snapshot, compare."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

import orjson
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from schemas.envelope import Source
from schemas.events import (
    Envelope,
    InventoryCounted,
    PriceChanged,
    ProductDefined,
    ResellerRegistered,
    SaleReported,
    ShipmentRecorded,
)
from streams.config import Settings
from streams.generator import generate_channel
from streams.kafka.io import ensure_topics, publish_events
from streams.kafka.messages import BUNDLE_EVENTS
from streams.runners.embedded import EmbeddedChannel
from streams.runners.kafka_replay import replay_into
from tests.integration.conftest import REPO, WorkerProcess, wait_until


def publish(settings: Settings, events: Sequence[Envelope], bundle: int = BUNDLE_EVENTS) -> int:
    """Publish events to their raw topics, in bundles of up to `bundle` (1: one a message)."""

    async def run() -> int:
        await ensure_topics(settings)
        return await publish_events(settings, events, bundle)

    return asyncio.run(run())


def stored_events(dsn: str, aggregate_id: uuid.UUID) -> int:
    """How many events the audit event store in PostgreSQL holds for one aggregate."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM channelflow_audit_events WHERE originator_id = %s",
            (aggregate_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def letter_counts(worker: WorkerProcess) -> dict[str, int]:
    """The worker's dead-letter counts by reason (every distributor's)."""
    return {row["reason"]: row["count"] for row in worker.get("/api/dead-letters")["rows"]}


def is_reference(event: Envelope) -> bool:
    return isinstance(event, ProductDefined | PriceChanged | ResellerRegistered)


def counts_first_by_day(events: Sequence[Envelope]) -> list[list[Envelope]]:
    """The movements (the reference data left out) by business day, each day's counts
    first: the broker's times interleave the topics, and a worker reading them a topic at a
    time would not. The counts go first so that the day's earlier sales and shipments reach
    the broker after them and are late by the broker's order alone (in the generator's own
    order none is)."""
    moves = sorted((e for e in events if not is_reference(e)), key=lambda e: e.occurred_at)
    return [
        sorted(day, key=lambda e: not isinstance(e, InventoryCounted))
        for _, day in groupby(moves, key=lambda e: e.occurred_at.date())
    ]


def publish_reference_first(
    settings: Settings, worker: WorkerProcess, events: Sequence[Envelope]
) -> None:
    """Publish the catalog, prices and reseller masters, wait until the worker knows them,
    then the rest.

    Reference data must be known before the lines that use it (docs/DESIGN.md, "Order of
    arrival"): a sale of an SKU the catalog has not seen yet is rightly rejected as
    unknown_sku.
    """
    reference = [e for e in events if is_reference(e)]
    products = {e.sku for e in reference if isinstance(e, ProductDefined)}
    masters = {e.master_id for e in reference if isinstance(e, ResellerRegistered)}
    publish(settings, reference)
    wait_until(
        lambda: {row["sku"] for row in worker.get("/api/products")["rows"]} >= products,
        60,
        "the worker to know the catalog",
    )
    if masters:
        wait_until(
            lambda: (
                {r["master_id"] for r in worker.get("/api/resellers/masters")["rows"]} >= masters
            ),
            60,
            "the worker to know the reseller masters",
        )
    publish(settings, [e for e in events if not is_reference(e)])


def catalog(*skus: str) -> list[ProductDefined]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        ProductDefined(
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"product:{sku}"),
            occurred_at=at,
            source="erp",
            sku=sku,
            base_unit="EA",
        )
        for sku in skus
    ]


def order_independent_channel(seed: int = 11, weeks: int = 4) -> list[Envelope]:
    """A generated channel without counts: its snapshot does not depend on topic interleaving."""
    return [
        e for e in generate_channel(seed=seed, weeks=weeks) if not isinstance(e, InventoryCounted)
    ]


def expected_snapshot(events: Sequence[Envelope]) -> dict[str, Any]:
    """The snapshot of events as they are (each with its own recorded_at): what a stream
    holds, not when a broker recorded it (see `replayed_snapshot` for that)."""
    channel = EmbeddedChannel()
    channel.feed_events(events)
    return channel.snapshot()


def replayed_channel(settings: Settings) -> EmbeddedChannel:
    """The auditor's replay of the raw topics as they are now (the broker's append times
    as recorded_at, as the worker saw them), its audit facts recorded."""

    async def run() -> EmbeddedChannel:
        channel = EmbeddedChannel(rules=settings.time_rules())
        channel.record(await replay_into(channel, settings))
        return channel

    return asyncio.run(run())


def replayed_snapshot(settings: Settings) -> dict[str, Any]:
    """The replay's snapshot: what the live snapshot must equal."""
    return replayed_channel(settings).snapshot()


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as a live worker and a replay must agree on it: all of it.

    (Violation statuses come from the event store; nothing here changes them, so both
    sides show every violation as detected.)
    """
    return snapshot


def matches_replay(
    settings: Settings, worker: WorkerProcess, timeout: float = 90, what: str = "the worker"
) -> dict[str, Any]:
    """Wait until the worker's live snapshot equals the auditor's replay of the raw topics
    (read again while they differ: the worker may still be applying, or publishing a
    close); returns the live snapshot."""

    last: dict[str, Any] = {}

    def same() -> dict[str, Any] | None:
        live = comparable(worker.get("/api/snapshot"))
        replay = comparable(replayed_snapshot(settings))
        last.update(live=live, replay=replay)
        return live if live == replay else None

    try:
        found: dict[str, Any] = wait_until(same, timeout, f"{what}'s snapshot to equal the replay")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; first differences: {differences(**last)}") from None
    return found


def unmatched(rows: Sequence[Any], others: Sequence[Any]) -> list[Any]:
    """The rows (JSON values) that are not among `others`, in their order. By their
    canonical JSON, not `row not in others`: that compares each row with the others one by
    one, minutes for two snapshots of 30,000 violations (bench/kill_probe.py's settle)."""
    known = {canonical(other) for other in others}
    return [row for row in rows if canonical(row) not in known]


def canonical(value: Any) -> bytes:
    """A JSON value's text, its keys sorted: equal for equal values."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)


def differences(live: dict[str, Any] | None = None, replay: dict[str, Any] | None = None) -> str:
    """The first few rows that differ between two snapshots, for a failure message."""
    if live is None or replay is None:
        return "none compared"
    found = []
    for section in sorted(set(live) | set(replay)):
        mine, theirs = live.get(section, []), replay.get(section, [])
        extra, missing = unmatched(mine, theirs)[:2], unmatched(theirs, mine)[:2]
        if extra or missing:
            found.append(f"{section}: live only {extra}, replay only {missing}")
    return "; ".join(found[:4]) or "none"


def metric_sum(worker: WorkerProcess, sample: str, **labels: str) -> float:
    """The sum of a sample of the worker's /metrics over its series with these labels."""
    text = worker.metrics_text()
    return sum(
        found.value
        for family in text_string_to_metric_families(text)
        for found in family.samples
        if found.name == sample and labels.items() <= found.labels.items()
    )


def recording_rounds(worker: WorkerProcess) -> int:
    """How many recording rounds the worker has ended (its /metrics)."""
    return int(metric_sum(worker, "channelflow_round_seconds_count", round="recording"))


def whole_recording_round(worker: WorkerProcess) -> None:
    """Wait until a whole recording round has run since the call (two have ended: the
    first may have begun before it): the facts derived in rounds (reconciliations, claims,
    statements) from the state applied by the call are recorded by then."""
    ended = recording_rounds(worker)
    wait_until(lambda: recording_rounds(worker) >= ended + 2, 120, "a whole recording round")


def verify(
    worker: WorkerProcess, dsn: str, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`channelflow verify` of the worker's topics against its API and the event store at
    `dsn` (the token, if any, from CHANNELFLOW_TOKEN as an auditor would pass it), once a
    whole recording round has run since the call, as an auditor who verifies a settled
    worker would find it."""
    whole_recording_round(worker)
    s = worker.settings
    env = {**os.environ, **({"CHANNELFLOW_TOKEN": token} if token else {})}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "verify", "--url", worker.url,
         "--eventstore", dsn, "--kafka", s.kafka_bootstrap, "--prefix", s.topic_prefix],
        cwd=REPO, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def token_workers(
    worker_factory: Callable[..., WorkerProcess],
    pg_dsn: str,
    tokens: list[dict[str, Any]],
    token: str,
) -> Callable[[], WorkerProcess]:
    """A way to start a worker (and start it again after a kill) on the event store at
    `pg_dsn`, knowing `tokens`, whose reads and posts carry `token`."""

    def started() -> WorkerProcess:
        worker = worker_factory(
            eventstore_url=pg_dsn, env={"CHANNELFLOW_TOKENS": json.dumps(tokens)}
        ).start()
        worker.token = token
        return worker

    return started


def numbered_sale(
    n: int,
    *,
    sku: str,
    distributors: int,
    at: datetime,
    price: str = "9.00",
    quantity: int = 1,
    apart: timedelta = timedelta(minutes=1),
    source: Source = "kafka",
) -> SaleReported:
    """Sale T{n} of `sku` in USD, by distributor D{n % distributors}, sold `n` times
    `apart` after `at`."""
    return SaleReported(
        event_id=uuid.uuid4(),
        occurred_at=at,
        source=source,
        distributor_id=f"D{n % distributors}",
        transaction_id=f"T{n}",
        reseller_id="R1",
        sku=sku,
        quantity=quantity,
        unit_price=Decimal(price),
        currency="USD",
        sold_at=at + n * apart,
    )


def numbered_sales(
    first: int, count: int, *, sku: str, distributors: int, at: datetime
) -> list[SaleReported]:
    """Sales T{first}.. of one unit at 9.00 USD (`numbered_sale`)."""
    return [
        numbered_sale(n, sku=sku, distributors=distributors, at=at)
        for n in range(first, first + count)
    ]


def numbered_shipments(count: int, *, sku: str, at: datetime) -> list[ShipmentRecorded]:
    """Shipments S0.. of five units of `sku` at 5.00 USD to distributor D0, a minute apart
    from `at`."""
    return [
        ShipmentRecorded(
            event_id=uuid.uuid4(),
            occurred_at=at,
            source="kafka",
            shipment_id=f"S{n}",
            distributor_id="D0",
            sku=sku,
            quantity=5,
            unit_price=Decimal("5.00"),
            currency="USD",
            shipped_at=at + timedelta(minutes=n),
        )
        for n in range(count)
    ]


def weeks_ago(weeks: int) -> date:
    """The Monday `weeks` weeks before this week's. A generated history of `weeks - 1` weeks
    from it is wholly in the past: its late reports come up to a week after its last week
    (a window ending last Sunday would put them in the future, past the tolerance, as dead
    letters, every Monday to Thursday)."""
    today = datetime.now(UTC).date()
    return today - timedelta(days=today.weekday(), weeks=weeks)
