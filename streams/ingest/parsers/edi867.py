"""X12 867 (Product Transfer and Resale Report) → `SaleReported` lines + `ReportSubmitted`.

One transaction set (ST … SE) is one report. What is read, and how:

Header (before the first PTD)
    ``BPT01`` purpose (`PURPOSES`: 00 original, 05 replace), ``BPT02`` report number
    (the `report_id`), ``BPT03`` report date (CCYYMMDD), ``BPT09`` the report number a
    replacement replaces (required when BPT01 = 05, and must differ from BPT02);
    ``CUR02`` currency (default USD); ``DTM*090`` / ``DTM*091`` report period start /
    end (both required: compliance is per period); ``N1*DS`` the distributor
    (`distributor_id` = N104).

Detail: PTD loops
    ``PTD01`` the transfer type (`PTD_TYPES`): sales keep the reported sign, returns
    become negative quantities; any other type makes each line of the loop a line error
    `unsupported_ptd_type` (recorded, never skipped silently). In the loop (or on one
    line, which then wins): ``N1*ST`` the ship-to = reseller (N104), ``N1*EN`` /
    ``N1*UC`` the end customer (N104, else N102), ``REF*IV`` the invoice number (also
    read from PTD04/PTD05 when PTD04 = IV), ``DTM`` the sale date (`SALE_DATE_QUALIFIERS`,
    DTM02 date, DTM03 time, DTM04 time code; default 00:00 UTC).

Lines
    A line is a LIN, a sold quantity and a price (UIT02, else CTP03 preferring CTP02 =
    RES), in either order (LIN-first guides and QTY-loop guides both occur): a second LIN
    or a second QTY of the same sold-quantity qualifier in the same loop starts the next
    line. The sold quantity is a QTY*39 (shipped quantity) or a QTY*32 (quantity sold)
    (`QTY_QUALIFIERS`: distributors' guides use one or the other); a line with both must
    give the same quantity (`conflicting_quantity`). A QTY with any other qualifier (on
    hand, available for sale, ...) says nothing about the sale: it is ignored and listed
    in the report's `ignored` (`IgnoredQuantity`), never silently. The item id is chosen by
    `x12codes.ITEM_QUALIFIERS` and given to `sku` as sent; the unit is QTY03's unit code,
    else the price's (UIT01 / CTP05), else none (= the item's base unit). Units and item
    ids are resolved to SKU + base units later by the product catalog.

Transaction ids
    ``{invoice}-{LIN01}`` (the invoice number and the line's assigned number, e.g.
    ``INV123-1``); LIN01 missing → the line's ordinal in the report; no invoice →
    ``{report number}-{ordinal}``. Two lines with the same transaction id in one report:
    the second is a line error `duplicate_line`.

Event ids
    uuid5 over (distributor, report number, line ordinal, the line's business content):
    re-uploading the same file gives the same ids (a redelivery downstream), while a
    changed line under the same report number gets a new id, so it is judged as a
    conflicting duplicate instead of being dropped as a redelivery.

Totals
    ``CTT01`` must equal the number of LIN segments in the set and ``CTT02`` (when sent)
    the sum of every QTY02 as sent (before return signs). The hash total is not checked
    when some QTY02 is not a number (those lines are already errors). A mismatch is a
    report-level error.

Report-level errors (`ParsedReport.report_errors`) reject the whole report: `sales` is
then empty and `submitted` None, while `line_errors` still lists what was wrong with
single lines. Structural errors (envelope, delimiters, counts) raise `X12Error`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO

from domain.timeutil import utc
from schemas.events import SaleReported
from streams.ingest.parsers.common import (
    LineError,
)
from streams.ingest.parsers.edi867_codes import (
    PERIOD_END,
    PERIOD_START,
    PTD_REFUSED,
    PTD_TYPES,
    PURPOSES,
    QTY_IGNORED,
    QTY_QUALIFIERS,
    REASONS,
    SALE_DATE_QUALIFIERS,
    SOURCE,
    PtdType,
)
from streams.ingest.parsers.edi867_heading import ReportHeader
from streams.ingest.parsers.edi867_report import ReportBuilder
from streams.ingest.parsers.edi867_results import (
    IgnoredQuantity,
    ParsedReport,
    ReportEnd,
    ReportLine,
)
from streams.ingest.parsers.x12 import (
    X12Error,
    iter_transaction_sets,
)


def iter_867(
    stream: IO[bytes],
    *,
    received_at: datetime,
    distributor_id: str | None = None,
    source_name: str | None = None,
) -> Iterator[ReportLine | ReportEnd]:
    """The lines of every 867 transaction set in `stream`, each report closed by a `ReportEnd`.

    Memory holds one line at a time (and the report's transaction ids, to refuse a
    repeated one). Arguments as for `parse_867_all`; `source_name` (e.g. the file name)
    prefixes each event's `source_ref` ("weekly.edi 867 R-17 segment 31"). An
    `X12Error` can come after lines were handed out: act on them only once the
    iteration has finished.
    """
    received = utc(received_at, "received_at")
    return iter_transaction_sets(
        stream, "867", lambda st: ReportBuilder(st, received, distributor_id, source_name)
    )


def parse_867_all(
    stream: IO[bytes], *, received_at: datetime, distributor_id: str | None = None
) -> list[ParsedReport]:
    """Every 867 transaction set of the interchange in `stream`, in order.

    `received_at` (timezone-aware) becomes `recorded_at` and `submitted_at`.
    `distributor_id`, when given (the authenticated uploader), is used when the report
    has no N1*DS and must match it when it has one. Nothing is returned unless the
    whole interchange is structurally sound: `X12Error` otherwise.
    """
    reports: list[ParsedReport] = []
    sales: list[SaleReported] = []
    line_errors: list[LineError] = []
    for item in iter_867(stream, received_at=received_at, distributor_id=distributor_id):
        if isinstance(item, ReportLine):
            if isinstance(item.outcome, LineError):
                line_errors.append(item.outcome)
            else:
                sales.append(item.outcome)
            continue
        line_errors.sort(key=lambda error: error.line or 0)
        reports.append(
            ParsedReport(
                item.header,
                [] if item.report_errors else sales,
                item.submitted,
                line_errors,
                item.report_errors,
                item.line_count,
                item.ignored,
                item.ignored_count,
            )
        )
        sales, line_errors = [], []
    return reports


def parse_867(
    stream: IO[bytes], *, received_at: datetime, distributor_id: str | None = None
) -> ParsedReport:
    """The one 867 report of the interchange in `stream` (see `parse_867_all`).

    An interchange with no 867 set, or with several, raises `X12Error`.
    """
    reports = parse_867_all(stream, received_at=received_at, distributor_id=distributor_id)
    if len(reports) != 1:
        raise X12Error(
            1,
            None,
            f"expected exactly one 867 transaction set, found {len(reports)} "
            "(use parse_867_all for several)",
        )
    return reports[0]


__all__ = [
    "PERIOD_END",
    "PERIOD_START",
    "PTD_REFUSED",
    "PTD_TYPES",
    "PURPOSES",
    "QTY_IGNORED",
    "QTY_QUALIFIERS",
    "REASONS",
    "SALE_DATE_QUALIFIERS",
    "SOURCE",
    "IgnoredQuantity",
    "ParsedReport",
    "PtdType",
    "ReportEnd",
    "ReportHeader",
    "ReportLine",
    "iter_867",
    "parse_867",
    "parse_867_all",
]
