"""A distributor's agreements as state: every version and termination, in one timeline.

One `AgreementTimeline` per distributor, bounded by its agreements and amendments (a
handful a year), never by its movements. Signing, amending and terminating are pure:
they return a new timeline and never touch the one passed in; an input at or below the
timeline's applied position changes nothing (`projections.positions`). Which version
governs a day or a period is `domain.agreements` (`version_on`, `governing`).

Duplicates: the same signing, amendment or termination again (same content, any
envelope) changes nothing; other content under the same agreement or amendment id is a
`conflicting_duplicate`. An amendment amends the version in effect on its
`effective_from` (as known when it is recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.agreements import (
    AgreementEnd,
    AgreementVersion,
    agreement_problems,
    governing,
    last_day,
    version_on,
)
from domain.identity import content_fingerprint
from domain.timeutil import utc
from projections.positions import Position, advance
from schemas.agreements import (
    AgreementTerms,
    DistributorAgreementAmended,
    DistributorAgreementSigned,
    DistributorAgreementTerminated,
)


class AgreementProblem(ValueError):
    """An agreement event that cannot apply; `reason` is the dead-letter reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AgreementTimeline:
    """Every version and termination of one distributor's agreements."""

    distributor_id: str
    versions: tuple[AgreementVersion, ...] = ()
    ends: tuple[AgreementEnd, ...] = ()
    #: "sign|A", "amend|A|M1", "end|A|<fingerprint>" -> content fingerprint
    seen: dict[str, str] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    def on(self, day: date, known_at: datetime | None = None) -> AgreementVersion | None:
        """The version governing `day` (as known at `known_at`)."""
        return version_on(self.versions, self.ends, day, known_at)

    def governing(
        self, first: date, last: date, closed_at: datetime | None
    ) -> AgreementVersion | None:
        """The version governing a period, as known when it closed."""
        return governing(self.versions, self.ends, first, last, closed_at)

    def of(self, agreement_id: str) -> tuple[AgreementVersion, ...]:
        return tuple(v for v in self.versions if v.agreement_id == agreement_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "d": self.distributor_id,
            "versions": [_version_json(v) for v in self.versions],
            "ends": [
                [e.agreement_id, e.last_day.isoformat(), e.recorded_at.isoformat(), str(e.event_id)]
                for e in self.ends
            ],
            "seen": self.seen,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgreementTimeline:
        ends = tuple(
            AgreementEnd(a, date.fromisoformat(d), datetime.fromisoformat(r), UUID(e))
            for a, d, r, e in data["ends"]
        )
        versions = tuple(_version_of(data["d"], v) for v in data["versions"])
        return cls(data["d"], versions, ends, dict(data["seen"]), dict(data["applied"]))


def _version_json(version: AgreementVersion) -> dict[str, Any]:
    return {
        "a": version.agreement_id,
        "v": version.version_id,
        "cur": version.currency,
        "start": version.term_start.isoformat(),
        "from": version.effective_from.isoformat(),
        "terms": version.terms.model_dump(mode="json"),
        "at": version.recorded_at.isoformat(),
        "ev": str(version.event_id),
        "seq": version.seq,
    }


def _version_of(distributor_id: str, data: dict[str, Any]) -> AgreementVersion:
    return AgreementVersion(
        agreement_id=data["a"],
        distributor_id=distributor_id,
        version_id=data["v"],
        currency=data["cur"],
        term_start=date.fromisoformat(data["start"]),
        effective_from=date.fromisoformat(data["from"]),
        terms=AgreementTerms.model_validate(data["terms"]),
        recorded_at=datetime.fromisoformat(data["at"]),
        event_id=UUID(data["ev"]),
        seq=data["seq"],
    )


def sign(
    timeline: AgreementTimeline | None,
    event: DistributorAgreementSigned,
    recorded_at: datetime,
    position: Position | None,
) -> AgreementTimeline:
    """A new agreement, governing from its term_start."""
    current = timeline or AgreementTimeline(event.distributor_id)
    moved = _moved(current, event.distributor_id, position)
    key = f"sign|{event.agreement_id}"
    if moved is None or _repeated(current, key, content_fingerprint(event)):
        return current
    version = AgreementVersion(
        agreement_id=event.agreement_id,
        distributor_id=event.distributor_id,
        version_id=event.agreement_id,
        currency=event.currency,
        term_start=event.term_start,
        effective_from=event.term_start,
        terms=event.terms(),
        recorded_at=utc(recorded_at, "recorded_at"),
        event_id=event.event_id,
        seq=len(current.versions),
    )
    return _appended(current, moved, key, content_fingerprint(event), version)


def amend(
    timeline: AgreementTimeline | None,
    event: DistributorAgreementAmended,
    recorded_at: datetime,
    position: Position | None,
) -> AgreementTimeline:
    """The sections the amendment gives replace those of the version in effect on its
    effective_from, from that day on."""
    current = timeline or AgreementTimeline(event.distributor_id)
    moved = _moved(current, event.distributor_id, position)
    key = f"amend|{event.agreement_id}|{event.amendment_id}"
    if moved is None or _repeated(current, key, content_fingerprint(event)):
        return current
    base = _amended_base(current, event)
    version = replace(
        base,
        version_id=event.amendment_id,
        effective_from=event.effective_from,
        terms=base.terms.model_copy(update=event.changes()),
        recorded_at=utc(recorded_at, "recorded_at"),
        event_id=event.event_id,
        seq=len(current.versions),
    )
    return _appended(current, moved, key, content_fingerprint(event), version)


def terminate(
    timeline: AgreementTimeline | None,
    event: DistributorAgreementTerminated,
    recorded_at: datetime,
    position: Position | None,
) -> AgreementTimeline:
    """The agreement governs no day after `last_day` (a termination never extends it)."""
    current = timeline or AgreementTimeline(event.distributor_id)
    moved = _moved(current, event.distributor_id, position)
    fingerprint = content_fingerprint(event)
    key = f"end|{event.agreement_id}|{fingerprint}"
    if moved is None or _repeated(current, key, fingerprint):
        return current
    if not current.of(event.agreement_id):
        raise AgreementProblem(
            "unknown_agreement", f"termination of unknown agreement {event.agreement_id!r}"
        )
    end = AgreementEnd(
        event.agreement_id, event.last_day, utc(recorded_at, "recorded_at"), event.event_id
    )
    return _with(moved, key, fingerprint, ends=(*current.ends, end))


def _amended_base(
    timeline: AgreementTimeline, event: DistributorAgreementAmended
) -> AgreementVersion:
    versions = timeline.of(event.agreement_id)
    if not versions:
        raise AgreementProblem(
            "unknown_agreement",
            f"amendment {event.amendment_id!r} of unknown agreement {event.agreement_id!r}",
        )
    started = [v for v in versions if v.effective_from <= event.effective_from]
    if not started:
        raise AgreementProblem(
            "invalid_agreement",
            f"amendment {event.amendment_id!r}: effective_from {event.effective_from} is "
            f"before the agreement's term_start {versions[0].term_start}",
        )
    base = max(started, key=lambda v: (v.effective_from, v.seq))
    if event.effective_from > last_day(base, timeline.ends):
        raise AgreementProblem(
            "invalid_agreement",
            f"amendment {event.amendment_id!r}: effective_from {event.effective_from} is "
            "after the agreement's last day",
        )
    return base


def _appended(
    current: AgreementTimeline,
    moved: AgreementTimeline,
    key: str,
    fingerprint: str,
    version: AgreementVersion,
) -> AgreementTimeline:
    """`moved` with `version` added, once its terms are valid and overlap no other agreement."""
    terms = version.terms
    check_terms(version.agreement_id, terms, version.term_start)
    _check_no_overlap(current, version.agreement_id, version.term_start, terms.term_end)
    return _with(moved, key, fingerprint, versions=(*current.versions, version))


def check_terms(agreement_id: str, terms: AgreementTerms, term_start: date) -> None:
    """Raise `invalid_agreement` naming every problem of the terms (also the ingest
    gateway's answer to a signing)."""
    problems = agreement_problems(terms, term_start)
    if problems:
        raise AgreementProblem(
            "invalid_agreement", f"agreement {agreement_id!r}: " + "; ".join(problems)
        )


def _check_no_overlap(
    timeline: AgreementTimeline, agreement_id: str, start: date, end: date
) -> None:
    """A distributor has one agreement at a time."""
    others = {v.agreement_id for v in timeline.versions if v.agreement_id != agreement_id}
    for other in sorted(others):
        versions = timeline.of(other)
        latest = max(versions, key=lambda v: (v.effective_from, v.seq))
        other_start, other_end = versions[0].term_start, last_day(latest, timeline.ends)
        if start <= other_end and other_start <= end:
            raise AgreementProblem(
                "overlapping_agreement",
                f"agreement {agreement_id!r} ({start}..{end}) overlaps agreement {other!r} "
                f"({other_start}..{other_end}): terminate it first",
            )


def _moved(
    timeline: AgreementTimeline, distributor_id: str, position: Position | None
) -> AgreementTimeline | None:
    if distributor_id != timeline.distributor_id:
        raise ValueError(
            f"an event of {distributor_id!r} applied to the timeline of {timeline.distributor_id!r}"
        )
    applied = advance(timeline.applied, position)
    return None if applied is None else replace(timeline, applied=applied)


def _repeated(timeline: AgreementTimeline, key: str, fingerprint: str) -> bool:
    """True for a duplicate; a conflicting one raises."""
    known = timeline.seen.get(key)
    if known is None:
        return False
    if known != fingerprint:
        raise AgreementProblem(
            "conflicting_duplicate",
            f"{key.replace('|', ' ')} exists with other content: send an amendment instead",
        )
    return True


def _with(
    timeline: AgreementTimeline, key: str, fingerprint: str, **changes: Any
) -> AgreementTimeline:
    return replace(timeline, seen={**timeline.seen, key: fingerprint}, **changes)
