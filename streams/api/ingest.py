"""HTTP ingest: JSON event batches, CSV and X12 (867 / 852) report uploads.

  POST /api/ingest/events   a JSON array of events, or {"events": [...], "report": {...}}
  POST /api/ingest/csv      a CSV report (the template of docs/INGEST.md)
  POST /api/ingest/edi      an X12 interchange of 867, 852 or 844 (claims) transaction
                            sets (?format=867|852|844, else the first ST01 decides)
  POST /api/ingest/claims   debit claims: a CSV claim file or an X12 844 interchange (by
                            content; docs/CLAIMS.md)

An X12 interchange (either door) is answered with its TA1 / 997 when asked (?ack=997 or
Accept: application/edi-x12; a CSV claim file is answered in JSON all the same), and
registered once published where a register is configured: one received before is noted
TA1 025 and the JSON answer's `interchange` names its first receipt.

Report bodies are the raw file (any content type) or multipart/form-data with one file
part; they are streamed to disk, never held in memory. Query options: report_id,
replaces, period_start, period_end (CSV and JSON reports), distributor_id (admin: on
whose behalf), filename (names the lines' source_ref), lines=all (answer every line of
a report, not only those not accepted). A distributor token submits its own data only,
an admin token anyone's; the read-only roles may not submit (403).

The answer (200) holds the reports read, a summary (answers per kind, rejections per
reason, messages published) and the lines' answers. A request that may not be made
(401, 403), is too large (413) or cannot be read as a whole (422) publishes nothing.
See docs/INGEST.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import orjson
from aiohttp import web

from domain.business_time import TimeRules
from domain.permissions import is_scoped, within_scope
from projections.ingest_check import Catalog
from projections.keyvalue import KeyValue
from projections.stores import ChannelStores
from streams import metrics
from streams.api.context import CONTEXT, PRINCIPAL, SETTINGS, json_error, json_response
from streams.api.upload_body import claim_limit, read_body, receive, too_large, too_many_events
from streams.auth import Forbidden, Principal
from streams.ingest.acks import X12_MEDIA, AckWatch
from streams.ingest.formats import read
from streams.ingest.formats.json_events import batch_of, read_events
from streams.ingest.formats.upload import (
    SOURCES,
    Format,
    Item,
    Stored,
    Unreadable,
    Upload,
    file_label,
    option_id,
)
from streams.ingest.gateway import Gateway, StoreView, authorize, authorize_events
from streams.ingest.interchanges import is_test_file, register, register_of
from streams.ingest.parsers.content_kind import content_kind
from streams.ingest.parsers.csv_report import CsvFormatError, CsvHeaderError
from streams.ingest.parsers.x12 import X12Error, first_set_header, first_transaction_set
from streams.ingest.personal import door_protection
from streams.ingest.spool import LineAnswer, Spool

#: line answers written per chunk of a streamed answer
ANSWER_CHUNK: Final = 1000
EDI_FORMATS: Final[tuple[Format, ...]] = ("867", "852", "844")
#: why an interchange is refused for the kind of its transaction sets
SET_REFUSALS: Final = frozenset({"wrong_format", "unsupported_transaction_set"})

#: why an upload cannot be read as a whole (answered 422)
UnreadableError = Unreadable | CsvHeaderError | CsvFormatError | X12Error


def store_view(stores: ChannelStores) -> StoreView:
    """The precheck's view of this process's stores, read without side effects."""
    return StoreView(Catalog(stores.products, stores.aliases), _reader(stores.seen))


def _reader(store: KeyValue[Any]) -> Callable[[str], Any]:
    """A store's non-caching read where it has one (the worker's tables), else `get`."""
    peek = getattr(store, "peek", None)
    return peek if callable(peek) else store.get


def submitter(request: web.Request) -> Principal:
    """The caller, if it may submit data at all (else 401 / 403)."""
    principal = request[PRINCIPAL]
    authorize(principal)
    return principal


@dataclass(frozen=True)
class Acked:
    """An X12 upload answered with its acknowledgement (TA1 / 997) instead of JSON."""

    watch: AckWatch
    file: Stored
    digest: str
    at: datetime

    async def answer(
        self, failure: X12Error | None, status: int, resent: bool = False
    ) -> web.Response | None:
        """The acknowledgement as the answer (None: the interchange has no readable ISA),
        written in a thread: it reads the interchange's envelope once more."""
        args = (self.file, self.digest, self.at, failure, resent)
        body = await asyncio.to_thread(self.watch.acknowledgement, *args)
        if body is None:
            return None
        return web.Response(status=status, body=body, content_type=X12_MEDIA)


