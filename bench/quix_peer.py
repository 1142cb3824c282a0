"""The quixstreams peer: a per-key sum with dedup over RocksDB state backed by a changelog.

What a minimal stream processor of sale lines does, written the way quixstreams is meant to
be used: for every sale (a message holds one, or a bundle of them) keyed by distributor,
skip a transaction id seen before, else add its quantity to the distributor's total; the
state lives in RocksDB with quixstreams' changelog topic behind it, offsets committed
at-least-once. When `--count` sales have been read it writes {"messages": N, "seconds": S}
to `--result` (S from the first message to the last) and keeps running until stopped.

Needs the `peers` extra (pip install -e '.[peers]'); bench/throughput.py runs it as a
subprocess when quixstreams is installed:

    .venv/bin/python -m bench.quix_peer --topic T --count N --result FILE [--group G]
"""

from __future__ import annotations

import argparse
from typing import Any

from quixstreams import Application, State

from bench.common import PeerTally, peer_parser


def build_app(args: argparse.Namespace, tally: PeerTally) -> Application:
    app = Application(
        broker_address=args.kafka,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        state_dir=str(args.result.parent / "quix-state"),  # in the bench's temp dir
        use_changelog_topics=True,
        loglevel="WARNING",
    )
    topic = app.topic(args.topic, value_deserializer="json", key_deserializer="str")

    def apply(value: Any, state: State) -> None:
        sales = value if isinstance(value, list) else [value]
        for sale in sales:
            seen = f"seen|{sale['transaction_id']}"
            if state.get(seen) is None:
                state.set(seen, 1)
                state.set("quantity", state.get("quantity", 0) + int(sale["quantity"]))
        tally.add(len(sales))

    app.dataframe(topic).update(apply, stateful=True)
    return app


def main() -> None:
    parser = peer_parser("quix_peer", __doc__.splitlines()[0])
    args = parser.parse_args()
    build_app(args, PeerTally(args.count, args.result)).run()


if __name__ == "__main__":
    main()
