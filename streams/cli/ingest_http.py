"""`channelflow ingest --url`: a file sent to a running API. A report is streamed as one
request; JSON events are split into requests (one for a report) whose answers are merged;
after an HTTP 503 a request is sent again (what arrived the first time is recognized)."""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Final

import orjson

from streams.cli.progress import Progress
from streams.cli.support import (
    ServerUnreachable,
    UserError,
    authorized,
    bearer_token,
    http_problem,
)
from streams.ingest.formats.json_events import batch_of
from streams.ingest.formats.upload import Format, Unreadable

#: debit claims, sent to POST /api/ingest/claims
CLAIM_FORMATS: Final[tuple[Format, ...]] = ("claim-csv", "844")
#: JSON events sent per HTTP request when a file is split (each is its own request)
EVENTS_PER_REQUEST: Final = 5000
CHUNK: Final = 256 * 1024
#: seconds to wait before sending again after an HTTP 503 (the server's Kafka or PostgreSQL
#: is away); sending again is safe: what arrived the first time is recognized, not counted
RETRY_WAITS: Final = (1.0, 2.0, 4.0, 8.0)


class IngestError(UserError):
    """The file was refused as a whole (exit 2)."""


class _Unavailable(ServerUnreachable):
    """HTTP 503: worth sending again (exit 3 when it stays)."""


def over_http(args: argparse.Namespace, path: Path, fmt: Format) -> Any:
    base = args.url.rstrip("/")
    token = bearer_token(args)
    query = {
        "report_id": args.report_id,
        "replaces": args.replaces,
        "distributor_id": args.distributor,
        "filename": path.name,
    }
    if fmt == "events":
        return _events_over_http(args, token, base, path, query)
    endpoint = "csv" if fmt == "csv" else "edi"
    if fmt in CLAIM_FORMATS:  # the claims door reads the file's kind from its content
        endpoint = "claims"
        query = {"distributor_id": args.distributor, "filename": path.name}
    elif fmt != "csv":
        query = {"format": fmt, "distributor_id": args.distributor, "filename": path.name}
    url = f"{base}/api/ingest/{endpoint}?{_encode(query)}"
    size = path.stat().st_size

    def body() -> Iterator[bytes]:  # a bar of its own for each attempt
        return _chunks(path, Progress("uploading", "bytes", size))

    return _post(url, token, body, size, "application/octet-stream")


def _events_over_http(
    args: argparse.Namespace,
    token: str | None,
    base: str,
    path: Path,
    query: dict[str, str | None],
) -> Any:
    """JSON events, split into requests of EVENTS_PER_REQUEST (one request for a report)."""
    try:
        elements, options = batch_of(path.read_bytes())
    except Unreadable as exc:
        raise IngestError(f"{path}: {exc.message}") from None
    size = EVENTS_PER_REQUEST if args.report_id is None else max(len(elements), 1)
    query = {**options, **{k: v for k, v in query.items() if v is not None}}
    url = f"{base}/api/ingest/events?{_encode(query)}"
    merged: dict[str, Any] | None = None
    progress = Progress("submitting", "events", len(elements))
    for start in range(0, max(len(elements), 1), size):
        part = elements[start : start + size]
        body = b"[" + b",".join(_element_bytes(element) for element in part) + b"]"
        answer = _post(url, token, partial(iter, [body]), len(body), "application/json")
        progress.update_to(start + len(part))
        for line in answer["lines"]:
            line["line"] += start
        merged = answer if merged is None else _merge(merged, answer)
    progress.close()
    assert merged is not None
    return merged


def post_json(url: str, token: str | None, document: Any) -> Any:
    """POST a JSON document (sent again after an HTTP 503), its JSON answer; a refusal is
    an `IngestError` naming the API's error."""
    body = orjson.dumps(document)
    return _post(url, token, partial(iter, [body]), len(body), "application/json")


def _element_bytes(element: Any) -> bytes:
    return element if isinstance(element, bytes) else orjson.dumps(element)


def _merge(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    summary = dict(first["summary"])
    for key, value in second["summary"].items():
        if isinstance(value, int):
            summary[key] = summary.get(key, 0) + value
    reasons = Counter(first["summary"]["rejected_by_reason"])
    reasons.update(second["summary"]["rejected_by_reason"])
    summary["rejected_by_reason"] = dict(sorted(reasons.items()))
    return {
        **first,
        "reports": first["reports"] + second["reports"],
        "summary": summary,
        "lines": first["lines"] + second["lines"],
    }


def _encode(query: dict[str, Any]) -> str:
    return urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})


def _post(
    url: str, token: str | None, body: Callable[[], Iterator[bytes]], size: int, kind: str
) -> Any:
    """POST the body; after an HTTP 503 send it again, waiting RETRY_WAITS in turn."""
    for attempt, wait in enumerate(RETRY_WAITS, start=1):
        try:
            return _post_once(url, token, body(), size, kind)
        except _Unavailable as exc:
            print(
                f"{exc}\nsending again in {wait:g} s ({attempt}/{len(RETRY_WAITS)})",
                file=sys.stderr,
            )
            time.sleep(wait)
    return _post_once(url, token, body(), size, kind)


def _post_once(url: str, token: str | None, body: Iterator[bytes], size: int, kind: str) -> Any:
    headers = {"Content-Type": kind, "Content-Length": str(size)}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    authorized(request, token)
    try:
        with urllib.request.urlopen(request, timeout=3600) as response:
            return orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        problem = http_problem(error)
        raise (_Unavailable if error.code == 503 else IngestError)(problem) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerUnreachable(f"cannot reach {url}: {exc}") from None


def _chunks(path: Path, progress: Progress) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            progress.tick(len(chunk))
            yield chunk
    progress.close()
