"""The dead-letter record: what was rejected, why, and from where, with its original bytes."""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, ConfigDict


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
    original_b64: str  # the input exactly as received
    recorded_at: datetime

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
    ) -> DeadLetter:
        return cls(
            reason=reason,
            detail=detail,
            source=source,
            partition=partition,
            offset=offset,
            index=index,
            key=key,
            original_b64=base64.b64encode(original).decode("ascii"),
            recorded_at=recorded_at,
        )
