"""The agreement and exchange-rate rows the API answers (schemas/rows/agreements.py).

Both read entity-bounded stores: a distributor's timeline is a handful of versions a
year, and the rates are reference data by pair and month.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.agreements import AgreementVersion, last_day
from domain.timeutil import iso_z
from projections.agreement_timeline import AgreementTimeline
from projections.exchange_rates import RateMonth
from projections.stores import ChannelStores

Row = dict[str, Any]


def timelines_in_scope(
    stores: ChannelStores, distributor_id: str | None
) -> list[AgreementTimeline]:
    """The agreement timelines of one distributor (None: of every distributor)."""
    if distributor_id is None:
        return list(stores.agreements.values())
    timeline = stores.agreements.get(distributor_id)
    return [] if timeline is None else [timeline]


def agreement_rows(
    stores: ChannelStores, today: date | None, distributor_id: str | None
) -> list[Row]:
    """Every version of the distributors' agreements (one distributor's, if given), by
    distributor, agreement and the order they were recorded; `in_effect` on `today`."""
    rows = []
    for timeline in timelines_in_scope(stores, distributor_id):
        current = None if today is None else timeline.on(today)
        for version in sorted(timeline.versions, key=lambda v: (v.agreement_id, v.seq)):
            rows.append(_agreement_row(timeline, version, version is current))
    return rows


def _agreement_row(timeline: AgreementTimeline, version: AgreementVersion, current: bool) -> Row:
    ended = any(end.agreement_id == version.agreement_id for end in timeline.ends)
    return {
        "distributor_id": version.distributor_id,
        "agreement_id": version.agreement_id,
        "version_id": version.version_id,
        "currency": version.currency,
        "term_start": version.term_start.isoformat(),
        "effective_from": version.effective_from.isoformat(),
        "last_day": last_day(version, timeline.ends).isoformat(),
        "terminated": ended,
        "in_effect": current,
        "recorded_at": iso_z(version.recorded_at),
        "event_id": str(version.event_id),
        "terms": version.terms.model_dump(mode="json"),
    }


def rate_rows(stores: ChannelStores) -> list[Row]:
    """Every rate publication, by pair, then effective date and recorded time."""
    return [row for month in stores.rates.values() for row in _month_rows(month)]


def _month_rows(month: RateMonth) -> list[Row]:
    return [
        {
            "from_currency": month.from_currency,
            "to_currency": month.to_currency,
            "rate": str(entry.rate),
            "effective_date": entry.effective_date.isoformat(),
            "recorded_at": iso_z(entry.recorded_at),
            "event_id": str(entry.event_id),
        }
        for entry in month.entries
    ]
