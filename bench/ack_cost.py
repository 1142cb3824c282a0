"""What an X12 acknowledgement costs: the gateway's check of a generated 867 (offline, no
Kafka), without and with its TA1 / 997 (the parsers' findings noted as the items pass, then
the envelope read once more and the 997 written), in CPU time of this process, best of
--repeat runs alternating the two.

    .venv/bin/python -m bench.ack_cost                # 50,000 lines
    .venv/bin/python -m bench.ack_cost --lines 20000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import batch_gc
from bench.ingest_throughput import write_867
from domain.roles import Role
from streams.auth import Principal
from streams.ingest.acks import AckWatch
from streams.ingest.formats.upload import SOURCES, Stored, Upload
from streams.ingest.gateway import Gateway, offline_view
from streams.ingest.parallel_check import check_upload
from streams.ingest.spool import Spool

RECEIVED_AT = datetime(2026, 6, 1, 9, tzinfo=UTC)


def check(path: Path, acked: bool) -> tuple[float, float, int]:
    """(CPU seconds of the check, of the acknowledgement, its bytes) for one run."""
    upload = Upload(
        "867", path.name, Principal("bench", Role.ADMIN), RECEIVED_AT, "0" * 64, SOURCES["867"]
    )
    watch = AckWatch() if acked else None
    with batch_gc(), Spool() as spool:
        gateway = Gateway(upload, offline_view(None), spool)
        started = time.process_time()
        asyncio.run(check_upload(gateway, Stored(path), 1, watch))
        checked = time.process_time()
        if watch is None:
            return checked - started, 0.0, 0
        body = watch.acknowledgement(Stored(path), upload.digest, RECEIVED_AT)
        assert body is not None
        return checked - started, time.process_time() - checked, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ack-cost-") as directory:
        path = Path(directory) / "sales.867"
        write_867(path, args.lines, 7)
        plain, with_ack, ack_pass, size = float("inf"), float("inf"), float("inf"), 0
        for _ in range(args.repeat):
            plain = min(plain, check(path, False)[0])
            checked, acked, size = check(path, True)
            with_ack, ack_pass = min(with_ack, checked), min(ack_pass, acked)
        load = os.getloadavg()[0]
        print(f"867 of {args.lines:,} lines ({path.stat().st_size / 1e6:.1f} MB), load {load:.2f}")
        print(f"check without ack      {plain:.3f} s CPU")
        print(f"check noting findings  {with_ack:.3f} s CPU")
        print(f"ack pass (read + 997)  {ack_pass:.3f} s CPU, {size} bytes")
        extra = (with_ack + ack_pass - plain) / plain
        print(f"acknowledged upload    +{extra:.1%} CPU")


if __name__ == "__main__":
    main()
