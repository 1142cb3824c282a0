"""Which reads cost more as the history grows: every GET route at N and at 4N events.

One channel (`bench/channel_history.py`: 50 distributors, 200 SKUs, the same programs and
prices) is applied in process by the embedded runner (`EmbeddedChannel.feed_events`, in
chunks, as `channelflow replay` does; no servers): its first N events, then the next 3N.
After each, every GET route of the API is requested through the app itself (aiohttp's
test server in this process, an admin token) with a small `limit` and typical filters, a
warm-up request and then `--rounds` timed ones; the figure is the route's best CPU time
(`time.process_time`: the machine is shared, and a read here is CPU and nothing else).

The table: route, ms at N, ms at 4N, their ratio, and the rows answered at each (the
length of `rows`, or 1 for an object). A ratio well above 1 where the rows did not grow is
a read that costs the history, not what it returns. Also timed: the embedded runner's
per-feed work after the reducers (`EmbeddedChannel.record`: what a recording round
recomputes) on an empty batch, at N and 4N.

    .venv/bin/python -m bench.read_scaling --events 250000
    .venv/bin/python -m bench.read_scaling --events 20000 --rounds 3     # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer

from bench.channel_history import ChannelHistory
from bench.common import batch_gc, machine, positive_int, progress
from schemas.events import Envelope
from streams.api.app import make_web_app
from streams.api.context import ApiContext
from streams.auth import TokenRegistry, token_hash
from streams.runners.embedded import EmbeddedChannel
from streams.runners.processing import BatchResult

TOKEN = "read-scaling-admin"
#: a distributor and SKU of every history (`ChannelHistory`: D01..D50, SKU-0001..)
D, SKU = "D07", "SKU-0003"
#: events applied per feed (a replay's chunk)
CHUNK = 20_000

#: (label, path, query): the routes of `streams.api.app.GETS` with a small page and the
#: filters a dashboard or a distributor uses; `{...}` is filled in from earlier answers
ROUTES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("health", "/health", {}),
    ("metrics", "/metrics", {}),
    ("inventory", "/api/inventory", {"limit": "10"}),
    ("inventory d", "/api/inventory", {"distributor_id": D, "limit": "10"}),
    ("inventory summary", "/api/inventory/summary", {"limit": "10"}),
    ("inventory summary d", "/api/inventory/summary", {"distributor_id": D}),
    ("inventory aging d", "/api/inventory/aging", {"distributor_id": D, "limit": "10"}),
    ("sell-through d", "/api/sell-through", {"distributor_id": D, "limit": "10"}),
    ("sell-through d sku", "/api/sell-through", {"distributor_id": D, "sku": SKU, "limit": "10"}),
    ("sell-through channel", "/api/sell-through", {"scope": "channel", "granularity": "month"}),
    ("quality", "/api/quality", {"limit": "10"}),
    ("dead-letters", "/api/dead-letters", {"limit": "10"}),
    ("dead-letters lines newest", "/api/dead-letters/lines", {"order": "newest", "limit": "10"}),
    ("products", "/api/products", {"limit": "10"}),
    ("violations", "/api/violations", {"limit": "10"}),
    ("violations d", "/api/violations", {"distributor_id": D, "limit": "10"}),
    ("violations d sku", "/api/violations", {"distributor_id": D, "sku": SKU, "limit": "10"}),
    ("violations status", "/api/violations", {"status": "acknowledged", "limit": "10"}),
    ("violations summary", "/api/violations/summary", {}),
    ("violations summary d", "/api/violations/summary", {"distributor_id": D}),
    ("violation", "/api/violations/{violation_id}", {}),
    ("rebates", "/api/rebates", {"limit": "10"}),
    ("rebates d open", "/api/rebates", {"distributor_id": D, "status": "open", "limit": "10"}),
    ("rebates watchlist", "/api/rebates/watchlist", {"limit": "10"}),
    ("rebate statement", "/api/rebates/statements/{statement}", {}),
    ("prices sku", "/api/prices", {"sku": SKU, "limit": "10"}),
    ("prices d", "/api/prices", {"distributor_id": D, "limit": "10"}),
    ("unpriced", "/api/unpriced", {"limit": "10"}),
    ("price-protection", "/api/price-protection", {"limit": "10"}),
    ("price-protection d", "/api/price-protection", {"distributor_id": D, "limit": "10"}),
    ("resellers", "/api/resellers", {"limit": "10"}),
    ("resellers growth d", "/api/resellers/growth", {"distributor_id": D, "limit": "10"}),
    ("resellers top", "/api/resellers/top", {"limit": "10"}),
    ("resellers top d", "/api/resellers/top", {"distributor_id": D, "limit": "10"}),
    ("resellers masters", "/api/resellers/masters", {"limit": "10"}),
    ("resellers aliases d", "/api/resellers/aliases", {"distributor_id": D, "limit": "10"}),
    ("resellers proposals", "/api/resellers/proposals", {"limit": "10"}),
    ("end-customers masters", "/api/end-customers/masters", {"limit": "10"}),
    ("end-customers aliases", "/api/end-customers/aliases", {"limit": "10"}),
    ("reports", "/api/reports", {"limit": "10"}),
    ("reports d", "/api/reports", {"distributor_id": D, "limit": "10"}),
    ("compliance", "/api/compliance", {"limit": "10"}),
    ("compliance d", "/api/compliance", {"distributor_id": D, "limit": "10"}),
    ("compliance late", "/api/compliance", {"status": "late", "limit": "10"}),
    ("scorecard", "/api/scorecard", {"period": "{month}", "limit": "10"}),
    ("scorecard.csv", "/api/scorecard.csv", {"period": "{month}"}),
    ("scorecard d", f"/api/scorecard/{D}", {"period": "{month}"}),
    ("agreements", "/api/agreements", {"limit": "10"}),
    ("obligations", "/api/obligations", {"limit": "10"}),
    ("commitments", "/api/commitments", {"limit": "10"}),
    ("exchange-rates", "/api/exchange-rates", {"limit": "10"}),
    ("authorizations", "/api/authorizations", {"limit": "10"}),
    ("authorizations usage", "/api/authorizations/usage", {"limit": "10"}),
    ("rotations", "/api/rotations", {"limit": "10"}),
    ("claims", "/api/claims", {"limit": "10"}),
)  # fmt: skip


@dataclass
class Figure:
    """A route's best CPU seconds and what it answered."""

    seconds: float
    status: int
    rows: int


