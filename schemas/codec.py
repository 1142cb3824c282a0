"""Bytes <-> events. Every failure is an `InvalidEvent` naming the field and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from schemas.events import Envelope, Event
from schemas.types import Id, pattern_problem

_EVENT_ADAPTER: TypeAdapter[Envelope] = TypeAdapter(Event)
_ID_ADAPTER: TypeAdapter[str] = TypeAdapter(Id)


@dataclass(frozen=True, slots=True)
class InvalidEvent(Exception):
    """Input that is not a valid event. `reason` is a stable code; `detail` is for people."""

    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:5]:
        path = ".".join(str(p) for p in item["loc"]) or "(event)"
        parts.append(f"{path}: {error_message(item)}")
    more = error.error_count() - len(parts)
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


def error_message(item: ErrorDetails) -> str:
    """One pydantic error in words: what is wrong with an id or a text is said plainly."""
    value, context = item.get("input"), item.get("ctx") or {}
    if item["type"] == "string_pattern_mismatch" and isinstance(value, str):
        problem = pattern_problem(str(context.get("pattern")), value)
        if problem is not None:
            return f"{value!r}: {problem}"
    return item["msg"]


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
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent("invalid_json", f"not valid JSON: {exc}") from None
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
        raise InvalidEvent("schema_violation", _describe(exc)) from None


def event_to_dict(event: Envelope) -> dict[str, object]:
    """The JSON form of an event (money as strings, times ISO 8601 UTC)."""
    return event.model_dump(mode="json", exclude_none=True)


def encode_event(event: Envelope) -> bytes:
    return orjson.dumps(event_to_dict(event))
