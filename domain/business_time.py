"""Business-date plausibility: a time an event reports must be one it can mean.

A sale dated 2062 or 9999 is a typo or a corrupted field, not a fact: applied, it would
sit in the projections' future (weeks of supply, compliance, rebate periods) for good.
What has already happened (a sale, a shipment, a count, a report's start ...) cannot lie
after the time it was recorded, give or take a tolerance for clocks and time zones; and
no date of any kind lies before the floor or at or after the horizon. A price's
`effective_from` may lie in the future (prices are published before they govern), and
`recorded_at` itself, the system's own clock, is never judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Final

from domain.timeutil import iso_z
from schemas.events import Envelope

FUTURE_DATE: Final = "future_date"
DATE_OUT_OF_RANGE: Final = "date_out_of_range"

#: fields holding the time of something that has already happened when it is recorded
#: (the envelope's occurred_at last: a parser copies the business time into it, and the
#: detail names the field the sender wrote)
HAPPENED: Final = (
    "sold_at",
    "shipped_at",
    "counted_at",
    "onboarded_at",
    "submitted_at",
    "closed_at",
    "published_at",
    "signed_at",
    "amended_at",
    "terminated_at",
    "requested_at",
    "period_start",
    "occurred_at",
)
#: every date / time field an event may have (recorded_at aside): an agreement's term, a
#: termination's last day and a rate's effective date may lie ahead
DATED: Final = (
    *HAPPENED,
    "effective_from",
    "period_end",
    "term_start",
    "term_end",
    "last_day",
    "effective_date",
)


@dataclass(frozen=True, slots=True)
class TimeRules:
    #: how far past recorded_at a business time may lie
    tolerance: timedelta = timedelta(days=1)
    floor: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    horizon: datetime = datetime(2100, 1, 1, tzinfo=UTC)
    #: how long a claim line waits for its POS line, in recorded time (docs/CLAIMS.md)
    claim_wait: timedelta = timedelta(days=30)
    #: how long a sale waits for its floor's exchange rate, in recorded time, before it is
    #: final as unpriced (docs/DESIGN.md, "Late rates")
    rate_wait: timedelta = timedelta(days=30)


def date_problem(
    event: Envelope, recorded_at: datetime, rules: TimeRules = TimeRules()
) -> tuple[str, str] | None:
    """(reason, detail) or None. reason `future_date` when a time of something that has
    already happened (`HAPPENED`: a sale's, a shipment's, a signing's, a report's
    period_start ...) lies after recorded_at + tolerance; `date_out_of_range` when any
    date/time field of the event (`DATED`: also effective_from, period_end, an agreement's
    term) lies before the floor or at/after the horizon. detail names
    the field and the value, e.g. "sold_at: 2062-08-18T00:00:00Z is after the time it was
    recorded (2026-12-05T10:00:00Z) plus 1 day"."""
    floor, horizon = rules.floor, rules.horizon
    happened: list[tuple[str, datetime | date, datetime]] = []
    for name, has_happened in _dated_fields(type(event)):  # one pass: this runs per line
        value = getattr(event, name)
        if value is None:
            continue
        moment = value if isinstance(value, datetime) else _moment(value)
        if moment < floor:
            return DATE_OUT_OF_RANGE, (
                f"{name}: {_text(value)} is before {iso_z(floor)}, the earliest time accepted"
            )
        if moment >= horizon:
            return DATE_OUT_OF_RANGE, (
                f"{name}: {_text(value)} is not before {iso_z(horizon)}, where the times "
                "accepted end"
            )
        if has_happened:
            happened.append((name, value, moment))
    latest = recorded_at + rules.tolerance
    for name, value, moment in happened:
        if moment > latest:
            return FUTURE_DATE, (
                f"{name}: {_text(value)} is after the time it was recorded "
                f"({iso_z(recorded_at)}){_plus(rules.tolerance)}"
            )
    return None


@cache
def _dated_fields(event_type: type[Envelope]) -> tuple[tuple[str, bool], ...]:
    """The DATED fields an event type has, in DATED's order, each with whether it is one
    of HAPPENED (looked up once per type: asking a pydantic model for a field it lacks is
    slow)."""
    return tuple((name, name in HAPPENED) for name in DATED if name in event_type.model_fields)


def _moment(value: datetime | date) -> datetime:
    """A date is its first instant, 00:00 UTC."""
    return value if isinstance(value, datetime) else datetime.combine(value, time(), UTC)


def _text(value: datetime | date) -> str:
    return iso_z(value) if isinstance(value, datetime) else value.isoformat()


def _plus(tolerance: timedelta) -> str:
    if not tolerance:
        return ""
    days, rest = divmod(tolerance, timedelta(days=1))
    hours, rest = divmod(rest, timedelta(hours=1))
    if not rest and not (days and hours):
        count, unit = (days, "day") if days else (hours, "hour")
        return f" plus {count} {unit}{'s' if count != 1 else ''}"
    return f" plus {tolerance}"
