"""JSON events: a batch (an array, `{"events", "report"}`, one event or JSON Lines), each
element decoded to its event or rejected, and a batch sent as one report."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any, Final

import orjson

from schemas.codec import InvalidEvent, decode_event, event_of
from schemas.envelope import Envelope
from schemas.events import PERSONAL_FIELDS_OF, SaleReported
from streams.ingest.formats.report_header import SaleDays, report_closed
from streams.ingest.formats.upload import (
    EVENT_TYPE_NAMES,
    Item,
    Parsed,
    ReportClosed,
    Unreadable,
    Upload,
)
from streams.ingest.parsers.common import utf16_marked
from streams.ingest.parsers.content_kind import DOORS, content_kind

#: options a JSON batch may carry in its "report" object (as the query parameters)
REPORT_OPTIONS: Final = ("report_id", "replaces", "period_start", "period_end")


def batch_of(body: bytes) -> tuple[list[Any], dict[str, Any]]:
    """The events of a JSON body and the report options it carries.

    The body is a JSON array of events, {"events": [...], "report": {...}}, one event
    object, or JSON Lines (one event per line; a line that is not JSON stays its bytes,
    to be answered `invalid_json` on its own). A body of which no line is JSON is no JSON
    Lines either (a CSV report sent to this door): unreadable as a whole, nothing of it a line.
    A UTF-8 byte-order mark before it is passed over, as RFC 8259 allows and the CSV and X12
    doors do (Windows tools write one: Notepad, PowerShell's `Out-File -Encoding utf8`).
    """
    body = body.removeprefix(codecs.BOM_UTF8)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        lines = [line for line in body.splitlines() if line.strip()]
        elements = [_json_or_bytes(line) for line in lines]
        if len(lines) < 2 or all(isinstance(element, bytes) for element in elements):
            why = _encoding_problem(body) or f"the body is not JSON: {exc}{_other_format(body)}"
            raise Unreadable("invalid_json", why) from None
        return elements, {}
    options: Any = {}
    if isinstance(data, dict) and "event_type" in data:
        data = [data]
    elif isinstance(data, dict):
        options = data.get("report") or {}
        data = data.get("events")
    if not isinstance(data, list):
        raise Unreadable(
            "invalid_batch",
            'send a JSON array of events, {"events": [...]} with options, or JSON Lines',
        )
    if not isinstance(options, dict) or set(options) - set(REPORT_OPTIONS):
        raise Unreadable(
            "invalid_batch", f'"report" must be an object with only {", ".join(REPORT_OPTIONS)}'
        )
    return data, options


def _written(element: Any, index: int) -> bytes:
    """An element's bytes, as its line is kept. orjson reads JSON nested up to 1024 levels
    deep but writes no more than 255: an element deeper than that (no event is) makes the
    batch unreadable (422), not a server error."""
    try:
        return orjson.dumps(element)
    except TypeError:
        raise Unreadable(
            "invalid_batch", f"element {index + 1} nests deeper than any event can (255 levels)"
        ) from None


def _without_personal(element: Any, original: bytes) -> bytes:
    """What a refused element leaves to the dead letters: its personal fields emptied (they
    were never sealed; docs/PRIVACY.md)."""
    if not isinstance(element, dict):
        return original
    personal = PERSONAL_FIELDS_OF.get(str(element.get("event_type")), ())
    if not any(element.get(name) is not None for name in personal):
        return original
    return orjson.dumps({k: None if k in personal else v for k, v in element.items()})


def _encoding_problem(body: bytes) -> str | None:
    """Why a body that is no JSON is not even UTF-8 text, which JSON is (RFC 8259): a
    "Unicode" (UTF-16) save, or a Windows code page's accented letters; None when it is."""
    if utf16_marked(body) or b"\x00" in body[:4]:
        return "the body is UTF-16 text, not UTF-8: JSON must be sent as UTF-8; save it so"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        return (
            f"the body is not UTF-8: byte 0x{body[exc.start]:02X} on line {line} (a Windows "
            "code page's accented letter, as in cp1252?): JSON must be sent as UTF-8; save it so"
        )
    return None


def _other_format(body: bytes) -> str:
    """A hint for a body that is another door's format."""
    kind = content_kind(body[:4096])
    if kind == "x12":
        return f" (an X12 interchange? send it to {DOORS[kind]})"
    if kind == "csv" and b"," in body.split(b"\n", 1)[0]:
        return f" (a CSV report? send it to {DOORS[kind]})"
    return ""


def _json_or_bytes(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return line


def read_events(upload: Upload, elements: list[Any]) -> Iterator[Item]:
    """JSON events; report headers in the batch go first (a header precedes its lines).

    With a report option (`report_id`), the batch is one report: its sale lines carry
    that report_id (a line naming another one is rejected `report_mismatch`) and a
    ReportSubmitted is made for it.
    """
    headers = [i for i, e in enumerate(elements) if _type_of(e) == "ReportSubmitted"]
    is_header = set(headers)
    order = [*headers, *(i for i in range(len(elements)) if i not in is_header)]
    replaced = {
        e["report_id"]: e["replaces_report_id"]
        for e in (elements[i] for i in headers)
        if isinstance(e.get("report_id"), str) and isinstance(e.get("replaces_report_id"), str)
    }
    report = _BatchReport(upload) if upload.report_id is not None else None
    for index in order:
        element = elements[index]
        ref = f"{upload.name}[{index + 1}]"
        original = element if isinstance(element, bytes) else _written(element, index)
        try:
            event = _stamped(element, upload, ref)
        except InvalidEvent as exc:
            original = _without_personal(element, original)
            named = element.get("distributor_id") if isinstance(element, dict) else None
            in_report = report is not None and _type_of(element) == "SaleReported"
            if report is not None and in_report:
                report.lines += 1  # a report's line count includes its rejected lines
            yield Parsed(
                index + 1,
                ref,
                None,
                exc.reason,
                _field_of(exc.detail),
                exc.detail,
                original,
                report=1 if in_report else 0,
                distributor_id=named if isinstance(named, str) else None,
            )
            continue
        if report is not None and isinstance(event, SaleReported):
            yield report.line(index + 1, ref, event, original)
            continue
        report_id = event.report_id if isinstance(event, SaleReported) else None
        yield Parsed(
            index + 1, ref, event, original=original, replaces=replaced.get(report_id or "")
        )
    if report is not None:
        yield report.close(upload)


def _stamped(element: Any, upload: Upload, ref: str) -> Envelope:
    """The element's event, its `recorded_at`, `source` and `source_ref` the gateway's, set
    before it is validated: a producer's value there, whatever it is, is neither trusted
    nor refused."""
    if isinstance(element, bytes):
        return decode_event(element)
    if not isinstance(element, dict):
        return event_of(element)
    door = {"recorded_at": upload.received_at, "source": upload.source, "source_ref": ref}
    return event_of({**element, **door})


def _type_of(element: Any) -> Any:
    return element.get("event_type") if isinstance(element, dict) else None


def _field_of(detail: str) -> str | None:
    """The first field path of a codec detail, without the event type pydantic puts
    first ("SaleReported.unit_price: ..." → "unit_price")."""
    head, sep, _ = detail.partition(": ")
    if not sep or " " in head or head == "(event)":
        return None
    kind, dot, path = head.partition(".")
    return path if dot and kind in EVENT_TYPE_NAMES else head


class _BatchReport:
    """A JSON batch sent as one report: its lines and the ReportSubmitted made for it."""

    def __init__(self, upload: Upload) -> None:
        assert upload.report_id is not None
        self.report_id = upload.report_id
        self.replaces = upload.replaces
        self.distributor = upload.uploader
        self.lines = 0
        self.days = SaleDays(upload)

    def line(self, number: int, ref: str, sale: SaleReported, original: bytes) -> Parsed:
        self.lines += 1
        self.distributor = self.distributor or sale.distributor_id
        problem: tuple[str, str, str] | None = None
        if sale.report_id not in (None, self.report_id):
            problem = (
                "report_mismatch",
                "report_id",
                f"report_id {sale.report_id!r} is not the report sent ({self.report_id!r})",
            )
        elif sale.distributor_id != self.distributor:
            problem = (
                "distributor_mismatch",
                "distributor_id",
                f"distributor_id {sale.distributor_id!r} is not the report's {self.distributor!r}",
            )
        if problem is not None:
            reason, field_name, detail = problem
            return Parsed(
                number,
                ref,
                None,
                reason,
                field_name,
                detail,
                original,
                report=1,
                distributor_id=sale.distributor_id,
            )
        self.days.add(sale)
        if sale.report_id is None:
            sale = sale.model_copy(update={"report_id": self.report_id})
        return Parsed(number, ref, sale, original=original, report=1, replaces=self.replaces)

    def close(self, upload: Upload) -> ReportClosed:
        return report_closed(upload, 1, self.distributor, self.report_id, self.lines, self.days)
