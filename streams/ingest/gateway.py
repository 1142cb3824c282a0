"""One upload through the gateway: check every line into a spool, then publish in order.

Pass 1 (`Gateway.check`) reads the upload's lines (streams/ingest/formats.py), answers
each with the read-only precheck (projections/ingest_check.py) and spools it with what
to publish: the event, or a `LineRejected` for a line that could not become one. A
request that may not be made (403) or cannot be read (422) stops here: nothing is
published. Pass 2 (`Gateway.publish`) publishes in order, each report's
`ReportSubmitted` before its first line, so a replacing report reaches the worker
before the lines that replace the old ones. Work is done in slices that yield to the
event loop, so a large upload never stalls the worker's agent running beside it.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Final

from pydantic import ValidationError

from domain.business_time import date_problem
from domain.identity import derived_id
from domain.permissions import Permission, allows, is_scoped, submittable_events, within_scope
from projections.channel import apply_event
from projections.dedup import SeenEntry
from projections.ingest_check import Answer, Catalog, precheck
from projections.stores import ChannelStores
from schemas.codec import encode_event
from schemas.events import LineRejected, ProductDefined
from schemas.types import visible
from streams import metrics
from streams.auth import AuthError, Forbidden, Principal
from streams.ingest.formats.upload import (
    EVENT_TYPE_NAMES,
    UNATTRIBUTED,
    Item,
    Parsed,
    ReportClosed,
    Upload,
)
from streams.ingest.formats.x12_reports import FOREIGN_REASON
from streams.ingest.personal import DoorProtection
from streams.ingest.spool import LineAnswer, Spool, SpooledLine, SpoolPart
from streams.kafka.messages import Message, Publish, message_of

#: lines checked between two yields to the event loop (~10-20 ms of work)
SLICE_LINES: Final = 500
#: messages per publish call (each call waits for the broker's acknowledgements)
PUBLISH_BATCH: Final = 5000
DETAIL_LIMIT: Final = 4096
#: the answer's note on a test interchange (ISA15 T)
TEST_NOTE: Final = (
    "test interchange (ISA15 T): checked, not posted; the answers are those a production "
    "copy would get (accepted: the lines checked good), nothing was published or registered"
)


def authorize(principal: Principal) -> None:
    """Only a real distributor or admin token may submit (open mode reads only)."""
    if principal.actor == "anonymous":
        raise AuthError("submitting needs a bearer token (Authorization: Bearer <token>)")
    if not allows(principal.role, Permission.SUBMIT):
        raise Forbidden(f"{principal.actor} ({principal.role}) may read but not submit")


def authorize_events(principal: Principal, elements: list[Any]) -> None:
    """Refuse the whole batch if any element is another distributor's or of a type the
    principal may not submit (checked on the raw JSON, valid or not)."""
    allowed = submittable_events(principal.role)
    for number, element in enumerate(elements, start=1):
        if not isinstance(element, dict):
            continue
        event_type = element.get("event_type")
        if event_type in EVENT_TYPE_NAMES and event_type not in allowed:
            raise Forbidden(
                f"event {number}: {principal.actor} ({principal.role}) may not submit "
                f"{event_type}; nothing was published",
            )
        named = element.get("distributor_id")
        if named is not None and not within_scope(principal.role, principal.distributor_id, named):
            raise Forbidden(
                f"event {number} is distributor {named!r}'s: {principal.actor} may submit "
                f"only {principal.distributor_id!r}'s data; nothing was published",
            )


@dataclass(frozen=True)
class StoreView:
    """What the precheck reads: the catalog (None: unknown here) and the idempotency store."""

    catalog: Catalog | None
    seen: Callable[[str], SeenEntry | None]


def offline_view(products: Iterable[ProductDefined] | None) -> StoreView:
    """A view of no worker's stores: the catalog these definitions make (None: none, the
    catalog is not checked) and nothing seen (the CLI's --check, benchmarks)."""
    if products is None:
        return StoreView(None, lambda _: None)
    stores = ChannelStores()
    for product in products:
        apply_event(stores, product, None)
    return StoreView(Catalog(stores.products, stores.aliases), lambda _: None)


@dataclass
class Gateway:
    upload: Upload
    view: StoreView
    spool: Spool
    answers: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    reports: dict[int, ReportClosed] = field(default_factory=dict)
    lines: int = 0
    published: int = 0
    #: what becomes of personal fields (default: dropped, as without a key store)
    protection: DoorProtection = field(default_factory=lambda: DoorProtection(None))
    #: an X12 test interchange (ISA15 T): checked and answered as ever, nothing published
    test: bool = False

    # --- pass 1 ---------------------------------------------------------------------

    async def check(self, items: Iterator[Item]) -> None:
        """Answer and spool every line, yielding to the event loop between slices; a sale
        line's clear personal fields are sealed (or dropped) first."""
        while True:
            for _ in range(SLICE_LINES):
                item = next(items, None)
                if item is None:
                    return
                if self.protection.needed(item):
                    item = await self.protection.protect(item)
                self.take(item)
            await asyncio.sleep(0)

    def take(self, item: Item) -> None:
        if isinstance(item, ReportClosed):
            self._close_report(item)
            return
        self.lines += 1
        if item.event is None:
            self._refuse_if_foreign(item.reason, item.detail)
            assert item.reason is not None
            answer = LineAnswer(
                item.line, item.ref, Answer.REJECTED, item.reason, item.field, item.detail
            )
            distributor = item.distributor_id or self.upload.uploader
            self.spool.add(answer, item.report, None, item.original or b"", distributor)
        else:
            event = item.event
            check = precheck(
                event,
                catalog=self.view.catalog,
                seen=self.view.seen,
                earlier=self.spool.earlier,
                recorded_at=self.upload.received_at,
                rules=self.upload.rules,
                replaces=item.replaces,
            )
            if check.keyed is not None and check.answer is Answer.ACCEPTED:
                self.spool.remember_first(*check.keyed)  # `earlier` said none
            field, detail = _as_sent(item, check.field, check.detail)
            answer = LineAnswer(item.line, item.ref, check.answer, check.reason, field, detail)
            if check.publishable:
                message = message_of(event)
                self.spool.add(answer, item.report, message, item.original, keyed=check.keyed)
            else:  # a rejection carries the line, as sent or as read, to the dead letters
                original = item.original or encode_event(event)
                whose = getattr(event, "distributor_id", None)
                self.spool.add(answer, item.report, None, original, whose)
        self.answers[answer.answer] += 1
        if answer.reason is not None and answer.answer is Answer.REJECTED:
            self.reasons[answer.reason] += 1

    def adopt(
        self, part: SpoolPart, lines: int, answers: Counter[str], reasons: Counter[str]
    ) -> None:
        """Take the lines of a part of the upload checked by another process (with these
        counts), after those taken so far (streams/ingest/parallel_check.py)."""
        changed = self.spool.adopt(part)
        self.lines += lines
        self.answers.update(answers)
        self.answers.update(changed)  # duplicates and conflicts: no rejection reason
        self.reasons.update(reasons)

    def _close_report(self, report: ReportClosed) -> None:
        upload, header = self.upload, report.header
        dates = None if header is None else date_problem(header, upload.received_at, upload.rules)
        if dates is not None:  # a period that cannot be: the report is rejected as a whole
            reason, detail = dates
            whole = f"report {report.report_id} rejected as a whole: {detail}"
            report = replace(report, header=None, rejected=(reason, whole))
        self.reports[report.index] = report
        if report.rejected is None:
            return
        reason, detail = report.rejected
        self._refuse_if_foreign(reason, detail)
        changed = self.spool.reject_report(report.index, reason, detail[:DETAIL_LIMIT])
        for former, count in changed.items():
            self.answers[former] -= count
            self.answers[Answer.REJECTED] += count
            self.reasons[reason] += count

    def _refuse_if_foreign(self, reason: str | None, detail: str | None) -> None:
        """A distributor's upload naming another distributor is refused as a whole."""
        if reason == FOREIGN_REASON and is_scoped(self.upload.principal.role):
            raise Forbidden(
                f"{detail}: a distributor may submit only its own data; nothing was published",
            )

    # --- pass 2 ---------------------------------------------------------------------

    async def publish(self, publish: Publish) -> int:
        """Publish every spooled line in order, each report's header before its lines.

        A test interchange publishes nothing, its rejections included: what its lines
        earned is an answer to its sender, not the channel's data nor its dead letters
        (counted in channelflow_ingest_test_interchanges_total instead of the lines').
        """
        if self.test:
            metrics.INGEST_TEST_INTERCHANGES.labels(self.upload.format).inc()
            return 0
        pending: list[Message] = []
        headed: set[int] = set()
        for index, out in self.spool.outgoing():
            if index and index not in headed:
                headed.add(index)
                header = self.reports.get(index)
                if header is not None and header.header is not None:
                    pending.append(message_of(header.header))
            pending.append(out if isinstance(out, Message) else message_of(self._rejection(out)))
            if len(pending) >= PUBLISH_BATCH:
                await self._send(publish, pending)
        for index, report in self.reports.items():  # reports without lines
            if index not in headed and report.header is not None:
                pending.append(message_of(report.header))
        await self._send(publish, pending)
        for answer, count in self.answers.items():
            metrics.INGEST_LINES.labels(self.upload.format, answer).inc(count)
        return self.published

    async def _send(self, publish: Publish, pending: list[Message]) -> None:
        if pending:
            await publish(list(pending))
            self.published += len(pending)
            pending.clear()

    def _rejection(self, row: SpooledLine) -> LineRejected:
        """The LineRejected for a line that could not become an event (built on publish,
        when the report it belongs to, and so whose it is, is known)."""
        upload, answer = self.upload, row.answer
        report = self.reports.get(row.report)
        assert answer.reason is not None
        fields: dict[str, Any] = {
            "event_id": derived_id("rejected", upload.digest, answer.ref, answer.reason),
            "occurred_at": upload.received_at,
            "recorded_at": upload.received_at,
            "source": upload.source,
            "source_ref": visible(answer.ref)[:256],
            "distributor_id": row.distributor
            or (report.distributor_id if report is not None else None)
            or upload.uploader
            or UNATTRIBUTED,
            "reason": answer.reason,
            "detail": visible(answer.detail or answer.reason)[:DETAIL_LIMIT],
            "original_b64": base64.b64encode(row.original or b"").decode("ascii"),
            "report_id": report.report_id if report is not None else None,
        }
        try:
            return LineRejected.model_validate(fields)
        except ValidationError:  # the line named a distributor or report that is no id
            fields["distributor_id"] = upload.uploader or UNATTRIBUTED
            fields["report_id"] = None
            return LineRejected.model_validate(fields)

    # --- the answer -----------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        answers = {answer.value: self.answers.get(answer, 0) for answer in Answer}
        return {
            "lines": self.lines,
            **answers,
            "rejected_by_reason": dict(sorted(self.reasons.items())),
            "published": self.published,
        }

    def _report_answer(self, report: ReportClosed) -> dict[str, Any]:
        """What the answer says of a report; one rejected as a whole says why (an X12
        report lists its errors by segment already; a CSV or JSON report has only this)."""
        answer = {**report.info, "published": report.header is not None and not self.test}
        if report.rejected is not None and not answer.get("report_errors"):
            reason, detail = report.rejected
            answer["report_errors"] = [{"reason": reason, "message": detail}]
        return answer

    def document(self) -> dict[str, Any]:
        """The answer without its line list: format, reports and the summary."""
        upload = self.upload
        return {
            "format": upload.format,
            "file": upload.name,
            "received_at": upload.received_at.isoformat().replace("+00:00", "Z"),
            "reports": [self._report_answer(report) for _, report in sorted(self.reports.items())],
            "summary": self.summary(),
            "note": TEST_NOTE
            if self.test
            else "answers say what was known at receipt; the worker's own verdict is "
            "authoritative, and nothing is counted twice either way",
        } | ({"test": True} if self.test else {})

    def answer_lines(self, every: bool) -> Iterator[LineAnswer]:
        """Each line's answer (every line, or only those not accepted), in spool order."""
        for row in self.spool.lines(only_problems=not every):
            yield row.answer


def _as_sent(item: Parsed, field: str | None, detail: str | None) -> tuple[str | None, str | None]:
    """The field at fault and the detail in the sender's terms: for an X12 line, the
    element and segment the event's field was read from (`sold_at` is `DTM02` of segment
    15); for a CSV line, the column its item was read from (`upc`), so that the
    distributor's people find what to fix in their file."""
    segment, element = item.where.get(field, (None, None)) if item.where and field else (None, None)
    if element is None:
        return field, detail
    where = f"column {element}" if segment is None else f"{element} at segment {segment.index}"
    return element, f"{detail} (read from {where})"
