"""The X12 acknowledgement of an upload (docs/INGEST.md, "Acknowledgements"): what the
parsers found, noted as the upload's items pass to the gateway, and the TA1 / 997 written
from it and the interchange's envelope (streams/ingest/parsers/x12_ack.py).

Only what the parsers found is acknowledged: X12's acknowledgements report syntax (a
value that is no number, a code not accepted, a segment missing), not what the gateway
then judges against the stores (an unknown product, a duplicate, a date out of range);
the JSON answer says all of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Final

from streams.ingest.formats.upload import Item, ReportClosed, Stored
from streams.ingest.formats.x12_reports import missing_of
from streams.ingest.parsers.x12_ack import Finding, acknowledgement, received
from streams.ingest.parsers.x12_segment import X12Error

#: the media type of an X12 interchange (RFC 1767)
X12_MEDIA: Final = "application/edi-x12"


#: the formats whose transaction set is taken or refused whole, whatever its finding (an
#: 844 is one claim, refused with any problem: docs/CLAIMS.md)
WHOLE_SETS: Final = frozenset({"844"})


class AckWatch:
    """Notes the parsers' findings as an X12 upload's items pass by."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def watch(self, items: Iterator[Item], fmt: str) -> Iterator[Item]:
        """`items` of an upload of format `fmt`, noted as they pass."""
        whole = fmt in WHOLE_SETS
        for item in items:
            self.note(item, whole)
            yield item

    def note(self, item: Item, whole: bool = False) -> None:
        """Note `item`'s finding, if it has one (`whole`: it refuses its set)."""
        if isinstance(item, ReportClosed):
            for problem in item.info.get("report_errors") or ():
                segment, element, reason = problem["segment"], problem["element"], problem["reason"]
                self.findings.append(Finding(segment, element, reason, True, missing_of(problem)))
        elif item.event is None and item.segment is not None and item.reason is not None:
            finding = Finding(item.segment, item.field, item.reason, whole, item.missing)
            self.findings.append(finding)
            for also in item.also:
                self.findings.append(
                    Finding(also.seg.index, also.element, also.reason, whole, also.missing)
                )

    def acknowledgement(
        self,
        file: Stored,
        digest: str,
        at: datetime,
        failure: X12Error | None = None,
        resent: bool = False,
    ) -> bytes | None:
        """The TA1 / 997 interchange answering the upload of `file` (its sha256 `digest`,
        received `at`); None when its ISA cannot be read: there is no one to answer.
        `failure`: the structural error that refused it; `resent`: the interchange was
        received before (streams/ingest/interchanges.py)."""
        wanted = {finding.segment for finding in self.findings}
        with file.open() as stream:
            got = received(stream, wanted)
        if got is None:
            return None
        control = control_number(digest, at)
        return acknowledgement(
            got, self.findings, control=control, at=at, failure=failure, resent=resent
        )


def control_number(digest: str, at: datetime) -> int:
    """The acknowledgement's ISA13 / GS06: drawn from the upload's bytes and time of receipt
    (1 … 999999999), so two acknowledgements share one only by a one-in-a-billion chance
    and no counter has to be kept between requests and processes."""
    seed = f"{digest} {at.isoformat()}".encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % 999_999_999 + 1