@dataclass
class Point:
    events: int
    figures: dict[str, Figure] = field(default_factory=dict)
    #: the path and query each route was requested with
    shown: dict[str, str] = field(default_factory=dict)
    record_seconds: float = 0.0


def chunks(events: Iterable[Envelope], size: int) -> Iterator[list[Envelope]]:
    iterator = iter(events)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def apply(channel: EmbeddedChannel, events: Iterable[Envelope], expected: int) -> None:
    """Feed `events` in chunks, as a replay reads a file."""
    done = 0
    started = time.perf_counter()
    with batch_gc():
        for chunk in chunks(events, CHUNK):
            channel.feed_events(chunk)
            done += len(chunk)
            if done % (CHUNK * 20) == 0:
                progress(
                    f"  {done:,} / {expected:,} events, {time.perf_counter() - started:,.0f} s"
                )
    progress(f"  {done:,} events applied in {time.perf_counter() - started:,.0f} s")


def rows_of(body: bytes, content_type: str) -> int:
    if not content_type.endswith("json"):
        return max(len(body.splitlines()) - 1, 0)  # a CSV: its lines after the header
    answer = orjson.loads(body)
    if isinstance(answer, dict) and isinstance(answer.get("rows"), list):
        return len(answer["rows"])
    return len(answer) if isinstance(answer, list) else 1


async def request(client: TestClient[Any, Any], path: str, query: dict[str, str]) -> Figure:
    started = time.process_time()
    response = await client.get(path, params=query, headers={"Authorization": f"Bearer {TOKEN}"})
    body = await response.read()
    seconds = time.process_time() - started
    return Figure(seconds, response.status, rows_of(body, response.content_type))


async def first_row(client: TestClient[Any, Any], path: str, query: dict[str, str]) -> Any:
    response = await client.get(path, params=query, headers={"Authorization": f"Bearer {TOKEN}"})
    rows = (await response.json()).get("rows", [])
    return rows[0] if rows else None