async def run(
    request: web.Request,
    upload: Upload,
    items: Callable[[], Iterator[Item]],
    small: bool,
    every_line: bool = True,
    interchange: Stored | None = None,
    acked: Acked | None = None,
) -> web.StreamResponse:
    """Check every line, then publish, then answer: an error before publishing
    leaves nothing published. A `small` request (a JSON batch) is spooled in memory
    and answered whole, in request order. An X12 `interchange` is registered once
    published (streams/ingest/interchanges.py): the answer says whether it was received
    before; a test one (ISA15 T) is checked and answered, nothing published nor
    registered; an `acked` one is answered with its X12 acknowledgement."""
    context = request.app[CONTEXT]
    started = time.perf_counter()
    with Spool(in_memory=small) as spool:
        test = interchange is not None and is_test_file(interchange)
        protection = door_protection(request.app[SETTINGS], test)
        view = store_view(context.stores())
        gateway = Gateway(upload, view, spool, protection=protection, test=test)
        try:
            await gateway.check(items())
        except (Unreadable, CsvHeaderError, CsvFormatError, X12Error) as exc:
            return await _refused(exc, acked)
        await gateway.publish(context.submit)
        registered = None
        if interchange is not None:
            registry = register_of(request.app[SETTINGS])
            registered = await register(registry, interchange, gateway)
        resent = registered is not None and registered.resent
        acknowledged = None if acked is None else await acked.answer(None, 200, resent)
        head = gateway.document()
        if registered is not None:
            head["interchange"] = registered.answer()
        if acknowledged is not None:
            response: web.StreamResponse = acknowledged
        elif small:
            lines = sorted(gateway.answer_lines(every=True), key=lambda answer: answer.line)
            response = json_response({**head, "lines": [line.to_json() for line in lines]})
        else:
            response = await _streamed(request, head, gateway.answer_lines(every_line))
    metrics.INGEST_REQUEST_SECONDS.labels(upload.format).observe(time.perf_counter() - started)
    return response


async def events(request: web.Request) -> web.StreamResponse:
    limits = request.app[SETTINGS]
    principal = submitter(request)
    body = await read_body(request, limits.max_json_bytes, limits.body_timeout_seconds)
    try:
        elements, options = batch_of(body)
    except Unreadable as exc:
        return _unreadable(exc)
    if len(elements) > limits.max_json_events:
        raise too_many_events(limits.max_json_events, len(elements))
    authorize_events(principal, elements)
    options = {**options, **request.query}
    digest = hashlib.sha256(body).hexdigest()
    upload = _upload(principal, "events", "api", digest, options, limits.time_rules())
    return await run(request, upload, lambda: read_events(upload, elements), small=True)


async def csv_report(request: web.Request) -> web.StreamResponse:
    limits = request.app[SETTINGS]
    principal = submitter(request)
    every = _every_line(request)
    with _upload_file() as path:
        name, digest, file, _ = await receive(request, path, limits)
        options = dict(request.query)
        name = name or "upload.csv"
        upload = _upload(principal, "csv", name, digest, options, limits.time_rules())
        return await run(request, upload, lambda: read(upload, file), False, every)


