"""Receiving an upload's body: a JSON batch read whole within its limit, a report streamed
to disk (the raw body, or a multipart form's file part), counted as it expands and kept
gzip-compressed when it was sent compressed."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager as ContextManager
from contextlib import nullcontext
from pathlib import Path
from typing import IO, BinaryIO, Final, TypeGuard, cast

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from streams.api.http_body import within
from streams.config import Settings
from streams.ingest.formats.upload import Stored

CHUNK: Final = 256 * 1024
JSON_LIMIT: Final = ("a JSON event batch", "CHANNELFLOW_MAX_JSON_BYTES")
REPORT_LIMIT: Final = ("a report upload", "CHANNELFLOW_MAX_REPORT_BYTES")
CLAIM_LIMIT: Final = ("a claim file (CSV or 844)", "CHANNELFLOW_MAX_CLAIM_BYTES")


def too_large(limit: int, size: int, kind: tuple[str, str]) -> web.HTTPRequestEntityTooLarge:
    what, variable = kind
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=size,
        text=f"{what} may be at most {limit / (1024 * 1024):,.1f} MiB ({limit:,} bytes; "
        f"{variable} sets the limit); nothing was published",
    )


def too_many_events(limit: int, count: int) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=count,
        text=f"a JSON event batch may hold at most {limit:,} events, this one holds "
        f"{count:,} (CHANNELFLOW_MAX_JSON_EVENTS sets the limit): send them in several "
        "requests, or a report as CSV; nothing was published",
    )


async def read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    """The whole body, at most `limit` bytes (413 beyond; at once if the size is declared),
    each part of it within `timeout` seconds (408)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit, declared, JSON_LIMIT)
    data = bytearray()
    while chunk := await within(request.content.read(CHUNK), timeout):
        data += chunk
        if len(data) > limit:
            raise too_large(limit, len(data), JSON_LIMIT)
    return bytes(data)


async def receive(
    request: web.Request, path: Path, settings: Settings, claims: bool = False
) -> tuple[str | None, str, Stored, int]:
    """Stream the uploaded file to `path` (the raw body, or the file part of a multipart
    form); returns (the file name the form gave, if any; sha256 of the file's bytes; the
    file as stored; its size, expanded). Each part must come within the body timeout (408);
    a report may take `max_report_bytes`, a file of `claims` `max_claim_bytes`.

    The limit holds for the file's bytes, expanded: a body sent compressed
    (Content-Encoding, expanded by aiohttp as it arrives) is counted as it expands and
    kept compressed on disk, so a small body expanding past the limit is refused having
    taken about its own size of disk.
    """
    limit, kind = claim_limit(settings) if claims else (settings.max_report_bytes, REPORT_LIMIT)
    timeout = settings.body_timeout_seconds
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit, declared, kind)
    name: str | None = None
    form: MultipartReader | None = None
    read_chunk: Callable[[], Awaitable[bytes]]
    if request.content_type.startswith("multipart/"):
        form, part = await within(file_part(request), timeout)
        name = part.filename

        async def read_chunk() -> bytes:
            try:
                return await within(part.read_chunk(CHUNK), timeout)
            except FORM_ERRORS as exc:
                raise unreadable_form(exc) from None

    else:

        async def read_chunk() -> bytes:
            return await within(request.content.read(CHUNK), timeout)

    digest = hashlib.sha256()
    size = 0
    file = Stored(path, gzipped=request.headers.get("Content-Encoding", "identity") != "identity")
    with path.open("wb") as handle, compressing(handle, file.gzipped) as sink:
        while chunk := await read_chunk():
            size += len(chunk)
            if size > limit:
                raise too_large(limit, size, kind)
            digest.update(chunk)
            sink.write(chunk)
    if form is not None:
        await within(no_other_file(form), timeout)
    return name, digest.hexdigest(), file, size


def claim_limit(settings: Settings) -> tuple[int, tuple[str, str]]:
    """Claims are read whole, grouped across their lines (about 30 times the file's size
    in memory): their own limit, below a report's."""
    return settings.max_claim_bytes, CLAIM_LIMIT


def compressing(handle: BinaryIO, gzipped: bool) -> ContextManager[IO[bytes]]:
    """What the upload is written through: gzip (fastest level: the point is the disk a
    compressed body takes, not to compress well), or the file itself."""
    if gzipped:  # a GzipFile is a binary stream (typeshed does not declare it IO[bytes])
        return cast(IO[bytes], gzip.GzipFile(fileobj=handle, mode="wb", compresslevel=1, mtime=0))
    return nullcontext(handle)


#: what aiohttp raises for a form that is not one: no boundary, one too long or never
#: found, a part's header line past 8 KiB
FORM_ERRORS: Final = (ValueError, HttpProcessingError)


def unreadable_form(exc: Exception) -> web.HTTPBadRequest:
    why = exc.message if isinstance(exc, HttpProcessingError) else str(exc)
    return web.HTTPBadRequest(text=f"the multipart form cannot be read: {why[:200]}")


async def file_part(request: web.Request) -> tuple[MultipartReader, BodyPartReader]:
    """The form and its first file part (a part with a file name, or named `file`)."""
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                raise web.HTTPBadRequest(text="the multipart form has no file part")
            if _is_file(part):
                return reader, part
    except FORM_ERRORS as exc:
        raise unreadable_form(exc) from None


async def no_other_file(form: MultipartReader) -> None:
    """The rest of a form whose file was read: a second file is refused, not left unread
    while the first is answered (one upload is one file)."""
    try:
        while (part := await form.next()) is not None:
            if _is_file(part):
                message = "the multipart form has more than one file part: send one per request"
                raise web.HTTPBadRequest(text=message)
    except FORM_ERRORS as exc:
        raise unreadable_form(exc) from None


def _is_file(part: MultipartReader | BodyPartReader) -> TypeGuard[BodyPartReader]:
    """A part with a file name, or named `file` (a nested form is none)."""
    return isinstance(part, BodyPartReader) and bool(part.filename or part.name == "file")
