"""The faust app the probe apps of the integration tests run (`seek_window_app`,
`takeover_app`): configured from environment variables named with the test's prefix."""

from __future__ import annotations

import os

import faust


def probe_app(prefix: str, partitions: int) -> faust.App:
    """An app named `{prefix}_APP`, on the broker `{prefix}_KAFKA`, its data in
    `{prefix}_DATA`, reading from the start, without its web server."""
    return faust.App(
        os.environ[f"{prefix}_APP"],
        broker=f"kafka://{os.environ[f'{prefix}_KAFKA']}",
        datadir=os.environ[f"{prefix}_DATA"],
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        topic_partitions=partitions,
    )
