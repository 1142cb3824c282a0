"""What a file's first bytes say it is, by one rule for every door and the CLI: an X12
interchange (its ISA), JSON (its first byte), else text read as CSV; a CSV whose header
names `claim_id` is a debit claim file, not a sell-through report."""

from __future__ import annotations

from typing import Final, Literal

Kind = Literal["x12", "json", "csv"]

#: the HTTP door each kind of file is sent to
DOORS: Final[dict[Kind, str]] = {
    "x12": "/api/ingest/edi",
    "json": "/api/ingest/events",
    "csv": "/api/ingest/csv",
}

#: the column that makes a CSV a debit claim file (docs/CLAIMS.md), and the door it goes to
CLAIM_COLUMN: Final = "claim_id"
CLAIMS_DOOR: Final = "/api/ingest/claims"


def start_of(head: bytes) -> bytes:
    """`head` without the byte-order mark and blanks a file may start with."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")


def content_kind(head: bytes) -> Kind:
    """The kind of a file starting with `head`."""
    start = start_of(head)
    if start.startswith(b"ISA"):
        return "x12"
    if start[:1] in (b"[", b"{"):
        return "json"
    return "csv"
