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


#: what a producer is told of the fields the gateway sets (the JSON Schema files say it)
GATEWAY_SETS: Final = "set by the gateway: whatever a producer sends here is replaced"


class Envelope(BaseModel):
    """Fields every event carries: `occurred_at` is business time, `recorded_at` set at ingest.

    A producer sends `event_id` and `occurred_at`; `recorded_at`, `source` and `source_ref`
    are the gateway's (docs/INGEST.md): an event produced straight to Kafka without a
    source has the source `kafka`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    event_type: str
    event_id: UUID = Field(
        description="the producer's id of this event, required: a resend of the same event "
        "(a retry) carries the same id and is recognized as such, never counted again"
    )
    schema_version: Literal[1] = SCHEMA_VERSION
    occurred_at: UtcDatetime = Field(description="when the fact happened (business time)")
    recorded_at: UtcDatetime | None = Field(
        default=None, description=f"the time of receipt, {GATEWAY_SETS} (on Kafka: the append time)"
    )
    source: Source = Field(
        default="kafka",
        description=f"the door the event came in by, {GATEWAY_SETS} (produced straight to "
        "Kafka: `kafka` when left out)",
    )
    #: where the gateway read it: "weekly.csv:42", "867 R-17 segment 31" (not part of the content)
    source_ref: Annotated[Text, Field(max_length=256)] | None = Field(
        default=None, description=f"where the event was read, {GATEWAY_SETS}"
    )

    @property
    def business_time(self) -> datetime:
        return self.occurred_at
