"""A reseller alias's mapping steps as an event-sourced audit aggregate (docs/IDENTITY.md).

One `PartyAlias` per alias key (`id|distributor|alias_id`, or `na|distributor|digest` for
an alias sent by name: no key spells a name), its id derived from the key, so a resent,
redelivered or replayed step reaches the same aggregate. Each step the mapping took is one
event, `Mapped` or `Unmapped`, with who (`by`), why (`reason`), when (`at`), whether the
matcher decided (`automatic`, with its `score`) and the event that asked for it; a step
already taken (the same `event_id`) changes nothing. The steps are recorded as the
projection accepted them, in order: refusals never reach the aggregate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.identity import derived_id
from domain.timeutil import utc

StepAction = Literal["mapped", "unmapped"]


def alias_aggregate_id(alias_key: str) -> UUID:
    """The id of an alias's audit aggregate, derived from its key."""
    return derived_id("party-alias", alias_key)


class PartyAlias(Aggregate):
    """One alias: the master it means now and every mapping step that led there."""

    @staticmethod
    def create_id(alias_key: str, **_: Any) -> UUID:
        return alias_aggregate_id(alias_key)

    @event("Opened")
    def __init__(self, alias_key: str, distributor_id: str) -> None:
        self.alias_key = alias_key
        self.distributor_id = distributor_id
        self.master_id: str | None = None
        #: the events of the steps taken, in order (each is taken once)
        self.step_events: list[str] = []
        #: when the first step was taken (business time): from then on the alias counted
        self.since: datetime | None = None

    def take(
        self,
        action: StepAction,
        master_id: str,
        by: str,
        reason: str,
        at: datetime,
        event_id: str,
        automatic: bool = False,
        score: str | None = None,
    ) -> bool:
        """Record one step; False when it is recorded already."""
        if event_id in self.step_events:
            return False
        moment = utc(at, "at")
        if action == "mapped":
            self._mapped(
                master_id=master_id, by=by, reason=reason, at=moment, event_id=event_id,
                automatic=automatic, score=score,
            )  # fmt: skip
        else:
            self._unmapped(master_id=master_id, by=by, reason=reason, at=moment, event_id=event_id)
        return True

    @event("Mapped")
    def _mapped(
        self,
        master_id: str,
        by: str,
        reason: str,
        at: datetime,
        event_id: str,
        automatic: bool,
        score: str | None,
    ) -> None:
        self.master_id = master_id
        self.step_events.append(event_id)
        self.since = self.since or at

    @event("Unmapped")
    def _unmapped(self, master_id: str, by: str, reason: str, at: datetime, event_id: str) -> None:
        self.master_id = None
        self.step_events.append(event_id)
