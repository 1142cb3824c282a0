"""Claim lines validated a second against a history of POS lines (issue 16: ≥ 20,000/s over
1,000,000 POS lines).

Builds in-memory `ChannelStores` (the embedded runner's and a replay's) holding a history
of `--pos-lines` sale lines: generated `SaleReported` in bundles of a distributor and day,
applied through `process_batch` as every runner applies them, a catalog, a price book and
an authorization per distributor and sku applied first. Then claims of `--claim-size`
lines (`--claim-lines` in all), each line naming a POS line of its distributor drawn over
the whole history, one claim a message, again through `process_batch`. Most lines pass;
the mix also gives cap_partial / cap_exhausted (one sku's deals have a small cap),
already_claimed (a POS line drawn twice), wrong_reseller and return_line (such POS
lines), pending_pos (no such POS line), unknown_authorization and amount_corrected.

`--store rocksdb` runs the same over the worker's store type instead: its state views
over a RocksDB database (`streams.worker.stores.store_views`), each batch stored as the
worker stores it but without sending it to the changelog, a worker's ledgers (only
authorizations naming one distributor are counted in its partition; the bench's are).

Prints the claims phase's claim lines/s (wall and CPU) beside the POS lines/s of the same
run (the baseline), the decisions by status and reason, and PASS/MISS against the target
(on wall time); never asserts. `--profile` prints the claims phase's cProfile as well.

    .venv/bin/python -m bench.claims_throughput                   # 1,000,000 POS lines
    .venv/bin/python -m bench.claims_throughput --quick           # 50,000 / 10,000
    .venv/bin/python -m bench.claims_throughput --store rocksdb   # the worker's stores
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import orjson
from rocksdict import Options, Rdict

from bench.common import machine, positive_int, progress, rate, verdict
from projections.channel import apply_event
from projections.stores import ChannelStores
from schemas.claims import ClaimLine, DebitClaimSubmitted, SpecialPriceAuthorized
from schemas.codec import encode_event, event_to_dict
from schemas.envelope import Envelope
from schemas.events import PriceChanged, ProductDefined, SaleReported
from streams.runners.processing import GC_THRESHOLD, Input, grouped, process_batch
from streams.worker.state import APPLYING, StateTable, View, Writes, write_batches
from streams.worker.stores import store_views

TARGET = 20_000  # claim lines/s
DAYS = 31
FIRST_DAY = datetime(2026, 8, 1, 12, tzinfo=UTC)
SUBMITTED = datetime(2026, 9, 5, 9, tzinfo=UTC)
PRICED = datetime(2026, 1, 1, tzinfo=UTC)
#: the sku whose deals have a small cap (cap_partial, then cap_exhausted)
CAPPED = "SKU-00"
SMALL_CAP = 100


class History:
    """What the POS history holds, per distributor: (transaction id, sku, quantity,
    reseller) of each line, so claims can name them."""

    def __init__(self, distributors: Sequence[str], skus: Sequence[str]) -> None:
        self.distributors = distributors
        self.skus = skus
        self.lines: dict[str, list[tuple[str, str, int, str]]] = {d: [] for d in distributors}

    def bundles(self, count: int, bundle: int) -> Iterator[Input]:
        """`count` sale lines as the worker gets them: a distributor's lines of a day
        together, in bundles of up to `bundle`, each at a position of its own."""
        template = event_to_dict(sale_event())
        per_day = -(-count // DAYS)
        offset = made = 0
        for day in range(DAYS):
            at = (FIRST_DAY + timedelta(days=day)).isoformat().replace("+00:00", "Z")
            today = min(per_day, count - made)
            for d, distributor in enumerate(self.distributors):
                share = today // len(self.distributors) + (d < today % len(self.distributors))
                documents = []
                for _ in range(share):
                    documents.append(self.line(template, distributor, made, at))
                    made += 1
                for start in range(0, len(documents), bundle):
                    raw = orjson.dumps(documents[start : start + bundle])
                    yield Input(raw, distributor, "sales", 0, offset)
                    offset += 1

    def line(self, template: dict[str, Any], distributor: str, n: int, at: str) -> dict[str, Any]:
        sku = self.skus[n % len(self.skus)]
        quantity = -2 if n % 97 == 0 else 1 + (n // len(self.skus)) % 10  # a return now and then
        reseller = "R5" if n % 53 == 0 else "R9"  # a reseller the deals do not name
        transaction = f"T{n}"
        self.lines[distributor].append((transaction, sku, quantity, reseller))
        return {
            **template,
            "event_id": str(uuid.UUID(int=n + 1, version=4)),
            "occurred_at": at,
            "sold_at": at,
            "distributor_id": distributor,
            "transaction_id": transaction,
            "reseller_id": reseller,
            "sku": sku,
            "quantity": quantity,
        }


def sale_event() -> SaleReported:
    return SaleReported(
        event_id=uuid.uuid4(), occurred_at=FIRST_DAY, source="kafka", distributor_id="D",
        transaction_id="T", reseller_id="R9", sku="S", quantity=1,
        unit_price=Decimal("95.00"), currency="USD", sold_at=FIRST_DAY,
    )  # fmt: skip


def reference(distributors: Sequence[str], skus: Sequence[str]) -> Iterator[Envelope]:
    """The catalog, a book cost of 100.00 a sku, and a deal at 70.00 per distributor and
    sku (to R9, all of August; a small cap on CAPPED)."""
    for sku in skus:
        yield ProductDefined(
            event_id=uuid.uuid4(), occurred_at=PRICED, source="erp", sku=sku, base_unit="EA"
        )
        yield PriceChanged(
            event_id=uuid.uuid4(), occurred_at=PRICED, source="erp", sku=sku,
            distributor_cost=Decimal("100.00"), floor_price=Decimal("50.00"), currency="USD",
            effective_from=PRICED, published_at=PRICED,
        )  # fmt: skip
        for distributor in distributors:
            yield SpecialPriceAuthorized(
                event_id=uuid.uuid4(), occurred_at=PRICED, source="erp",
                authorization_id=deal_id(distributor, sku), distributor_ids=[distributor],
                skus=[sku], reseller_id="R9", authorized_cost=Decimal("70.00"),
                valid_from=date(2026, 8, 1), valid_to=date(2026, 8, 31),
                quantity_cap=SMALL_CAP if sku == CAPPED else None, currency="USD",
            )  # fmt: skip


def deal_id(distributor: str, sku: str) -> str:
    return f"SPA-{distributor}-{sku}"


def claims(history: History, count: int, size: int, seed: int) -> list[Input]:
    """Claims of `size` lines, `count` lines in all, a distributor's in turn, one claim a
    message on the claims topic."""
    draw = random.Random(seed)
    inputs = []
    for c in range(-(-count // size)):
        distributor = history.distributors[c % len(history.distributors)]
        pos = history.lines[distributor]
        wanted = range(min(size, count - c * size))
        lines = [claim_line(n + 1, draw, distributor, pos) for n in wanted]
        event = DebitClaimSubmitted(
            event_id=uuid.UUID(int=10**9 + c, version=4), occurred_at=SUBMITTED,
            source="api", claim_id=f"C{c}", distributor_id=distributor,
            submitted_at=SUBMITTED, lines=lines,
        )  # fmt: skip
        inputs.append(Input(encode_event(event), distributor, "claims", 0, c))
    return inputs


def claim_line(
    n: int, draw: random.Random, distributor: str, pos: list[tuple[str, str, int, str]]
) -> ClaimLine:
    """A line claiming a POS line drawn from the whole history, under its deal (mostly)."""
    transaction, sku, quantity, _ = pos[draw.randrange(len(pos))]
    authorization = deal_id(distributor, sku)
    units = abs(quantity)
    amount = Decimal(30 * units)
    roll = draw.random()
    if roll < 0.05:
        transaction = f"T-NONE-{draw.randrange(10**9)}"  # pending_pos
    elif roll < 0.10:
        authorization = "SPA-UNKNOWN"
    elif roll < 0.15:
        amount += 1  # amount_corrected
    return ClaimLine(
        line_no=n, transaction_id=transaction, sku=sku, quantity=units,
        authorization_id=authorization, cost_paid=Decimal("100.00"),
        authorized_cost=Decimal("70.00"), amount_claimed=amount, currency="USD",
    )  # fmt: skip


def decisions(stores: ChannelStores) -> Counter[str]:
    """The claim lines by status and reason (a read of every claim: after the timing)."""
    found: Counter[str] = Counter()
    for _, record in stores.claims.scan():
        for decision in record.decisions.values():
            found[f"{decision.status} {','.join(decision.reasons) or '-'}"] += 1
        found["waiting -"] += len(record.line_nos) - len(record.decisions)
    return found


class LocalTable:
    """What the worker's state views use of its table (`streams.worker.state`): one RocksDB
    database, partition 0, without the changelog."""

    def __init__(self, root: Path) -> None:
        self.database = Rdict(str(root / "state-0.db"), Options(raw_mode=True))
        self.views: list[View[Any]] = []
        self.app = SimpleNamespace(in_recovery=False)

    def held(self) -> dict[int, Any]:
        return {0: self.database}

    def db(self, partition: int) -> Any:
        return self.database

    def commit(self) -> None:
        """Store a batch's writes as the worker does (without sending them to Kafka)."""
        writes: Writes = {}
        for view in self.views:
            view.encoded(writes)
        write_batches(self.db, writes)
        for view in self.views:
            view.committed()


