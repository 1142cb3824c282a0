"""The dead-letter record: what was rejected, why, and from where, with its original bytes."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.envelope import Envelope


class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    detail: str
    source: str  # topic, file name or endpoint the input came from
    partition: int | None = None
    offset: int | None = None  # Kafka offset, or line number for files
    #: the event's place in its bundle (a message that carries many events); None: the
    #: message is the one event. Kafka lineage: topic:partition:offset#index
    index: int | None = None
    key: str | None = None
    #: the door the line came in by (its event's `source`: csv, edi867, api, kafka...); None
    #: when the input was no event (not JSON, no schema) or was dead-lettered before it was kept
    door: str | None = None
    #: where the gateway read the line ("weekly.csv:42", "w14.edi 867 R-17 segment 20")
    source_ref: str | None = None
    original_b64: str  # the input exactly as received
    recorded_at: datetime

    @classmethod
    def read(cls, value: bytes) -> DeadLetter:
        """A letter as a worker wrote it. Fields a later version added are left out, so a
        reader of this version still lists a newer worker's letters during a rolling
        upgrade (they were all `unreadable_dead_letter`); anything else wrong is a
        `ValidationError`, as from `model_validate_json`."""
        try:
            return cls.model_validate_json(value)
        except ValidationError as exc:
            if any(error["type"] != "extra_forbidden" for error in exc.errors()):
                raise
        known = {k: v for k, v in orjson.loads(value).items() if k in cls.model_fields}
        return cls.model_validate(known)

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)

    @classmethod
    def of(
        cls,
        original: bytes,
        reason: str,
        detail: str,
        source: str,
        recorded_at: datetime,
        partition: int | None = None,
        offset: int | None = None,
        key: str | None = None,
        index: int | None = None,
        event: Envelope | None = None,
    ) -> DeadLetter:
        """`event`: the input read as an event (a gateway's `LineRejected` for a line that
        never became one), whose door and place in its file the letter keeps."""
        return cls(
            reason=reason,
            detail=detail,
            source=source,
            partition=partition,
            offset=offset,
            index=index,
            key=key,
            door=None if event is None else event.source,
            source_ref=None if event is None else event.source_ref,
            original_b64=base64.b64encode(original).decode("ascii"),
            recorded_at=recorded_at,
        )
