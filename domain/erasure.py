"""A data subject's erasure as an event-sourced audit record (docs/PRIVACY.md).

It says who erased which subject, when and why, and which keys were deleted: never the
subject's name (a subject named by its name is held as a digest of it). It is recorded
before the keys are deleted, under an id derived from those keys, so an erasure run again
after a crash between the two finds its record and only deletes the keys.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.identity import derived_id


class SubjectErasure(Aggregate):
    """One `channelflow erase` of one subject (of one distributor, or of all)."""

    @staticmethod
    def create_id(
        subject: str, distributor_id: str | None, at: datetime, key_ids: list[str], **_: object
    ) -> UUID:
        """From the keys it deletes (each key exists once, so each is erased once); a request
        that found no key is its own record, told apart by its time."""
        held = sorted(key_ids) or [at.isoformat()]
        return derived_id("erasure", subject, distributor_id or "*", *held)

    def __init__(
        self,
        subject: str,
        distributor_id: str | None,
        at: datetime,
        actor_id: str,
        reason: str,
        key_ids: list[str],
    ) -> None:
        self.subject = subject
        self.distributor_id = distributor_id
        self.at = at
        self.actor_id = actor_id
        self.reason = reason
        #: the keys deleted, as "distributor/key id" (none: nothing was held)
        self.key_ids = key_ids
