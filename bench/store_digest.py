"""What a generated channel leaves in every store, as digests: the check that a change
meant to make the reducers cheaper changed no result.

The channel's events go through `process_batch` as the worker gets them (in bundles of a
distributor and day, at positions, in batches of about 2,000 lines), then a slice of them
again (a redelivery), on fresh in-memory stores. Printed, as JSON: per store, its key
count and the sha256 of every (key, value) in key order, each value as the worker's
changelog encodes it (`store_layouts`, `to_json`, `applied` positions included); the
sha256 of the audit facts in order; the verdict counts. Run it on two trees and compare:

    .venv/bin/python -m bench.store_digest --out /tmp/before.json
    .venv/bin/python -m bench.store_digest --expect /tmp/before.json   # exit 1 if different
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import orjson

from bench.replay_throughput import bundled_inputs
from projections.stores import ChannelStores
from streams.generator import generate_channel, generate_sales, sales_catalog
from streams.runners.processing import Input, grouped, process_batch
from streams.worker.stores import store_layouts


def applied(
    inputs: list[Input], redelivered: int
) -> tuple[ChannelStores, list[Any], dict[str, int]]:
    """The stores, audit facts and verdict counts after the inputs and a redelivery of
    `redelivered` of them from the middle."""
    stores = ChannelStores()
    facts: list[Any] = []
    counts: dict[str, int] = {}
    middle = len(inputs) // 2
    for group in [*grouped(inputs, 2000), inputs[middle : middle + redelivered]]:
        result = process_batch(stores, group)
        facts += result.facts
        for (source, kind, verdict), count in result.consumed.items():
            name = f"{source} {kind} {verdict}"
            counts[name] = counts.get(name, 0) + count
        for dead in result.dead_letters:
            name = f"dead letter {dead.reason}"
            counts[name] = counts.get(name, 0) + 1
    return stores, facts, dict(sorted(counts.items()))


def digests(stores: ChannelStores, facts: list[Any], counts: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, layout in store_layouts(4).items():
        digest = hashlib.sha256()
        keys = 0
        for key, value in getattr(stores, name).scan():
            digest.update(orjson.dumps([key, layout.encode(value)]))
            keys += 1
        out[name] = [keys, digest.hexdigest()]
    out["audit facts"] = [len(facts), hashlib.sha256(repr(facts).encode()).hexdigest()]
    out["counts"] = counts
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weeks", type=int, default=6, help="weeks of the generated channel")
    parser.add_argument("--sales", type=int, default=20_000, help="bundled sale lines added")
    parser.add_argument("--redelivered", type=int, default=40, help="messages applied again")
    parser.add_argument("--out", type=Path, help="write the digests to FILE")
    parser.add_argument("--expect", type=Path, help="compare with FILE: exit 1 if different")
    args = parser.parse_args(argv)
    channel = bundled_inputs(list(generate_channel(seed=args.seed, weeks=args.weeks)))
    sales = bundled_inputs([*sales_catalog(), *generate_sales(args.sales, seed=args.seed)])
    found: dict[str, Any] = {}
    for name, inputs in (("channel", channel), ("sales", sales)):
        found[name] = digests(*applied(inputs, args.redelivered))
    text = orjson.dumps(found, option=orjson.OPT_INDENT_2).decode()
    if args.out:
        args.out.write_text(text)
    print(text)
    if args.expect:
        expected = orjson.loads(args.expect.read_bytes())
        if expected != found:
            for part, stores in found.items():
                for name, value in stores.items():
                    if expected.get(part, {}).get(name) != value:
                        print(f"DIFFERENT: {part} {name}", file=sys.stderr)
            return 1
        print("every store, the audit facts and the counts: the same", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