async def edi_report(request: web.Request) -> web.StreamResponse:
    limits = request.app[SETTINGS]
    principal = submitter(request)
    every = _every_line(request)
    wanted = request.query.get("format")  # its choices: `checked_query`
    with _upload_file() as path:
        name, digest, file, size = await receive(request, path, limits)
        acked = _acked(request, file, digest)
        try:
            kind = _edi_format(file, wanted)
        except (Unreadable, X12Error) as exc:
            return await _refused(exc, acked)
        limit, what = claim_limit(limits)
        if kind == "844" and size > limit:
            raise too_large(limit, size, what)
        options = dict(request.query)
        name = name or f"upload.{kind}"
        upload = _upload(principal, kind, name, digest, options, limits.time_rules())
        return await _interchange(request, upload, file, every, acked)


def _acked(request: web.Request, file: Stored, digest: str) -> Acked | None:
    """The X12 acknowledgement, if asked for: `?ack=997` or `Accept: application/edi-x12`."""
    asked = request.query.get("ack") == "997"  # its choices: `checked_query`
    if asked or X12_MEDIA in request.headers.get("Accept", ""):
        return Acked(AckWatch(), file, digest, datetime.now(UTC))
    return None


async def _interchange(
    request: web.Request, upload: Upload, file: Stored, every: bool, acked: Acked | None
) -> web.StreamResponse:
    """`run` on an X12 interchange (either door): registered once published, and its
    parsers' findings noted for its acknowledgement when it is asked for."""

    def items() -> Iterator[Item]:
        lines = read(upload, file)
        return lines if acked is None else acked.watch.watch(lines, upload.format)

    return await run(request, upload, items, False, every, file, acked)


async def claims(request: web.Request) -> web.StreamResponse:
    """Debit claims, a CSV claim file or an 844 by content: each claim one event on the
    claims topic, a claim with any problem refused whole (docs/CLAIMS.md)."""
    limits = request.app[SETTINGS]
    principal = submitter(request)
    every = _every_line(request)
    with _upload_file() as path:
        name, digest, file, _ = await receive(request, path, limits, claims=True)
        acked = _acked(request, file, digest)
        try:
            kind = _claim_format(file)
        except (Unreadable, X12Error) as exc:
            return await _refused(exc, acked)
        options = dict(request.query)
        name = name or ("upload.844" if kind == "844" else "claims.csv")
        upload = _upload(principal, kind, name, digest, options, limits.time_rules())
        if kind == "844":
            return await _interchange(request, upload, file, every, acked)
        return await run(request, upload, lambda: read(upload, file), False, every)


def _upload(
    principal: Principal,
    fmt: Format,
    name: str,
    digest: str,
    options: dict[str, Any],
    rules: TimeRules,
) -> Upload:
    report_id = _option_id(options, "report_id")
    replaces = _option_id(options, "replaces")
    if replaces is not None and report_id is None:
        raise web.HTTPBadRequest(text="replaces needs report_id (the replacing report's id)")
    if replaces is not None and replaces == report_id:
        raise web.HTTPBadRequest(text="a report cannot replace itself: give it a new report_id")
    distributor = _option_id(options, "distributor_id")
    if is_scoped(principal.role):
        if distributor is not None and not within_scope(
            principal.role, principal.distributor_id, distributor
        ):
            raise Forbidden(
                f"{principal.actor} may submit only distributor {principal.distributor_id}'s "
                f"data, not distributor {distributor}'s; nothing was published"
            )
        distributor = None  # a distributor's uploads are its own
    return Upload(
        fmt,
        file_label(str(options.get("filename") or name)),
        principal,
        datetime.now(UTC),
        digest,
        SOURCES[fmt],
        report_id,
        replaces,
        _period(options),
        distributor,
        rules,
    )


