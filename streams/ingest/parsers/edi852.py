"""X12 852 (Product Activity Data) → `InventoryCounted` per item.

One transaction set (ST … SE) is one activity report. What is read, and how:

Header
    ``XQ01`` handling code (`HANDLING_CODES`; recorded, all carry the same data),
    ``XQ02`` the reporting date / period start, ``XQ03`` the period end (default:
    XQ02), ``XQ04`` the sender's report id (optional). ``N1*DS`` (distributor) or, when
    there is none, ``N1*RL`` (reporting location) gives the distributor id in N104.

Detail: LIN loops, each with ZA loops
    ``LIN`` names the item (`x12codes.ITEM_QUALIFIERS`, first known qualifier wins; the
    id is given to `sku` as sent, the catalog resolves it). Each ``ZA`` reports one
    activity: ``ZA01`` the activity code, ``ZA02`` the quantity, ``ZA03`` its unit,
    ``ZA04``/``ZA05`` an optional date qualifier and date. When ZA02 is empty the
    ``SDQ`` segments of the ZA loop give the quantity per location (SDQ01 unit,
    then location/quantity pairs) and their sum is used.

On-hand codes (`ON_HAND_CODES`) become one `InventoryCounted` per item and count time:
``OH`` gross quantity on hand, ``QE`` ending balance quantity, ``QA`` current inventory
quantity available for shipment or sale. When one item has several of them for the same
time, the first in that order wins (gross figures reconcile with physical stock) and the
others go to `ignored` as superseded. Every other activity code (QS sold, QR received,
QP on order, …) is listed in `ignored` with its code, never silently dropped.

Count time (`counted_at`): the ZA's own date (ZA05, or a DTM in the ZA loop, with its
time and time code when given) — at 23:59:59 UTC of that day when no time is given;
otherwise the period end (XQ03, else XQ02) at 23:59:59 UTC.

``CTT01``, when sent, must equal the number of LIN loops (a report-level error
otherwise). Report-level errors (`report_errors`) reject the whole report: `counts` is
then empty. Structural errors raise `X12Error`.
"""

from __future__ import annotations

from datetime import datetime
from typing import IO

from domain.timeutil import utc
from streams.ingest.parsers.edi852_codes import (
    DISTRIBUTOR_ENTITIES,
    HANDLING_CODES,
    ON_HAND_CODES,
    OTHER_ACTIVITY_CODES,
    REASONS,
    SOURCE,
)
from streams.ingest.parsers.edi852_counts import IgnoredActivity, ParsedActivity
from streams.ingest.parsers.edi852_report import ActivityBuilder
from streams.ingest.parsers.x12 import (
    X12Error,
    transaction_sets,
)


def parse_852_all(
    stream: IO[bytes],
    *,
    received_at: datetime,
    distributor_id: str | None = None,
    source_name: str | None = None,
) -> list[ParsedActivity]:
    """Every 852 transaction set of the interchange in `stream`, in order.

    `received_at` (timezone-aware) becomes `recorded_at`; `distributor_id`, when given,
    is used when the report names none and must match the one it names. `source_name`
    (e.g. the file name) prefixes each count's `source_ref` ("inv.edi 852 R-9 segment 12").
    """
    received = utc(received_at, "received_at")
    return transaction_sets(
        stream, "852", lambda st: ActivityBuilder(st, received, distributor_id, source_name)
    )


def parse_852(
    stream: IO[bytes], *, received_at: datetime, distributor_id: str | None = None
) -> ParsedActivity:
    """The one 852 report of the interchange in `stream` (`X12Error` unless exactly one)."""
    reports = parse_852_all(stream, received_at=received_at, distributor_id=distributor_id)
    if len(reports) != 1:
        raise X12Error(
            1,
            None,
            f"expected exactly one 852 transaction set, found {len(reports)} "
            "(use parse_852_all for several)",
        )
    return reports[0]


__all__ = [
    "DISTRIBUTOR_ENTITIES",
    "HANDLING_CODES",
    "ON_HAND_CODES",
    "OTHER_ACTIVITY_CODES",
    "REASONS",
    "SOURCE",
    "IgnoredActivity",
    "ParsedActivity",
    "parse_852",
    "parse_852_all",
]
