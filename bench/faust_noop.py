"""A Faust agent that does nothing but count: the ceiling of Faust's per-message stream.

Reads one topic from the beginning in a fresh consumer group, in `take_events(2000, 0.2)`
batches as the channelflow worker does, and counts messages (values are not decoded).
When `--count` messages have arrived it writes {"messages": N, "seconds": S} to
`--result` (S from the first message to the last) and keeps running until stopped.
bench/throughput.py starts it as a subprocess:

    .venv/bin/python -m bench.faust_noop --topic T --count N --result FILE [--group G]
"""

from __future__ import annotations

import argparse
from typing import Any

import faust

from bench.common import PeerTally, peer_parser, positive_int

TAKE = 2000
WITHIN = 0.2


def build_app(args: argparse.Namespace) -> faust.App:
    app = faust.App(
        args.group,
        broker=f"kafka://{args.kafka}",
        store="memory://",
        web_enabled=False,
        topic_partitions=args.partitions,
        consumer_auto_offset_reset="earliest",
        datadir=str(args.result.parent / "faust-noop"),
    )
    topic = app.topic(args.topic, value_serializer="raw", key_serializer="raw")
    tally = PeerTally(args.count, args.result)

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for batch in stream.take_events(TAKE, WITHIN):
            tally.add(len(batch))

    return app


def main() -> None:
    parser = peer_parser("faust_noop", __doc__.splitlines()[0])
    parser.add_argument("--partitions", type=positive_int, default=4, help="default 4")
    args = parser.parse_args()
    worker = faust.Worker(build_app(args), loglevel="warning")
    worker.spinner = None  # as `channelflow worker`: the spinner turns on DEBUG logging
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
