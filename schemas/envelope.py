"""The envelope every event carries: version 1 of the fields common to all event types.

Its own module so that event types declared outside `schemas/events.py` (agreements, rates)
can extend it while `schemas/events.py` gathers every wired type in one union (`Event`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.types import Text, UtcDatetime

SCHEMA_VERSION: Final = 1

Source = Literal["api", "kafka", "csv", "edi867", "edi852", "edi844", "erp"]


class Envelope(BaseModel):
    """Fields every event carries: `occurred_at` is business time, `recorded_at` set at ingest."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    event_type: str
    event_id: UUID
    schema_version: Literal[1] = SCHEMA_VERSION
    occurred_at: UtcDatetime
    recorded_at: UtcDatetime | None = None
    source: Source
    #: where the gateway read it: "weekly.csv:42", "867 R-17 segment 31" (not part of the content)
    source_ref: Annotated[Text, Field(max_length=256)] | None = None

    @property
    def business_time(self) -> datetime:
        return self.occurred_at
