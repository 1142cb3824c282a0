"""X12 interchanges received again (docs/INGEST.md, "A resent interchange"): both doors
(the gateway's EDI and claims routes, `channelflow ingest` straight to Kafka) register an
interchange once its upload is published, and learn so whether it had been received
before: its TA1 then says `E` / `025` (duplicate interchange control number) and the
JSON answer names the first receipt.

An interchange is the same one when the same sender (ISA05 / ISA06) sent it to the same
receiver (ISA07 / ISA08) under the same control number (ISA13): a sender's translator
numbers its interchanges per trading partner, so the same number sent to another receiver
id is another interchange. Its content need not be the same: a control number used again
for other bytes is a duplicate all the same (what TA1 025 is for), and the answer says the
content differs. Its lines are checked and published as ever: their business keys keep
them from counting twice.

A test interchange (ISA15 T, `is_test_file`) is checked and answered as ever but nothing
of it is published nor registered: a production interchange that reuses its control
number is a first receipt.

Without a register (no PostgreSQL configured: the embedded demo, `channelflow ingest`
without one), nothing is registered and the answer says nothing about resends; a register
that cannot be reached is logged and the upload answered as if there were none (its
lines are published by then).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg

from infra.interchange_register import InterchangeKey, InterchangeRegister, Receipt
from projections.ingest_check import upload_outcome
from streams.config import Settings
from streams.ingest.formats.upload import Stored
from streams.ingest.gateway import Gateway
from streams.ingest.parsers.x12 import tokenize
from streams.ingest.parsers.x12_envelope import is_test_interchange
from streams.ingest.parsers.x12_segment import Segment, X12Error

log = logging.getLogger(__name__)


def register_of(settings: Settings) -> InterchangeRegister | None:
    """The register these settings name (one connection per process), or None."""
    dsn = settings.interchanges_dsn()
    window = timedelta(days=settings.interchange_window_days)
    return None if dsn is None else _register(dsn, window)


@functools.cache
def _register(dsn: str, window: timedelta) -> InterchangeRegister:
    return InterchangeRegister(dsn, window)


def key_of(isa: Segment) -> InterchangeKey:
    """The interchange's identity from its ISA."""
    return InterchangeKey(isa.get(5), isa.get(6), isa.get(7), isa.get(8), isa.get(13))


@dataclass(frozen=True, slots=True)
class Registered:
    """What the register said of an upload's interchange: `first`, its first receipt
    when it had been received before (None: this is its first)."""

    key: InterchangeKey
    digest: str
    first: Receipt | None

    @property
    def resent(self) -> bool:
        return self.first is not None

    def answer(self) -> dict[str, Any]:
        """The JSON answer's `interchange`."""
        key = self.key
        found: dict[str, Any] = {
            "sender": key.sender_id,
            "receiver": key.receiver_id,
            "control_number": key.control_number,
            "resent": self.resent,
        }
        if self.first is None:
            return found
        same = self.first.digest == self.digest
        return {
            **found,
            "first_received_at": self.first.received_at.isoformat().replace("+00:00", "Z"),
            "same_content": same,
            "note": "received before: acknowledged TA1 025 (duplicate interchange control "
            "number); its lines are answered as ever, none counted twice"
            if same
            else "this control number was received before with other content: acknowledged "
            "TA1 025 (duplicate interchange control number), its lines answered as ever; "
            "give each new interchange a new control number",
        }


async def register(
    registry: InterchangeRegister | None, file: Stored, gateway: Gateway
) -> Registered | None:
    """Register the published upload of X12 `file` checked by `gateway` (a thread:
    psycopg blocks); None without a register, for a test interchange (nothing of it was
    published), without a readable ISA, or when the register cannot be reached."""
    if registry is None or gateway.test:
        return None
    isa = _isa(file)
    if isa is None:
        return None
    upload, key = gateway.upload, key_of(isa)
    distributor = upload.uploader or next(
        (report.distributor_id for report in gateway.reports.values() if report.distributor_id),
        None,
    )
    receipt = Receipt(
        upload.received_at, upload.digest, distributor, upload_outcome(gateway.summary())
    )
    try:
        first = await asyncio.to_thread(registry.record, key, receipt)
    except psycopg.Error as exc:
        log.warning("interchange register unreachable, %s not registered: %s", key, exc)
        return None
    return Registered(key, upload.digest, first)


def is_test_file(file: Stored) -> bool:
    """Whether X12 `file` is a test interchange (ISA15 T: `is_test_interchange`); False
    when its ISA cannot be read or its ISA15 is neither P nor T (the check then refuses it
    whole, TA1 R / 020)."""
    isa = _isa(file)
    try:
        return isa is not None and is_test_interchange(isa)
    except X12Error:
        return False


def _isa(file: Stored) -> Segment | None:
    with file.open() as stream:
        try:
            return next(tokenize(stream), None)
        except X12Error:
            return None