def worker_stores(root: Path) -> tuple[ChannelStores, LocalTable]:
    """The worker's store type: its views over RocksDB, reference data in memory, holding
    some partitions only (`every_distributor` off, as in `WorkerStores`)."""
    table = LocalTable(root)
    stores = ChannelStores(**cast(Any, store_views(cast(StateTable, table), 1)))
    stores.every_distributor = False
    return stores, table


def apply(
    stores: ChannelStores, inputs: list[Input], table: LocalTable | None, events: int = 2000
) -> tuple[float, float]:
    """`process_batch` over the inputs in batches of about `events` (as the worker takes
    them), each stored when `table` is the worker's; wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    for group in grouped(inputs, events):
        if table is None:
            process_batch(stores, group)
        else:
            APPLYING.set(0)
            process_batch(stores, group)
            table.commit()
            APPLYING.set(None)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pos-lines", type=positive_int, default=1_000_000)
    parser.add_argument("--claim-lines", type=positive_int, default=100_000)
    parser.add_argument("--claim-size", type=positive_int, default=50, help="lines a claim")
    parser.add_argument("--distributors", type=positive_int, default=20)
    parser.add_argument("--skus", type=positive_int, default=10)
    parser.add_argument("--bundle", type=positive_int, default=500, help="sale lines a bundle")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="50,000 POS lines, 10,000 claimed")
    parser.add_argument("--profile", action="store_true", help="cProfile the claims phase")
    parser.add_argument(
        "--store",
        choices=("memory", "rocksdb"),
        default="memory",
        help="in-memory stores (embedded, replay) or the worker's views over RocksDB",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.pos_lines, args.claim_lines = 50_000, 10_000
    gc.set_threshold(*GC_THRESHOLD)  # as the worker and the replays run
    if args.store == "memory":
        return run(args, ChannelStores(), None)
    with tempfile.TemporaryDirectory(prefix="claims-bench-") as root:
        stores, table = worker_stores(Path(root))
        try:
            return run(args, stores, table)
        finally:
            table.database.close()


def run(args: argparse.Namespace, stores: ChannelStores, table: LocalTable | None) -> int:
    distributors = [f"D{n:02d}" for n in range(args.distributors)]
    skus = [f"SKU-{n:02d}" for n in range(args.skus)]
    APPLYING.set(0)  # the clock the reference data moves is the worker's state
    for event in reference(distributors, skus):
        apply_event(stores, event, None)
    if table is not None:
        table.commit()
    APPLYING.set(None)
    history = History(distributors, skus)
    progress(f"generating {args.pos_lines:,} POS lines")
    sales = list(history.bundles(args.pos_lines, args.bundle))
    progress(f"applying them in {len(sales):,} bundles")
    pos_wall = pos_cpu = 0.0
    step = max(len(sales) // 10, 1)
    for start in range(0, len(sales), step):
        wall, cpu = apply(stores, sales[start : start + step], table)
        pos_wall, pos_cpu = pos_wall + wall, pos_cpu + cpu
        progress(f"  {min(start + step, len(sales)):,} of {len(sales):,} bundles applied")
    del sales
    progress(f"generating {args.claim_lines:,} claim lines in claims of {args.claim_size}")
    submitted = claims(history, args.claim_lines, args.claim_size, args.seed)
    progress(f"applying {len(submitted):,} claims")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
    claim_wall, claim_cpu = apply(stores, submitted, table)
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)

    print(machine())
    kind = "in-memory stores" if table is None else "the worker's RocksDB views"
    print(
        f"{kind}, {args.pos_lines:,} POS lines ({len(distributors)} distributors, "
        f"{len(skus)} skus), {args.claim_lines:,} claim lines in claims of {args.claim_size}"
    )
    pos_rate, claim_rate = rate(args.pos_lines, pos_wall), rate(args.claim_lines, claim_wall)
    print(f"{'phase':<28} {'lines':>10} {'wall s':>8} {'lines/s':>10} {'CPU lines/s':>12}")
    print(f"{'POS lines (baseline)':<28} {args.pos_lines:>10,} {pos_wall:>8.1f} "
          f"{pos_rate:>10,.0f} {rate(args.pos_lines, pos_cpu):>12,.0f}")  # fmt: skip
    print(f"{'claim lines':<28} {args.claim_lines:>10,} {claim_wall:>8.1f} "
          f"{claim_rate:>10,.0f} {rate(args.claim_lines, claim_cpu):>12,.0f}")  # fmt: skip
    print(f"claim lines / POS lines a second: {claim_rate / pos_rate:.2f}")
    print("decisions: " + ", ".join(f"{k} {n:,}" for k, n in sorted(decisions(stores).items())))
    print(f"target ≥ {TARGET:,} claim lines/s: {verdict(claim_rate >= TARGET)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
