"""Bytes <-> events. Every failure is an `InvalidEvent` naming the field and the reason."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import orjson
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from schemas.events import SEALED_FIELDS, Envelope, Event
from schemas.types import Id, pattern_problem

#: the most events one message may carry (a bundle: a JSON array of events)
MAX_BUNDLE: Final = 1000
INVALID_BUNDLE: Final = "invalid_bundle"

_EVENT_ADAPTER: TypeAdapter[Envelope] = TypeAdapter(Event)
_ID_ADAPTER: TypeAdapter[str] = TypeAdapter(Id)


@dataclass(frozen=True, slots=True)
class InvalidEvent(Exception):
    """Input that is not a valid event. `reason` is a stable code; `detail` is for people."""

    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def describe(error: ValidationError) -> str:
    """A model's refusal in one line: each field's path and what is wrong with it."""
    parts = []
    for item in error.errors(include_url=False)[:5]:
        path = ".".join(str(p) for p in item["loc"]) or "(event)"
        parts.append(f"{path}: {error_message(item)}")
    more = error.error_count() - len(parts)
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


#: pydantic's error types of a text that is no date-time
_NOT_A_TIME: Final = frozenset({"datetime_from_date_parsing", "datetime_parsing"})
_TIME_FORMS: Final = "2026-04-01T14:30:00+02:00 or 2026-04-01T12:30:00Z"


def error_message(item: ErrorDetails) -> str:
    """One pydantic error in words: what is wrong with an id, a text or a time is said
    plainly (quoting the value, unless it is personal data)."""
    value, context = item.get("input"), item.get("ctx") or {}
    kind = item["type"]
    if kind == "string_pattern_mismatch" and isinstance(value, str):
        problem = pattern_problem(str(context.get("pattern")), value)
        if problem is not None:
            return problem if is_personal(item) else f"{value!r}: {problem}"
    if kind in _NOT_A_TIME and isinstance(value, str):
        why = context.get("error")
        return (
            f"{value!r} is not an ISO 8601 date-time{f' ({why})' if why else ''}: write "
            f"{_TIME_FORMS}, the year first (03/04/2026 could be 3 April or 4 March)"
        )
    if kind == "timezone_aware" and isinstance(value, str):
        return f"{value!r} has no time zone: add Z or an offset, as in {_TIME_FORMS}"
    return item["msg"]


def is_personal(item: ErrorDetails) -> bool:
    """Whether the error is about a personal field, whose value no message may quote."""
    return bool(item["loc"]) and item["loc"][-1] in SEALED_FIELDS


def id_problem(value: object) -> str | None:
    """Why the wire schema would refuse `value` as an id (an option, a file's report id),
    in words; None when it takes it."""
    try:
        _ID_ADAPTER.validate_python(value, strict=True)
    except ValidationError as exc:
        return error_message(exc.errors(include_url=False)[0])
    return None


def decode_event(raw: bytes | str, recorded_at: datetime | None = None) -> Envelope:
    """Parse and validate one JSON event; `recorded_at`, when given, is when the system
    recorded it (a broker's append time) and replaces what the producer wrote there."""
    return event_of(_parsed(raw), recorded_at)


def event_of(data: object, recorded_at: datetime | None = None) -> Envelope:
    """Validate one parsed JSON value as an event (see `decode_event`)."""
    if not isinstance(data, dict):
        raise InvalidEvent("invalid_json", "an event must be a JSON object")
    if "event_type" not in data:
        raise InvalidEvent("schema_violation", "event_type: field required")
    if recorded_at is not None:
        data["recorded_at"] = recorded_at
    try:
        # the adapter's validator itself: what `validate_python` calls, minus a wrapper
        return _EVENT_ADAPTER.validator.validate_python(data)
    except ValidationError as exc:
        raise InvalidEvent("schema_violation", describe(exc)) from None


def message_values(raw: bytes) -> tuple[list[object], bool]:
    """The parsed events of one message and whether it is a bundle: a JSON object is one
    event; a JSON array of 1 to MAX_BUNDLE events is a bundle, its events applied in
    order. A message that is not JSON, or an empty or oversized bundle, is refused whole."""
    data = _parsed(raw)
    if not isinstance(data, list):
        return [data], False
    if not data:
        raise InvalidEvent(INVALID_BUNDLE, "a bundle must hold at least one event")
    if len(data) > MAX_BUNDLE:
        raise InvalidEvent(
            INVALID_BUNDLE,
            f"a bundle holds at most {MAX_BUNDLE} events; this one holds {len(data)}",
        )
    return data, True


def bundle_elements(raw: bytes) -> list[bytes]:
    """Each event of a bundle exactly as it was sent (what a dead letter keeps of a bad
    one); `raw` is a bundle `message_values` took."""
    text = raw.decode("utf-8")
    decoder = json.JSONDecoder()
    elements: list[bytes] = []
    at = text.index("[") + 1
    while True:
        at = _skip(text, at)
        if text[at] == "]":
            return elements
        _, end = decoder.raw_decode(text, at)
        elements.append(text[at:end].encode("utf-8"))
        at = _skip(text, end)
        at += text[at] == ","


def bundle_bytes(values: list[bytes]) -> bytes:
    """A bundle of already-encoded events."""
    return b"[" + b",".join(values) + b"]"


def _skip(text: str, at: int) -> int:
    while text[at] in " \t\r\n":
        at += 1
    return at


def _parsed(raw: bytes | str) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent("invalid_json", f"not valid JSON: {exc}") from None


def event_to_dict(event: Envelope) -> dict[str, object]:
    """The JSON form of an event (money as strings, times ISO 8601 UTC)."""
    return event.model_dump(mode="json", exclude_none=True)


def encode_event(event: Envelope) -> bytes:
    """The event's JSON: the bytes of `orjson.dumps(event_to_dict(event))`, serialized by
    pydantic-core in one step (about half the time; tests/unit/test_schemas.py compares)."""
    return event.__pydantic_serializer__.to_json(event, exclude_none=True)