async def placeholders(client: TestClient[Any, Any], month: str) -> dict[str, str]:
    """The ids of the routes that read one thing: the first violation, the first closed
    statement of the distributor; and the scorecard's period."""
    filled = {"month": month}
    violation = await first_row(client, "/api/violations", {"distributor_id": D, "limit": "1"})
    if violation is not None:
        filled["violation_id"] = str(violation["violation_id"])
    rebate = await first_row(
        client, "/api/rebates", {"distributor_id": D, "status": "closed", "limit": "1"}
    )
    if rebate is not None:
        filled["statement"] = f"{rebate['program_id']}/{D}/{rebate['period']}"
    return filled


async def measure(channel: EmbeddedChannel, rounds: int, point: Point, month: str) -> None:
    tokens = TokenRegistry([{"actor": "bench", "role": "admin", "sha256": token_hash(TOKEN)}])
    client = TestClient(TestServer(make_web_app(ApiContext.of_channel(channel, tokens))))
    await client.start_server()
    try:
        filled = await placeholders(client, month)
        for label, path, query in ROUTES:
            try:
                concrete = path.format(**filled)
                query = {name: value.format(**filled) for name, value in query.items()}
            except KeyError:
                continue  # nothing of the kind in this history
            await request(client, concrete, query)  # warm-up: a store's first scan sorts it
            tries = [await request(client, concrete, query) for _ in range(rounds)]
            point.figures[label] = min(tries, key=lambda figure: figure.seconds)
            point.shown[label] = concrete + "".join(
                f"{'&' if n else '?'}{k}={v}" for n, (k, v) in enumerate(query.items())
            )
    finally:
        await client.close()


def scorecard_month(end: date) -> str:
    """A month both histories hold whole and that has ended at both: the last but one of
    the first step (its last month still holds "now" when the step ends)."""
    last = end.replace(day=1) - timedelta(days=1)
    return (last.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def record_cost(channel: EmbeddedChannel, rounds: int) -> float:
    """CPU seconds of the embedded runner's work after an (empty) batch: the protection
    claims and rebate statements it recomputes and records."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        channel.record(BatchResult())
        best = min(best, time.process_time() - started)
    return best


def table(points: list[Point]) -> str:
    small, large = points
    ratio_head = f"ratio {large.events // small.events}N / N"
    lines = [
        f"| route | ms at {small.events:,} | ms at {large.events:,} | {ratio_head} | rows "
        "| status |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, _, _ in ROUTES:
        if label not in small.figures or label not in large.figures:
            continue
        a, b = small.figures[label], large.figures[label]
        shown = large.shown[label]
        rows = f"{a.rows}" if a.rows == b.rows else f"{a.rows} → {b.rows}"
        status = f"{a.status}" if a.status == b.status else f"{a.status} → {b.status}"
        lines.append(
            f"| `{shown}` | {a.seconds * 1000:,.1f} | {b.seconds * 1000:,.1f} | "
            f"{b.seconds / max(a.seconds, 1e-4):,.1f} | {rows} | {status} |"
        )
    lines.append(
        f"| (embedded `record` after a batch) | {small.record_seconds * 1000:,.1f} | "
        f"{large.record_seconds * 1000:,.1f} | "
        f"{large.record_seconds / max(small.record_seconds, 1e-4):,.1f} | | |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=positive_int, default=250_000, help="N (250,000)")
    parser.add_argument("--factor", type=positive_int, default=4, help="the larger is N × this")
    parser.add_argument("--rounds", type=positive_int, default=5, help="timed requests a route")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.factor < 2:
        parser.error("--factor must be at least 2")
    today = datetime.now(UTC).date()
    history = ChannelHistory(args.seed, [args.events, args.events * args.factor], today)
    channel = EmbeddedChannel()
    month = scorecard_month(history.steps[0].end_day)
    points = []
    for number in (1, 2):
        events = history.steps[number - 1].events
        progress(f"step {number}: {events:,} events")
        apply(channel, history.step(number), events)
        point = Point(history.steps[number - 1].target)
        point.record_seconds = record_cost(channel, args.rounds)
        progress(f"step {number}: timing {len(ROUTES)} routes")
        asyncio.run(measure(channel, args.rounds, point, month))
        points.append(point)
    print(f"{machine()}; best CPU ms of {args.rounds} requests a route, seed {args.seed}\n")
    print(table(points))
    return 0


if __name__ == "__main__":
    sys.exit(main())