async def _streamed(
    request: web.Request, head: dict[str, Any], lines: Iterator[LineAnswer]
) -> web.StreamResponse:
    """The answer with its line list streamed from the spool (it may be long)."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    await response.write(orjson.dumps(head)[:-1] + b',"lines":[')
    chunk: list[bytes] = []
    separator = b""
    for line in lines:
        chunk.append(orjson.dumps(line.to_json()))
        if len(chunk) >= ANSWER_CHUNK:
            await response.write(separator + b",".join(chunk))
            chunk, separator = [], b","
    if chunk:
        await response.write(separator + b",".join(chunk))
    await response.write(b"]}")
    await response.write_eof()
    return response


async def _refused(exc: UnreadableError, acked: Acked | None) -> web.Response:
    """422: the upload cannot be read as a whole (an X12 one answered with its
    acknowledgement when asked and its ISA can be read: a transaction set of a kind not
    read is rejected as not supported)."""
    failure = exc if isinstance(exc, X12Error) else None
    if isinstance(exc, Unreadable) and exc.code in SET_REFUSALS:
        segment = exc.details.get("segment")
        if isinstance(segment, int):
            failure = X12Error(segment, 1, exc.message, "ST")
    if acked is not None and failure is not None:
        acknowledged = await acked.answer(failure, 422)
        if acknowledged is not None:
            return acknowledged
    return _unreadable(exc)


def _unreadable(exc: UnreadableError) -> web.Response:
    """422 naming what cannot be read, and where."""
    if isinstance(exc, Unreadable):
        return json_error(422, exc.code, exc.message, **exc.details)
    if isinstance(exc, CsvHeaderError):
        return json_error(
            422,
            "bad_csv_header",
            exc.message,
            unknown=exc.unknown,
            missing=exc.missing,
            duplicate=exc.duplicate,
        )
    if isinstance(exc, CsvFormatError):
        return json_error(422, "bad_csv", str(exc), line=exc.line)
    element = None if exc.element_index is None else f"{exc.element_index:02d}"
    return json_error(
        422,
        "x12_structure",
        f"not a readable X12 interchange: {exc}",
        segment=exc.segment_index,
        element=element,
    )


@contextmanager
def _upload_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="channelflow-upload-") as directory:
        yield Path(directory) / "body"


def _edi_format(file: Stored, wanted: str | None) -> Format:
    """867 or 852: as asked, and as the interchange's first transaction set says (a
    refusal names its ST's segment number)."""
    with file.open() as stream:
        st = first_set_header(stream)
    found = None if st is None else st.get(1) or None
    where = {} if st is None else {"segment": st.index}
    if wanted is not None and found not in (None, wanted):
        raise Unreadable(
            "wrong_format",
            f"format={wanted} was asked for, but the interchange holds {found}",
            **where,
        )
    for kind in EDI_FORMATS:
        if (wanted or found) == kind:
            return kind
    raise Unreadable(
        "unsupported_transaction_set",
        f"the interchange holds {found or 'no'} transaction sets: 867, 852 and 844 are read",
        **where,
    )


def _claim_format(file: Stored) -> Format:
    """An X12 interchange (by its ISA) must hold 844 claims; anything else is read as the
    CSV claim template."""
    with file.open() as stream:
        head = stream.read(64)
    if content_kind(head) != "x12":
        return "claim-csv"
    with file.open() as stream:
        found = first_transaction_set(stream)
    if found != "844":
        raise Unreadable(
            "unsupported_transaction_set",
            f"the interchange holds {found or 'no'} transaction sets: claims come as 844",
        )
    return "844"


def _every_line(request: web.Request) -> bool:
    return request.query.get("lines") == "all"  # its choices: `checked_query`


def _option_id(options: dict[str, Any], name: str) -> str | None:
    try:
        return option_id(name, options.get(name))
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


def _period(options: dict[str, Any]) -> tuple[date, date] | None:
    start, end = _date_option(options, "period_start"), _date_option(options, "period_end")
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = "period_start" if start is None else "period_end"
        raise web.HTTPBadRequest(
            text=f"{missing} is missing: period_start and period_end go together"
        )
    if end < start:
        raise web.HTTPBadRequest(text="period_end is before period_start")
    return start, end


def _date_option(options: dict[str, Any], name: str) -> date | None:
    value = options.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} {value!r} is not a date like 2026-04-06") from None
